// In Chromium: the SDK hears the browser's `offline` and `online` events, and probes a stale
// link at once when the tab becomes visible again or the page comes back from the bfcache.
import type { Relay } from '@confab/relay'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { portOf, startRelay } from '../integration/support'
import { type PageGlobals, requireDist, type Site, serveSite } from './page'

const skip = chromiumMissing()

/** The page's globals, and when the client of a stale-link test went reconnecting (`performance.now()`). */
type Stale = PageGlobals & {
  client: { on(event: 'status', cb: (status: string) => void): () => void }
  reconnectingAt?: number
}

describe.skipIf(skip !== null)('browser awareness', () => {
  let relay: Relay
  let site: Site
  let browser: Browser

  beforeAll(async () => {
    requireDist()
    relay = await startRelay()
    site = await serveSite()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await site?.close()
    await relay?.stop()
  })

  it('goes reconnecting the moment the browser is offline and reconnects the moment it is online', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // A one-minute backoff: only the `online` event can bring the client back within the test.
    const options = { name: 'Page', reconnect: { minDelay: 60_000, maxDelay: 60_000 } }
    try {
      await page.goto(site.page(relay.url, 'aware', options))
      await page.waitForFunction(() => (window as unknown as PageGlobals).client?.status === 'open')
      await context.setOffline(true)
      await page.waitForFunction(() => (window as unknown as PageGlobals).client.status === 'reconnecting', null, {
        timeout: 2_000,
      })
      await context.setOffline(false)
      await page.waitForFunction(() => (window as unknown as PageGlobals).client.status === 'open', null, {
        timeout: 5_000,
      })
      expect(await page.evaluate(() => (window as unknown as PageGlobals).statuses)).toEqual([
        'open',
        'reconnecting',
        'open',
      ])
    } catch (error) {
      await page.screenshot({ path: `${ARTIFACTS}sdk-awareness.png` })
      throw error
    } finally {
      await context.close()
    }
  })

  it.each([
    ['visibilitychange to visible', "document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))"],
    ['pageshow', "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))"],
  ])('a %s on a stale link probes at once and reconnects within the probe window', async (_, fire) => {
    const proxy: FaultProxy = await startFaultProxy({ port: portOf(relay) })
    const context = await browser.newContext()
    const page = await context.newPage()
    // A one-minute heartbeat: the SDK's own timer would not look at the link for 30 s.
    const options = { name: 'Page', heartbeat: 60_000, reconnect: { minDelay: 50, maxDelay: 50 } }
    try {
      await page.goto(site.page(proxy.url, 'stale', options))
      await page.waitForFunction(() => (window as unknown as PageGlobals).client?.status === 'open')
      // A round trip after the join: every frame the join caused (joined, presence) has arrived, so
      // none can reach the page after the black hole and count as a sign of life.
      await page.evaluate(() => (window as unknown as PageGlobals).room.history({ limit: 1 }))
      // 'reconnecting' lasts only the 50 ms retry delay, shorter than a frame of polling on a loaded machine:
      // the page notes when it began, on the page's own clock, and the test waits on that note.
      await page.evaluate(() => {
        const w = window as unknown as Stale
        w.client.on('status', (s) => {
          if (s === 'reconnecting') w.reconnectingAt ??= performance.now()
        })
      })
      proxy.blackhole('both') // half-open: the socket looks fine, nothing gets through
      const firedAt = await page.evaluate(`(() => { const at = performance.now(); ${fire}; return at })()`)
      await page.waitForFunction(() => (window as unknown as Stale).reconnectingAt !== undefined, null, {
        timeout: 8_000,
        polling: 100,
      })
      // The probe gives the link 5 s to answer; the heartbeat alone would have taken 60.
      const reconnectingAt = await page.evaluate(() => (window as unknown as Stale).reconnectingAt ?? 0)
      expect(reconnectingAt - Number(firedAt)).toBeLessThan(5_000 + 2_000)
      await page.waitForFunction(() => (window as unknown as PageGlobals).client.status === 'open', null, {
        timeout: 5_000,
      })
      expect(await page.evaluate(() => (window as unknown as PageGlobals).statuses)).toEqual([
        'open',
        'reconnecting',
        'open',
      ])
      expect(proxy.accepted).toBe(2)
    } catch (error) {
      await page.screenshot({ path: `${ARTIFACTS}sdk-awareness-stale.png` })
      throw error
    } finally {
      await context.close()
      await proxy.close()
    }
  })
})
