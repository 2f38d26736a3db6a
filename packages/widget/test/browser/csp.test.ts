import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Relay } from '@confab/relay'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: the example is plain JavaScript without type declarations
import { serveCsp } from '../../../../examples/csp/serve.mjs'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { embedPage, type HostPage, type HostServer, requireBuild, say, startHost, startRelay, w } from './support'

const skip = chromiumMissing()

/**
 * The strict policy from issue 4: no 'unsafe-inline' anywhere, scripts and sockets only from the relay.
 * connect-src names the ws:// origin: Chromium does not let an http: source cover a WebSocket.
 */
function strictPolicy(relay: string): string {
  return `default-src 'self'; script-src ${relay}; connect-src ${relay.replace(/^http/, 'ws')}; style-src 'self'`
}

interface Violation {
  directive: string
  blocked: string
}

describe.skipIf(skip)('strict Content-Security-Policy', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const pages: Record<string, HostPage> = {}

  let example: Server

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay()
    // The inline script is a canary: it must be blocked, proving the policy is in force.
    const canary = '<script>window.inlineRan = true</script>'
    pages['/'] = {
      body: embedPage(relay.url, { room: 'csp', name: 'Strict', open: '' }).replace('</body>', `${canary}</body>`),
      headers: { 'content-security-policy': strictPolicy(relay.url) },
    }
    example = await serveCsp({ relay: relay.url, port: 0 })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
    await host?.close()
    example?.closeAllConnections()
    await new Promise((done) => example?.close(done))
  })

  async function visit(
    url = host.url,
  ): Promise<{ page: Page; violations: () => Promise<Violation[]>; console: string[] }> {
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    const console: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.push(m.text())
    })
    await page.addInitScript(() => {
      const list: { directive: string; blocked: string }[] = []
      ;(window as unknown as { violations: typeof list }).violations = list
      document.addEventListener('securitypolicyviolation', (e) =>
        list.push({ directive: e.effectiveDirective, blocked: e.blockedURI }),
      )
    })
    await page.goto(url)
    return {
      page,
      console,
      violations: () => page.evaluate(() => (window as unknown as { violations: Violation[] }).violations),
    }
  }

  it('loads, styles and chats with no CSP violation but the planted inline script', async () => {
    const { page, violations, console } = await visit()
    const a = page
    await w(a, '[part=panel]').waitFor()
    await w(a, '[part=presence]').filter({ hasText: 'online' }).waitFor()
    const { page: b } = await visit()
    await w(b, '[part=presence]').filter({ hasText: '2 online' }).waitFor()
    await say(a, 'works under a strict CSP')
    await w(b, '[part=bubble]').filter({ hasText: 'works under a strict CSP' }).waitFor()

    // Styled: the adopted stylesheet applied (the launcher is a 56px accent circle, not a bare button).
    const launcher = await w(a, '[part=launcher]').evaluate((el) => {
      const s = getComputedStyle(el)
      return [s.width, s.borderRadius, s.position]
    })
    expect(launcher).toEqual(['56px', '50%', 'fixed'])
    // Opened by data-open: the visual-viewport sheet is written (a constructed sheet, which the policy allows).
    const vvHeight = await a
      .locator('confab-chat')
      .evaluate((el) => getComputedStyle(el).getPropertyValue('--confab-vv-height'))
    expect(vvHeight).toBe(`${await a.evaluate(() => Math.round(visualViewport?.height ?? 0))}px`)

    expect(await a.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan)).toBeUndefined()
    expect(await violations()).toEqual([{ directive: 'script-src-elem', blocked: 'inline' }])
    const cspLines = console.filter((line) => line.includes('Content Security Policy'))
    expect(cspLines.filter((line) => !line.includes('inline script'))).toEqual([])
    await a.screenshot({ path: `${ARTIFACTS}widget-csp.png` })
  })
  it('the examples/csp page, served with its policy header, chats without a violation', async () => {
    const url = `http://127.0.0.1:${(example.address() as AddressInfo).port}/`
    const { page, violations, console } = await visit(url)
    const response = await page.request.get(url)
    expect(response.headers()['content-security-policy']).toContain("style-src 'self'")
    await w(page, '[part=name-input]').fill('Example')
    await w(page, '[part=name-input]').press('Enter')
    await say(page, 'hello from examples/csp')
    expect(await violations()).toEqual([])
    expect(console.filter((line) => line.includes('Content Security Policy'))).toEqual([])
  })
})
