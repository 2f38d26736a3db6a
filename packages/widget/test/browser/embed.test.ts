import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Relay } from '@confab/relay'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: the example server is plain JavaScript without type declarations
import { serve } from '../../../../examples/embed/serve.mjs'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import {
  embedPage,
  type HostPage,
  type HostServer,
  post,
  requireBuild,
  say,
  startHost,
  startProxy,
  startRelay,
  w,
} from './support'

const skip = chromiumMissing()

describe.skipIf(skip)('script-tag embed on another origin', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const pages: Record<string, HostPage> = {}
  const open: Page[] = []

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    // Only the host page's origin may open sockets: proves the embed really is cross-origin.
    relay = await startRelay({ origins: [host.url] })
    pages['/'] = { body: embedPage(relay.url, { room: 'embed' }) }
    pages['/ada'] = { body: embedPage(relay.url, { room: 'duo', name: 'Ada' }) }
    pages['/bo'] = { body: embedPage(relay.url, { room: 'duo', name: 'Bo' }) }
    pages['/twice'] = {
      body: embedPage(relay.url, { room: 'embed', name: 'Twice' }).replace(
        '</body>',
        `<script src="${relay.url}/widget.js" data-room="embed" async></script></body>`,
      ),
    }
    pages['/paging'] = { body: embedPage(relay.url, { room: 'paging', name: 'Pia', open: '' }) }
    pages['/markup'] = {
      body: embedPage(relay.url, {}).replace(
        '<script',
        `<confab-chat relay="${relay.url}" room="markup" name="Mo" mode="inline"></confab-chat><script`,
      ),
    }
    pages['/unread'] = { body: embedPage(relay.url, { room: 'unread', name: 'Una' }) }
    browser = await launchChromium()
  })

  afterEach(async () => {
    for (const page of open.splice(0)) await page.context().close()
  })

  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
    await host?.close()
  })

  async function visit(path: string): Promise<Page> {
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    open.push(page)
    await page.addInitScript(() => {
      const w = window as unknown as { readyEvents: string[] }
      w.readyEvents = []
      document.addEventListener('confab-ready', (e) => {
        w.readyEvents.push((e as CustomEvent<{ element: Element }>).detail.element.tagName)
      })
    })
    await page.goto(host.url + path)
    return page
  }

  it('mounts a launcher from its own data-* attributes, defaults the relay to the script origin and fires confab-ready', async () => {
    const page = await visit('/')
    expect(new URL(page.url()).origin).not.toBe(relay.url)
    await w(page, '[part=launcher]').waitFor()
    expect(await page.evaluate(() => (window as unknown as { readyEvents: string[] }).readyEvents)).toEqual([
      'CONFAB-CHAT',
    ])
    expect(await page.locator('confab-chat').getAttribute('room')).toBe('embed')
    expect(await page.locator('confab-chat').getAttribute('relay')).toBeNull()
    await page.screenshot({ path: `${ARTIFACTS}widget-launcher-closed.png` })
  })

  it('connects only when the launcher is opened', async () => {
    const page = await visit('/ada')
    const sockets: string[] = []
    page.on('websocket', (ws) => sockets.push(ws.url()))
    await w(page, '[part=launcher]').waitFor()
    expect(sockets).toEqual([])
    await w(page, '[part=launcher]').click()
    await w(page, '[part=presence]').filter({ hasText: 'online' }).waitFor()
    expect(sockets).toEqual([`${relay.url.replace('http', 'ws')}/ws`])
  })

  it('opens one WebSocket for the <confab-chat> markup upgraded by the async script', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    open.push(page)
    await page.addInitScript(() => {
      const counted = window as unknown as { sockets: number }
      counted.sockets = 0
      const Native = WebSocket
      window.WebSocket = class extends Native {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args)
          counted.sockets++
        }
      }
    })
    await page.goto(`${host.url}/markup`)
    await w(page, '[part=presence]').filter({ hasText: '1 online' }).waitFor()
    expect(await page.evaluate(() => (window as unknown as { sockets: number }).sockets)).toBe(1)
  })

  it('loading the script twice mounts one widget and stays harmless', async () => {
    const page = await visit('/twice')
    await page.waitForFunction(() => (window as unknown as { readyEvents: string[] }).readyEvents.length === 2)
    expect(await page.locator('confab-chat').count()).toBe(1)
  })

  it('two pages chat: text, presence and typing reach the other page', async () => {
    const ada = await visit('/ada')
    const bo = await visit('/bo')
    for (const page of [ada, bo]) await w(page, '[part=launcher]').click()
    await w(ada, '[part=presence]').filter({ hasText: '2 online' }).waitFor()
    await say(ada, 'Hello from Ada, see https://example.com')
    await w(bo, '[part=bubble]').filter({ hasText: 'Hello from Ada' }).waitFor()
    expect(await w(bo, '[part=author]').last().textContent()).toBe('Ada')
    expect(await w(bo, '[part=bubble] a').getAttribute('href')).toBe('https://example.com/')

    await w(bo, '[part=input]').pressSequentially('Hi A')
    await w(ada, '[part=typing]').filter({ hasText: 'Bo is typing…' }).waitFor()
    await w(bo, '[part=input]').press('Enter')
    await w(ada, '[part=bubble]').filter({ hasText: 'Hi A' }).waitFor()
    await ada.screenshot({ path: `${ARTIFACTS}widget-launcher-open.png` })
  })

  it('asks for a name once, remembers it, and reconnects on reload with the panel as it was', async () => {
    const page = await visit('/')
    await w(page, '[part=launcher]').click()
    await w(page, '[part=name-input]').fill('Cleo')
    await w(page, '[part=name-input]').press('Enter')
    await say(page, 'first words')
    const sockets: string[] = []
    page.on('websocket', (ws) => sockets.push(ws.url()))
    await page.reload()
    // Active in this tab: the widget connects at load, and the panel is open again, as the visitor left it.
    await expect.poll(() => sockets.length).toBe(1)
    await w(page, '[part=panel]').waitFor()
    expect(await w(page, '[part=launcher]').getAttribute('aria-expanded')).toBe('true')
    expect(await w(page, '[part=name-form]').isHidden()).toBe(true)
    await w(page, '[part=bubble]').filter({ hasText: 'first words' }).waitFor()
  })

  it('counts messages that arrive while the panel is closed on the unread badge', async () => {
    const una = await visit('/unread')
    await w(una, '[part=launcher]').click()
    await w(una, '[part=presence]').filter({ hasText: 'online' }).waitFor()
    await w(una, '[part=input]').press('Escape')
    const other = await visit('/unread')
    await w(other, '[part=launcher]').click()
    await say(other, 'are you there?')
    await w(una, '[part=badge]').filter({ hasText: '1' }).waitFor()
    expect(await w(una, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat, 1 unread')
  })
  it('pages back through history when scrolled to the top, and marks new messages instead of jumping', async () => {
    for (let i = 1; i <= 60; i++) await post(relay, 'paging', `history ${i}`)
    const page = await visit('/paging')
    const bubbles = w(page, '[part=bubble]')
    await bubbles.filter({ hasText: 'history 60' }).waitFor()
    expect(await bubbles.count()).toBe(50)
    expect(await bubbles.first().textContent()).toBe('history 11')

    const log = w(page, '[part=log]')
    expect(await w(page, '[part=load-earlier]').isVisible()).toBe(true)
    // Scrolling to the top loads the previous page (the button does the same for keyboard users).
    await log.evaluate((el) => {
      el.scrollTop = 0
    })
    await bubbles.filter({ hasText: /^history 1$/ }).waitFor()
    expect(await bubbles.count()).toBe(60)
    expect(await w(page, '[part=load-earlier]').isHidden()).toBe(true)

    // Scrolled up: a new message shows the marker and leaves the reader where they were.
    await log.evaluate((el) => {
      el.scrollTop = 100
    })
    await post(relay, 'paging', 'arrives while reading')
    await w(page, '[part=new-messages]').waitFor()
    expect(await log.evaluate((el) => el.scrollTop)).toBe(100)
    await w(page, '[part=new-messages]').click()
    await w(page, '[part=new-messages]').waitFor({ state: 'hidden' })
    expect(await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(2)
  })

  it('says "Reconnecting..." while the relay is out of reach, then carries on', async () => {
    // The page reaches the relay through a proxy on its own ephemeral port, which the test cuts and restores.
    const own = await startRelay()
    const line = await startProxy(own.url)
    try {
      pages['/restart'] = { body: embedPage(line.url, { room: 'restart', name: 'Rex', mode: 'inline' }) }
      const page = await visit('/restart')
      await w(page, '[part=presence]').filter({ hasText: '1 online' }).waitFor()
      line.cut()
      const banner = w(page, '[part=banner]')
      await banner.filter({ hasText: 'Reconnecting...' }).waitFor()
      line.resume()
      await banner.waitFor({ state: 'hidden', timeout: 15_000 })
      await say(page, 'back again')
    } finally {
      await line.close()
      await own.stop()
    }
  })

  describe('examples', () => {
    const servers: Server[] = []
    // A relay of their own: the suite's relay only admits the host page's origin.
    let anyOrigin: Relay
    beforeAll(async () => {
      anyOrigin = await startRelay()
    })
    afterAll(async () => {
      await anyOrigin?.stop()
      for (const server of servers) {
        server.closeAllConnections()
        await new Promise((done) => server.close(done))
      }
    })

    /** Serves examples/NAME on a free port, pointed at the test relay, and opens it. */
    async function example(name: string): Promise<Page> {
      const dir = fileURLToPath(new URL(`../../../../examples/${name}/`, import.meta.url))
      const server: Server = await serve({ dir, port: 0, relay: anyOrigin.url })
      servers.push(server)
      const context = await browser.newContext()
      context.setDefaultTimeout(10_000)
      const page = await context.newPage()
      open.push(page)
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      return page
    }

    it('examples/embed mounts the launcher with its data-title', async () => {
      const page = await example('embed')
      await w(page, '[part=launcher]').click()
      expect(await w(page, '[part=title]').textContent()).toBe('Acme support')
    })

    it('examples/inline places an inline widget themed by custom properties', async () => {
      const page = await example('inline')
      await w(page, '[part=name-input]').fill('Ink')
      await w(page, '[part=name-input]').press('Enter')
      await say(page, 'inline and green')
      const header = await w(page, '[part=header]').evaluate((el) => getComputedStyle(el).backgroundColor)
      expect(header).toBe('rgb(11, 110, 79)')
      expect(await w(page, '[part=launcher]').isHidden()).toBe(true)
      await page.screenshot({ path: `${ARTIFACTS}example-inline.png` })
    })
  })
})
