// Shared setup for the widget's Chromium tests: the real relay on port 0, a second
// 127.0.0.1 server for host pages (another port is another origin), and page helpers.
import { existsSync } from 'node:fs'
import { createServer, type OutgoingHttpHeaders } from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Socket, connect as tcpConnect } from 'node:net'
import { resolve } from 'node:path'
import { createRelay, type Relay } from '@confab/relay'
import type { Locator, Page } from 'playwright-core'

/** The built script-tag bundle the relay serves at /widget.js. */
export const BUNDLE = resolve(__dirname, '../../dist/widget.js')

/** Throws a clear error when the widget has not been built (browser tests load the real bundle). */
export function requireBuild(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
}

/** Starts the real relay on an ephemeral 127.0.0.1 port, quiet. */
export async function startRelay(options: Parameters<typeof createRelay>[0] = {}): Promise<Relay> {
  const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: false, shutdownTimeout: 1000, ...options })
  await relay.start()
  return relay
}

/** A page the host server answers with, plus extra response headers (a CSP, say). */
export interface HostPage {
  body: string
  headers?: OutgoingHttpHeaders
}

/** A static server for host pages on its own port: a different origin from the relay. */
export interface HostServer {
  /** `http://127.0.0.1:PORT` */
  url: string
  close(): Promise<void>
}

/** Serves `pages` by path (anything else is 404) on an ephemeral 127.0.0.1 port. */
export async function startHost(pages: Record<string, HostPage>): Promise<HostServer> {
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url ?? '/', 'http://x').pathname]
    if (!page) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...page.headers }).end(page.body)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections()
        server.close((error) => (error ? fail(error) : done()))
      }),
  }
}

/** A TCP proxy in front of a server, able to drop the line (a relay restart or a lost network, as a client sees it). */
export interface Proxy {
  /** `http://127.0.0.1:PORT`, the proxy's own ephemeral port. */
  url: string
  /** Drops every open connection and refuses new ones until {@link Proxy.resume}. */
  cut(): void
  /** Lets connections through again. */
  resume(): void
  close(): Promise<void>
}

/** Starts a {@link Proxy} to `target` (an `http://host:port` URL) on an ephemeral 127.0.0.1 port. */
export async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target)
  const open = new Set<Socket>()
  let down = false
  const server = createTcpServer((client) => {
    if (down) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(Number(port), hostname)
    for (const socket of [client, upstream]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const cut = (): void => {
    for (const socket of open) socket.destroy()
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true
      cut()
    },
    resume() {
      down = false
    },
    close: () =>
      new Promise<void>((done, fail) => {
        cut()
        server.close((error) => (error ? fail(error) : done()))
      }),
  }
}

/** A minimal host page with the one-line embed; `attrs` become data-* attributes of the script tag. */
export function embedPage(relay: string, attrs: Record<string, string>, extraHead = ''): string {
  const data = Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${v}"`)
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host page</title>${extraHead}</head><body><main><h1>A site with a chat</h1><p>Some content.</p></main><script src="${relay}/widget.js"${data} async></script></body></html>`
}

/** Locator inside the widget's shadow DOM (playwright's CSS engine pierces open shadow roots). */
export function w(page: Page, selector: string): Locator {
  return page.locator(`confab-chat ${selector}`)
}

/** Types `text` into the message input and presses Enter, then waits until it is stored (no longer pending). */
export async function say(page: Page, text: string): Promise<void> {
  await w(page, '[part=input]').fill(text)
  await w(page, '[part=input]').press('Enter')
  await w(page, '[part~=message-own]:not(.pending)').filter({ hasText: text }).last().waitFor()
}

/** Stores a message through the relay's HTTP API (as a bot would), so pages have something to show. */
export async function post(
  relay: Relay,
  room: string,
  text: string,
  from = { id: 'bot-kira', name: 'Kira' },
): Promise<void> {
  const res = await fetch(`${relay.url}/v1/rooms/${encodeURIComponent(room)}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, from }),
  })
  if (!res.ok) throw new Error(`POST message: ${res.status} ${await res.text()}`)
}

/** Opens the launcher and waits for the panel's entrance animation to finish (measurements need the final frame). */
export async function openPanel(page: Page, how: 'click' | 'tap' = 'click'): Promise<void> {
  await w(page, '[part=launcher]')[how]()
  await w(page, '[part=panel]').evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)))
}
