// In Chromium: a message typed while the relay is unreachable survives a page reload with
// `persist: true` and is delivered exactly once when the relay comes back.
import type { Relay } from '@confab/relay'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { client, closeClients, joinedRoom, portOf, recorder, startRelay } from '../integration/support'
import { type PageGlobals, requireDist, type Site, serveSite } from './page'

const skip = chromiumMissing()

describe.skipIf(skip !== null)('persist in a browser', () => {
  let relay: Relay
  let proxy: FaultProxy
  let site: Site
  let browser: Browser

  beforeAll(async () => {
    requireDist()
    relay = await startRelay()
    proxy = await startFaultProxy({ port: portOf(relay) })
    site = await serveSite()
    browser = await launchChromium()
  })
  afterAll(async () => {
    closeClients()
    await browser?.close()
    await site?.close()
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
    const options = { persist: true, name: 'Page', reconnect: { minDelay: 50, maxDelay: 200 } }
    try {
      await page.goto(site.page(proxy.url, 'persist', options))
      await page.waitForFunction(() => (window as unknown as PageGlobals).client?.status === 'reconnecting')
      await page.evaluate(() => {
        // The page unloads before this settles; its rejection with `closed` is not the point here.
        void (window as unknown as PageGlobals).room.send('typed while offline').catch(() => {})
      })
      const stored = await page.evaluate(() => JSON.stringify(Object.entries(sessionStorage)))
      expect(stored).toContain('typed while offline')

      await page.reload()
      await page.waitForFunction(() => (window as unknown as PageGlobals).client !== undefined)
      proxy.refuse(false)

      await atWatcher.count(1)
      await watched.send('after')
      await atWatcher.count(2)
      expect(atWatcher.texts()).toEqual(['typed while offline', 'after'])
      await page.waitForFunction(() => (window as unknown as PageGlobals).seen.length === 2)
      expect(await page.evaluate(() => (window as unknown as PageGlobals).seen)).toEqual([
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
