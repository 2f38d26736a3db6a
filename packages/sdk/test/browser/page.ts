// A tiny site for browser tests: a page that loads the BUILT SDK (dist) with an import map
// for nanoevents, connects to the relay named in `?relay=` with the options in `?options=`
// (JSON), joins `?room=`, and exposes `client`, `room`, `seen` (texts) and `statuses` on window.
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const DIST = new URL('../../dist/', import.meta.url)
const NANOEVENTS = new URL('../../../../node_modules/nanoevents/index.js', import.meta.url)

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sdk</title>
<script type="importmap">{ "imports": { "nanoevents": "/nanoevents/index.js" } }</script>
<script type="module">
  import { connect } from '/sdk/index.js'
  const q = new URLSearchParams(location.search)
  window.statuses = []
  window.seen = []
  const client = connect(q.get('relay'), JSON.parse(q.get('options') || '{}'))
  client.on('status', (s) => window.statuses.push(s))
  const room = client.join(q.get('room') || 'lobby')
  room.on('message', (m) => window.seen.push(m.text))
  window.client = client
  window.room = room
</script>`

/** Throws a clear error when the SDK has not been built. */
export function requireDist(): void {
  if (!existsSync(new URL('index.js', DIST))) {
    throw new Error(`${DIST.pathname}index.js is missing: run \`npm run build\` first (npm test does)`)
  }
}

/** A running site on 127.0.0.1 (port 0). */
export interface Site {
  /** The page's URL for this relay, room and connect options. */
  page(relay: string, room: string, options: Record<string, unknown>): string
  close(): Promise<void>
}

/** Serves the page, the built SDK and nanoevents; nothing else. */
export async function serveSite(): Promise<Site> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const js = (file: URL) => {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(readFileSync(file))
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(PAGE)
    } else if (path === '/nanoevents/index.js') js(NANOEVENTS)
    else if (/^\/sdk\/[\w-]+\.js$/.test(path) && existsSync(new URL(path.slice(5), DIST))) {
      js(new URL(path.slice(5), DIST))
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    page: (relay, room, options) =>
      `http://127.0.0.1:${port}/?relay=${encodeURIComponent(relay)}&room=${encodeURIComponent(room)}&options=${encodeURIComponent(JSON.stringify(options))}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** What the page puts on window, for `page.evaluate` and `page.waitForFunction`. */
export interface PageGlobals {
  client: { status: string; close(): void }
  room: { send(text: string): Promise<unknown>; history(options: { limit: number }): Promise<unknown> }
  seen: string[]
  statuses: string[]
}
