import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Plugin, ResponseToolkit } from '@hapi/hapi'

/** The demo page: the widget inline, filling the window, in room `lobby`. Open it twice to chat. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confab demo</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  confab-chat { flex: 1; display: block; min-height: 0; }
</style>
</head>
<body>
<script src="/widget.js" data-room="lobby" data-mode="inline" async></script>
</body>
</html>
`

/**
 * The operator inbox: `<confab-inbox>` filling the window. No inline script or style (inbox.js adopts its
 * stylesheets), so the page is served with a strict Content-Security-Policy; the operator key arrives in the
 * `#key=` fragment, which browsers never send to a server.
 */
export const INBOX_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Confab inbox</title>
<script src="/inbox.js" defer></script>
</head>
<body>
<confab-inbox fullscreen></confab-inbox>
</body>
</html>
`

/** The inbox page's policy: its own script and socket, nothing inline, never framed (clickjacking an operator). */
const INBOX_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Where one of the widget package's IIFE bundles lives: the installed `@confab/widget` package. */
function bundlePath(file: 'widget.js' | 'inbox.js'): string {
  return createRequire(import.meta.url).resolve(`@confab/widget/${file}`)
}

interface Cached {
  mtime: number
  body: Buffer
  etag: string
}

/** Reads a bundle once and again only when the file changes (a rebuild). */
class WidgetFile {
  #cached: Cached | null = null

  constructor(private readonly file: 'widget.js' | 'inbox.js' = 'widget.js') {}

  async get(): Promise<Cached | null> {
    let path: string
    try {
      path = bundlePath(this.file)
    } catch {
      return null // @confab/widget is not installed beside the relay
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null
      throw error
    })
    if (info === null) return null
    if (this.#cached?.mtime !== info.mtimeMs) {
      const body = await readFile(path)
      const etag = createHash('sha256').update(body).digest('base64url').slice(0, 27)
      this.#cached = { mtime: info.mtimeMs, body, etag }
    }
    return this.#cached
  }
}

/** Which of the two routes to serve. */
export interface DemoOptions {
  /** `/`: the demo page. */
  page: boolean
  /** `/widget.js`: the widget bundle; also `/inbox` and `/inbox.js`, the operator console. */
  widget: boolean
}

/**
 * Routes `/` (the demo page), `/widget.js` (the widget bundle, with an ETag and a short cache life), and the
 * operator inbox: `/inbox` (its page) and `/inbox.js` (its bundle, like `/widget.js`).
 */
export const demoRoutes: Plugin<DemoOptions> = {
  name: 'confab-demo',
  register(server, options) {
    if (options.page) {
      server.route({
        method: 'GET',
        path: '/',
        handler: (_request, h: ResponseToolkit) => h.response(DEMO_PAGE).type('text/html; charset=utf-8'),
      })
    }
    if (!options.widget) return
    server.route({
      method: 'GET',
      path: '/inbox',
      handler: (_request, h: ResponseToolkit) =>
        h
          .response(INBOX_PAGE)
          .type('text/html; charset=utf-8')
          .header('Content-Security-Policy', INBOX_CSP)
          .header('X-Frame-Options', 'DENY')
          .header('Referrer-Policy', 'no-referrer')
          .header('Cache-Control', 'no-cache'),
    })
    for (const name of ['widget.js', 'inbox.js'] as const) bundleRoute(server, name)
  },
}

/** `GET /<name>`: one bundle of the widget package, with an ETag and a short cache life. */
function bundleRoute(server: Parameters<Plugin<DemoOptions>['register']>[0], name: 'widget.js' | 'inbox.js'): void {
  const bundle = new WidgetFile(name)
  server.route({
    method: 'GET',
    path: `/${name}`,
    handler: async (_request, h: ResponseToolkit) => {
      const file = await bundle.get()
      if (file === null) {
        return h.response(`${name} is not built: run npm run build`).code(404).type('text/plain')
      }
      return (
        h
          .response(file.body)
          .type('application/javascript; charset=utf-8')
          .etag(file.etag)
          .header('Cache-Control', 'public, max-age=300')
          // Any site may embed the widget, and the script carries no credentials: `*`, never the caller's origin.
          .header('Access-Control-Allow-Origin', '*')
      )
    },
  })
}
