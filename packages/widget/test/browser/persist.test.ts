// A visitor stays themselves across the pages of a site: the same member (own messages on the right),
// the panel as they left it, and a message written while offline delivered once. Real Chromium,
// the real relay on port 0 behind a proxy the test can cut, host pages from 127.0.0.1.
import type { Relay } from '@confab/relay'
import type { Message } from '@confab/sdk'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import {
  embedPage,
  type HostPage,
  type HostServer,
  type Proxy as Line,
  openPanel,
  requireBuild,
  say,
  startHost,
  startProxy,
  startRelay,
  w,
} from './support'

const skip = chromiumMissing()

/** The texts of the room's stored messages, from the relay's HTTP API. */
async function stored(relay: Relay, room: string): Promise<string[]> {
  const res = await fetch(`${relay.url}/v1/rooms/${room}/messages?limit=100`)
  const body = (await res.json()) as { messages: Message[] }
  return body.messages.map((m) => m.text)
}

describe.skipIf(skip)('persist: the same visitor across pages, tabs and visits', () => {
  let browser: Browser
  let relay: Relay
  let line: Line
  let host: HostServer
  const pages: Record<string, HostPage> = {}
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay()
    line = await startProxy(relay.url)
    // Two pages of one site, both with the script-tag widget; the visitor gives a name on the first.
    pages['/'] = { body: embedPage(line.url, { room: 'visits' }) }
    pages['/pricing'] = { body: embedPage(line.url, { room: 'visits' }) }
    pages['/private'] = { body: embedPage(line.url, { room: 'private', persist: 'none', name: 'Nia' }) }
    browser = await launchChromium()
  })

  afterEach(async () => {
    line.resume()
    for (const context of contexts.splice(0)) await context.close()
  })

  afterAll(async () => {
    await browser?.close()
    await line?.close()
    await relay?.stop()
    await host?.close()
  })

  async function tab(context?: BrowserContext): Promise<Page> {
    const ctx = context ?? (await browser.newContext())
    if (!context) contexts.push(ctx)
    ctx.setDefaultTimeout(10_000)
    return ctx.newPage()
  }

  async function go(page: Page, path: string): Promise<void> {
    await page.goto(host.url + path)
    await w(page, '[part=root]').waitFor({ state: 'attached' })
  }

  const own = (page: Page, text: string) => w(page, '[part~=message-own]:not(.pending)').filter({ hasText: text })

  it('chat, go to another page, come back: own messages on the right, the panel open, an offline message sent once', async () => {
    const page = await tab()
    await go(page, '/')
    await openPanel(page)
    await w(page, '[part=name-input]').fill('Pat')
    await w(page, '[part=name-input]').press('Enter')
    await say(page, 'hello from the home page')

    // The line drops; the visitor writes anyway, then moves on before it comes back.
    line.cut()
    await w(page, '[part=banner]').filter({ hasText: 'Reconnecting...' }).waitFor()
    await w(page, '[part=input]').fill('written while offline')
    await w(page, '[part=input]').press('Enter')
    await w(page, '[part~=message-own].pending').filter({ hasText: 'written while offline' }).waitFor()
    await go(page, '/pricing')
    // The panel is open as it was left, and no name is asked again.
    await w(page, '[part=panel]').waitFor()
    expect(await w(page, '[part=name-form]').isHidden()).toBe(true)
    line.resume()
    // The new page's client sends the queued message, as the same member.
    await own(page, 'written while offline').waitFor({ timeout: 15_000 })
    await own(page, 'hello from the home page').waitFor()
    expect(await w(page, '[part~=message]:not([part~=message-own])').count()).toBe(0)
    await say(page, 'and one from pricing')

    await page.goBack()
    await w(page, '[part=panel]').waitFor()
    for (const text of ['hello from the home page', 'written while offline', 'and one from pricing']) {
      await own(page, text).waitFor()
      expect(await own(page, text).count()).toBe(1)
    }
    expect(await w(page, '[part~=message]:not([part~=message-own])').count()).toBe(0)
    await page.screenshot({ path: `${ARTIFACTS}widget-persist-back.png` })
    expect(await stored(relay, 'visits')).toEqual([
      'hello from the home page',
      'written while offline',
      'and one from pricing',
    ])

    // Closed here, closed on the next page.
    await w(page, '[part=launcher]').click()
    await go(page, '/pricing')
    expect(await w(page, '[part=panel]').isHidden()).toBe(true)

    // Another tab of the same browser: the same member (localStorage), with the panel closed (a new tab's state).
    const other = await tab(page.context())
    await go(other, '/')
    await openPanel(other)
    await own(other, 'and one from pricing').waitFor()
    expect(await w(other, '[part~=message]:not([part~=message-own])').count()).toBe(0)
  })

  it('persist="none": a new page is a new guest, and nothing is stored', async () => {
    const page = await tab()
    await go(page, '/private')
    await openPanel(page)
    await say(page, 'said once')
    await go(page, '/private')
    await openPanel(page)
    // The earlier message is someone else's now: on the left.
    await w(page, '[part~=message]:not([part~=message-own])').filter({ hasText: 'said once' }).waitFor()
    const kept = await page.evaluate(() => [localStorage.length, sessionStorage.length])
    expect(kept).toEqual([0, 0])
  })
})
