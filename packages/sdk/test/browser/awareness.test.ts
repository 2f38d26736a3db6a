// In Chromium: the SDK hears the browser's `offline` and `online` events.
import type { Relay } from '@confab/relay'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { startRelay } from '../integration/support'
import { type PageGlobals, requireDist, type Site, serveSite } from './page'

const skip = chromiumMissing()

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
})
