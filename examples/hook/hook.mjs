// A Confab beforePublish hook over HTTP: refuses messages with a banned word
// and links from guests. Run it, then start the relay with
//   CONFAB_HOOK_URL=http://127.0.0.1:8787/ npx confab-relay
// Options: PORT (default 8787), WORDS (comma-separated, default "spam,scam").
import { createServer } from 'node:http'

const port = Number(process.env.PORT ?? 8787)
const words = (process.env.WORDS ?? 'spam,scam')
  .split(',')
  .map((w) => w.trim().toLowerCase())
  .filter(Boolean)
const LINK = /\bhttps?:\/\/|\bwww\./i

/** The verdict for one message: { action: 'accept' | 'reject' | 'modify', ... }. */
export function verdict({ user, message }) {
  const lower = message.text.toLowerCase()
  const word = words.find((w) => lower.includes(w))
  if (word) return { action: 'reject', code: 'forbidden', message: `"${word}" is not allowed here` }
  if (user.role === 'guest' && LINK.test(message.text)) {
    return { action: 'reject', code: 'forbidden', message: 'guests cannot post links' }
  }
  return { action: 'accept' }
}

export function createHook() {
  return createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405).end()
      return
    }
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => {
      body += chunk
      // The relay sends small bodies: anything larger is not the relay.
      if (body.length > 100_000) request.destroy()
    })
    request.on('end', () => {
      let answer
      try {
        answer = verdict(JSON.parse(body))
      } catch {
        response.writeHead(400).end()
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    })
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  createHook().listen(port, '127.0.0.1', () => console.log(`hook listening on http://127.0.0.1:${port}/`))
}
