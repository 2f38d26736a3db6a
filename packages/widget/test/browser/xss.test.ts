import type { Relay } from '@confab/relay'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { embedPage, type HostPage, type HostServer, post, requireBuild, say, startHost, startRelay, w } from './support'

const skip = chromiumMissing()

/** Each payload would set window.pwned (the tripwire) if it ever ran as markup or as a link. */
const PAYLOADS = [
  `<img src=x onerror="window.pwned='img'">`,
  `<svg onload="window.pwned='svg'"></svg>`,
  `<svg><script>window.pwned='svg-script'</script></svg>`,
  `javascript:window.pwned='js'`,
  `<a href="javascript:window.pwned='a'">click me</a>`,
  `<iframe srcdoc="<script>parent.pwned='iframe'</script>"></iframe>`,
  `&lt;img src=x onerror=window.pwned='entity'&gt;`,
  `&#x3C;img src=x onerror=window.pwned='hex'&#x3E;`,
  `&#106;avascript:window.pwned='entity-js'`,
  `https://example.com/"><img src=x onerror="window.pwned='in-url'">`,
  `<style>:host{display:none}</style><b style="color:red">styled</b>`,
  `<details open ontoggle="window.pwned='details'">`,
]

/** A hostile display name, short enough to survive the relay's name length limit. */
const NAME = `<img src=x onerror="pwned='n'">`

describe.skipIf(skip)('hostile message text and names', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const pages: Record<string, HostPage> = {}

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay()
    pages['/'] = { body: embedPage(relay.url, { room: 'xss', name: 'Victim', mode: 'inline' }) }
    for (const text of PAYLOADS) {
      await post(relay, 'xss', text, { id: 'bot-mallory', name: NAME })
    }
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
    await host?.close()
  })

  async function visit(): Promise<{ page: Page; requests: string[] }> {
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(host.url)
    return { page, requests }
  }

  it('renders every payload as inert text: no element, no request, no tripwire', async () => {
    const { page, requests } = await visit()
    // A payload typed in the page itself goes the same way.
    const typed = `<img src=x onerror="window.pwned='typed'">`
    await w(page, '[part=bubble]')
      .nth(PAYLOADS.length - 1)
      .waitFor()
    await say(page, typed)

    const shown = await w(page, '[part=bubble]').allTextContents()
    expect(shown).toEqual([...PAYLOADS, typed])
    const authors = await w(page, '[part=author]').allTextContents()
    expect(authors[0]).toBe(NAME)

    const found = await page.locator('confab-chat').evaluate((el) => {
      const root = el.shadowRoot as ShadowRoot
      return {
        active: [...root.querySelectorAll('img, iframe, script, style, details, b, svg:not([aria-hidden=true])')].map(
          (e) => e.tagName,
        ),
        styled: root.querySelectorAll('[style]').length,
        hrefs: [...root.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        handlers: [...root.querySelectorAll('*')].flatMap((e) =>
          [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name),
        ),
      }
    })
    expect(found).toEqual({ active: [], styled: 0, hrefs: ['https://example.com/'], handlers: [] })
    // Clicking the only link cannot run script either: it is an https URL opening a new tab.
    expect(requests.filter((url) => url.endsWith('/x'))).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned)).toBeUndefined()
    await page.screenshot({ path: `${ARTIFACTS}widget-xss.png` })
  })
})
