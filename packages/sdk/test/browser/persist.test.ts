// In Chromium: a message typed while the relay is unreachable survives a page reload with
// `persist: true` and is delivered exactly once when the relay comes back. The page loads the
// BUILT SDK (dist) from a tiny local server, with an import map for nanoevents.
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Relay } from '@confab/relay'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { client, closeClients, joinedRoom, portOf, recorder, startRelay } from '../integration/support'

const DIST = new URL('../../dist/', import.meta.url)
const NANOEVENTS = new URL('../../../../node_modules/nanoevents/index.js', import.meta.url)

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>persist</title>
<script type="importmap">{ "imports": { "nanoevents": "/nanoevents/index.js" } }</script>
<script type="module">
  import { connect } from '/sdk/index.js'
  const relay = new URLSearchParams(location.search).get('relay')
  const client = connect(relay, { persist: true, name: 'Page', reconnect: { minDelay: 50, maxDelay: 200 } })
  const room = client.join('persist')
  window.seen = []
  room.on('message', (m) => window.seen.push(m.text))
  window.client = client
  window.room = room
</script>`

/** Serves the page, the built SDK and nanoevents; nothing else. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
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
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const skip = chromiumMissing()

describe.skipIf(skip !== null)('persist in a browser', () => {
  let relay: Relay
  let proxy: FaultProxy
  let site: Server
  let browser: Browser

  beforeAll(async () => {
    if (!existsSync(new URL('index.js', DIST))) {
      throw new Error(`${DIST.pathname}index.js is missing: run \`npm run build\` first (npm test does)`)
    }
    relay = await startRelay()
    proxy = await startFaultProxy({ port: portOf(relay) })
    site = await serve()
    browser = await launchChromium()
  })
  afterAll(async () => {
    closeClients()
    await browser?.close()
    await new Promise((resolve) => site?.close(resolve))
    await proxy?.close()
    await relay?.stop()
  })

  it('keeps a message typed offline across a reload and delivers it once when the relay is back', async () => {
    const watcher = client(relay.url, { name: 'Watcher' })
    const watched = watcher.join('persist')
    const atWatcher = recorder(watched)
    await joinedRoom(watched)

    proxy.refuse() // the relay is unreachable for the page
    const page = await browser.newPage()
    const { port } = site.address() as AddressInfo
    try {
      await page.goto(`http://127.0.0.1:${port}/?relay=${encodeURIComponent(proxy.url)}`)
      await page.waitForFunction(
        () => (window as unknown as { client?: { status: string } }).client?.status === 'reconnecting',
      )
      await page.evaluate(() => {
        const w = window as unknown as { room: { send(text: string): Promise<unknown> } }
        // The page unloads before this settles; rejection with `closed` is not the point here.
        void w.room.send('typed while offline').catch(() => {})
      })
      const stored = await page.evaluate(() => JSON.stringify(Object.entries(sessionStorage)))
      expect(stored).toContain('typed while offline')

      await page.reload()
      await page.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined)
      expect(proxy.accepted).toBeGreaterThanOrEqual(1)
      proxy.refuse(false)

      await atWatcher.count(1)
      await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.length === 1)
      await watched.send('after')
      await atWatcher.count(2)
      expect(atWatcher.texts()).toEqual(['typed while offline', 'after'])
      await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.length === 2)
      expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual([
        'typed while offline',
        'after',
      ])
      const left = await page.evaluate(() => JSON.stringify(Object.entries(sessionStorage)))
      expect(left).not.toContain('typed while offline')
    } catch (error) {
      await page.screenshot({ path: `${ARTIFACTS}sdk-persist.png` })
      throw error
    } finally {
      await page.close()
    }
  })
})
