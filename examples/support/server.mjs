#!/usr/bin/env node
// A support site: visitors chat with the team through the widget in conversation mode, and the team answers from
// the relay's inbox element on this site's own /operator page. The relay runs with CONFAB_JWT_SECRET, so every
// connection needs a token; this backend mints them: a visitor token per browser (a cookie keeps the visitor's id,
// so the thread survives return visits) and an operator token (`role: "operator"`) after a staff sign-in.
//
//   CONFAB_JWT_SECRET=... npx confab-relay            # the relay, on :8080
//   CONFAB_JWT_SECRET=... STAFF_PASSWORD=... node examples/support/server.mjs
//
// Environment: CONFAB_JWT_SECRET (the relay's, at least 32 characters), STAFF_PASSWORD (the operators' shared
// password; use your real staff sign-in instead), RELAY (default http://localhost:8080), PORT (default 3000).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** An HS256 JWT: the relay checks the signature, `sub`, `exp`, and reads `name` and `role`. */
export function sign(claims, secret, ttlSeconds) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, iat: now, exp: now + ttlSeconds })}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

/** Text for an HTML attribute or element: the names and tokens below never become markup. */
const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

const page = (title, body) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/site.css">
</head>
<body>
${body}
</body>
</html>
`

const CSS = `html, body { margin: 0; height: 100%; font: 16px/1.5 system-ui, sans-serif; }
main { max-width: 640px; margin: 0 auto; padding: 32px 20px; }
form { display: grid; gap: 10px; max-width: 320px; }
input, button { font: inherit; padding: 8px 10px; }
`

/** Reads `name=value` cookies. */
function cookies(req) {
  return Object.fromEntries(
    (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .filter(([k, v]) => k && v),
  )
}

/** Reads a small urlencoded form body (the staff sign-in). */
async function form(req) {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 4096) throw new Error('form too large')
  }
  return Object.fromEntries(new URLSearchParams(body))
}

/** Starts the site; resolves with the listening server. Options default to the environment. */
export function start({
  secret = process.env.CONFAB_JWT_SECRET,
  staffPassword = process.env.STAFF_PASSWORD,
  relay = process.env.RELAY ?? 'http://localhost:8080',
  port = Number(process.env.PORT ?? 3000),
  host = '127.0.0.1',
} = {}) {
  if (!secret || secret.length < 32)
    throw new Error('set CONFAB_JWT_SECRET (at least 32 characters), the same as the relay')
  if (!staffPassword) throw new Error('set STAFF_PASSWORD, the password of the /operator sign-in')
  const password = Buffer.from(staffPassword)

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status, type, body, headers = {}) =>
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(body)

    if (url.pathname === '/site.css') return send(200, 'text/css; charset=utf-8', CSS)

    if (url.pathname === '/' && req.method === 'GET') {
      // The visitor's id lives in an HttpOnly cookie: the same browser gets the same conversation on every visit.
      let id = cookies(req).visitor
      const headers = {}
      if (!/^[a-f0-9]{32}$/.test(id ?? '')) {
        id = randomBytes(16).toString('hex')
        headers['set-cookie'] = `visitor=${id}; HttpOnly; SameSite=Lax; Path=/; Max-Age=31536000`
      }
      const token = sign({ sub: `visitor_${id}`, name: 'Visitor' }, secret, 12 * 3600)
      const body = `<main>
<h1>Acme Widgets</h1>
<p>Questions about an order? Use the chat button: our team answers here, or by email when nobody is in.</p>
</main>
<script src="${esc(relay)}/widget.js" data-conversation data-token="${esc(token)}" data-team="Acme support"
  data-greeting="Hi! Ask us about your order." data-reply-time="a few hours" async></script>`
      return send(200, 'text/html; charset=utf-8', page('Acme Widgets', body), headers)
    }

    if (url.pathname === '/operator' && req.method === 'GET') {
      const body = `<main>
<h1>Acme support: sign in</h1>
<form method="post" action="/operator">
<label>Your name <input name="name" required maxlength="40" autocomplete="name"></label>
<label>Staff password <input name="password" type="password" required autocomplete="current-password"></label>
<button>Open the inbox</button>
</form>
</main>`
      return send(200, 'text/html; charset=utf-8', page('Sign in', body))
    }

    if (url.pathname === '/operator' && req.method === 'POST') {
      const { name = '', password: given = '' } = await form(req).catch(() => ({}))
      const ok = Buffer.from(given).length === password.length && timingSafeEqual(Buffer.from(given), password)
      if (!ok || !name.trim()) return send(403, 'text/plain; charset=utf-8', 'wrong password')
      // `role: "operator"` is what makes this user an operator for the relay; only this backend can sign it.
      const sub = `staff_${createHmac('sha256', secret).update(name.trim()).digest('hex').slice(0, 16)}`
      const token = sign({ sub, name: name.trim(), role: 'operator' }, secret, 8 * 3600)
      const body = `<confab-inbox fullscreen relay="${esc(relay)}" token="${esc(token)}"></confab-inbox>
<script src="${esc(relay)}/inbox.js" async></script>`
      return send(200, 'text/html; charset=utf-8', page('Acme inbox', body))
    }

    send(404, 'text/plain; charset=utf-8', 'not found')
  })
  return new Promise((done) => server.listen(port, host, () => done(server)))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await start()
  const { port } = server.address()
  console.log(`Acme support site on http://localhost:${port}/ (visitors) and http://localhost:${port}/operator (team)`)
}
