// Conversations end to end with real parts: the relay from source on port 0, a host site on another 127.0.0.1 port
// with the widget in conversation mode, two visitors in two browser contexts, and an operator in the relay's /inbox
// in a third. Nothing is faked: frames, stores, presence and the bundles are the shipped ones.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import type { Relay } from '@confab/relay'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embedPage, type HostServer, startHost, startRelay } from '../../packages/widget/test/browser/support'
import { ARTIFACTS, launchChromium } from '../support/browser'
import { chromiumMissing } from '../support/env'

const skip = chromiumMissing()
const DIST = resolve(__dirname, '../../packages/widget/dist')
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const KEY = 'e2e-operator-key-0123456789abcdef'

/** Serious and critical WCAG 2.x A/AA findings of axe-core over the page, open shadow roots included. */
async function axe(page: Page): Promise<{ id: string; targets: string[] }[]> {
  await page.addScriptTag({ path: AXE })
  return page.evaluate(async () => {
    interface Result {
      violations: { id: string; impact: string; nodes: { target: unknown[]; failureSummary?: string }[] }[]
    }
    const run = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<Result> } }).axe.run
    const result = await run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, targets: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`) }))
  })
}

describe.skipIf(skip)('conversations: visitors, the widget and the inbox', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    for (const file of ['widget.js', 'inbox.js']) {
      if (!existsSync(resolve(DIST, file))) throw new Error(`${DIST}/${file} is missing: run \`npm run build\` first`)
    }
    relay = await startRelay({ operatorKey: KEY } as Parameters<typeof startRelay>[0])
    host = await startHost({
      '/': {
        body: embedPage(
          relay.url,
          { conversation: '', mode: 'inline', team: 'Acme support' },
          '<style>confab-chat { display: block; height: 600px; }</style>',
        ),
      },
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await browser?.close()
    await host?.close()
    await relay?.stop()
  })

  /** `bypassCSP`: axe is injected as an inline script, which the inbox page's own policy refuses. */
  async function context(bypassCSP = false, viewport = { width: 1100, height: 760 }): Promise<BrowserContext> {
    const c = await browser.newContext({ viewport, bypassCSP })
    c.setDefaultTimeout(10_000)
    contexts.push(c)
    return c
  }

  /** A visitor on the host site: the widget inline, in conversation mode. */
  async function visitor(): Promise<Page> {
    const page = await (await context()).newPage()
    await page.goto(`${host.url}/`)
    await page.locator('confab-chat [part=log][aria-busy=false]').waitFor()
    return page
  }

  /** An operator in the relay's /inbox, signed in from the #key= link with `name`. */
  async function operator(
    name: string,
    bypassCSP = false,
    viewport?: { width: number; height: number },
  ): Promise<Page> {
    const page = await (await context(bypassCSP, viewport)).newPage()
    await page.goto(`${relay.url}/inbox#key=${KEY}`)
    await page.getByLabel('Your name, as visitors will see it').fill(name)
    await page.getByLabel('Your name, as visitors will see it').press('Enter')
    await page.locator('confab-inbox .filter[aria-pressed=true]').waitFor()
    return page
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.locator('confab-chat [part=input]').fill(text)
    await page.locator('confab-chat [part=input]').press('Enter')
    await page.locator('confab-chat [part~=message-own]:not(.pending)').filter({ hasText: text }).waitFor()
  }

  const bubbles = (page: Page): Promise<string[]> => page.locator('confab-chat [part=bubble]').allTextContents()
  const row = (page: Page, text: string) => page.locator('confab-inbox .row').filter({ hasText: text })

  /** The index entry of the conversation whose preview or visitor matches, through the HTTP API as an operator. */
  async function entry(text: string): Promise<{ id: string; unread: { visitor: number; operators: number } }> {
    for (const status of ['open', 'closed']) {
      const res = await fetch(`${relay.url}/v1/conversations?status=${status}`, {
        headers: { authorization: `Bearer ${KEY}` },
      })
      expect(res.status).toBe(200)
      const { items } = (await res.json()) as { items: { id: string; preview: string; unread: never }[] }
      const found = items.find((c) => c.preview.includes(text))
      if (found) return found
    }
    throw new Error(`no conversation with "${text}"`)
  }

  it('keeps two visitors apart, shows both to the operator live, and delivers the answer to the right one', async () => {
    const inbox = await operator('Ana')
    const a = await visitor()
    const b = await visitor()
    // An operator is online: the header says so.
    await expect.poll(() => a.locator('confab-chat [part=presence]').textContent()).toBe('Online now')

    await say(a, 'Order 1234 has not arrived')
    await say(b, 'Do you ship to Norway?')
    expect(await bubbles(a)).toEqual(['Order 1234 has not arrived'])
    expect(await bubbles(b)).toEqual(['Do you ship to Norway?'])

    // Both appear in the inbox without a reload, each with one unread message.
    await row(inbox, 'Order 1234').waitFor()
    await row(inbox, 'Norway').waitFor()
    await expect.poll(() => row(inbox, 'Order 1234').locator('.count').textContent()).toBe('1')
    expect((await entry('Order 1234')).unread.operators).toBe(1)

    await row(inbox, 'Order 1234').click()
    await inbox.locator('confab-inbox .bubble').filter({ hasText: 'Order 1234' }).waitFor()
    // Reading it clears the operators' unread count, in the index and on the row.
    await expect.poll(async () => (await entry('Order 1234')).unread.operators).toBe(0)
    await expect.poll(() => row(inbox, 'Order 1234').locator('.count').isHidden()).toBe(true)
    // The other one is still unread.
    expect((await entry('Norway')).unread.operators).toBe(1)

    const started = Date.now()
    await inbox.locator('confab-inbox #reply').fill('Sorry! It ships today.')
    await inbox.locator('confab-inbox #reply').press('Enter')
    // Live, with the operator's name, to visitor A only.
    const reply = a.locator('confab-chat [part~=message-operator]').filter({ hasText: 'It ships today' })
    await reply.waitFor()
    console.info(`operator reply reached the visitor in ${Date.now() - started} ms (one node, through Chromium)`)
    expect(await reply.locator('[part=author]').textContent()).toBe('Ana')
    expect(await bubbles(b)).toEqual(['Do you ship to Norway?'])
    // Visitor A has the chat on screen, so the reply is read at once; the row now says it is Ana's.
    await expect.poll(async () => (await entry('It ships today')).unread.visitor).toBe(0)
    await expect.poll(() => inbox.locator('confab-inbox .meta').textContent()).toContain('Assigned to You')

    // And after a reload.
    await a.reload()
    await a.locator('confab-chat [part~=message-operator]').filter({ hasText: 'It ships today' }).waitFor()
    expect(await bubbles(a)).toEqual(['Order 1234 has not arrived', 'Sorry! It ships today.'])

    // The visitor side's unread count moves while the visitor is away, and resets when they read.
    await a.close()
    await row(inbox, 'It ships today').click()
    await inbox.locator('confab-inbox #reply').fill('Tracking: AC-55')
    await inbox.locator('confab-inbox #reply').press('Enter')
    await expect.poll(async () => (await entry('AC-55')).unread.visitor).toBe(1)
    // Visitor A comes back (same browser): the reply is on screen and read.
    const back = await a.context().newPage()
    await back.goto(`${host.url}/`)
    await back.locator('confab-chat [part=bubble]').filter({ hasText: 'AC-55' }).waitFor()
    await expect.poll(async () => (await entry('AC-55')).unread.visitor).toBe(0)

    // The operator leaves: visitor B's widget says nobody is there and offers the email field.
    await inbox.context().close()
    await expect
      .poll(() => b.locator('confab-chat [part=presence]').textContent())
      .toBe("Away: we'll reply as soon as we can")
    const email = b.locator('confab-chat [part=profile-email]')
    await email.waitFor()
    await email.fill('not-an-email')
    await b.locator('confab-chat [part=profile-button]').click()
    await b.getByText('Please enter an email address like name@example.com').waitFor()
    await email.fill('kim@example.com')
    await b.locator('confab-chat [part=profile-name]').fill('Kim')
    await b.locator('confab-chat [part=profile-button]').click()
    await b.getByText("Thanks, we'll reply to kim@example.com").waitFor()

    // The next operator sees the name and the email in the inbox.
    const next = await operator('Bo')
    await row(next, 'Kim').click()
    await expect.poll(() => next.locator('confab-inbox .meta').textContent()).toContain('kim@example.com')
    await next.screenshot({ path: `${ARTIFACTS}conversations-inbox.png` })
  })

  it('the inbox and the widget in conversation mode have no serious or critical axe violation', async () => {
    const v = await visitor()
    await say(v, 'Checking accessibility')
    // The inline name and email form is on screen too.
    await v.locator('confab-chat [part=profile]').waitFor()
    expect(await axe(v)).toEqual([])
    const inbox = await operator('Axe', true)
    await row(inbox, 'Checking accessibility').click()
    await inbox.locator('confab-inbox .bubble').first().waitFor()
    expect(await axe(inbox)).toEqual([])
  })

  it('on a 390x844 phone the inbox is two screens: the list, then the conversation with a way back', async () => {
    const v = await visitor()
    await say(v, 'Writing from a phone test')
    const phone = await operator('Pat', false, { width: 390, height: 844 })
    const list = phone.locator('confab-inbox nav')
    const pane = phone.locator('confab-inbox .pane')
    await row(phone, 'phone test').waitFor()
    expect(await pane.isVisible()).toBe(false)
    // Keyboard only: focus the row and press Enter.
    await row(phone, 'phone test').focus()
    await phone.keyboard.press('Enter')
    await phone.locator('confab-inbox .bubble').filter({ hasText: 'phone test' }).waitFor()
    expect(await list.isVisible()).toBe(false)
    expect(await phone.locator('confab-inbox .who').evaluate((el) => el.matches(':focus'))).toBe(true)
    // Nothing sticks out sideways.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await phone.keyboard.press('Escape')
    await list.waitFor()
    expect(await pane.isVisible()).toBe(false)
    expect(await row(phone, 'phone test').evaluate((el) => el.matches(':focus'))).toBe(true)
    await phone.locator('confab-inbox .row').filter({ hasText: 'phone test' }).click()
    await phone.locator('confab-inbox button.back').click()
    await list.waitFor()
  })

  it("several operators see each other's changes live: assigning and closing", async () => {
    const v = await visitor()
    await say(v, 'Two operators look at this')
    const one = await operator('Uma')
    const two = await operator('Vic')
    await row(one, 'Two operators').click()
    await one.locator('confab-inbox .act').filter({ hasText: 'Assign to me' }).click()
    // Assigned to Uma, so no longer in Unassigned for Vic.
    await two.locator('confab-inbox [data-filter=unassigned]').click()
    await expect.poll(() => row(two, 'Two operators').count()).toBe(0)
    await two.locator('confab-inbox [data-filter=open]').click()
    await row(two, 'Two operators').click()
    await expect.poll(() => two.locator('confab-inbox .meta').textContent()).toContain('Assigned to Uma')
    // Live, while Vic has it open: Uma closes it, and Vic's header and open list follow without a reload.
    await one.locator('confab-inbox .act').filter({ hasText: 'Close' }).click()
    await expect.poll(() => two.locator('confab-inbox .meta').textContent()).toContain('Closed')
    await expect.poll(() => row(two, 'Two operators').count()).toBe(0)
  })

  it('serves /inbox with a strict CSP, and the inbox works under it', async () => {
    const res = await fetch(`${relay.url}/inbox`)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const js = await fetch(`${relay.url}/inbox.js`)
    expect(js.status).toBe(200)
    const etag = js.headers.get('etag')
    expect(etag).toBeTruthy()
    expect((await fetch(`${relay.url}/inbox.js`, { headers: { 'if-none-match': etag! } })).status).toBe(304)

    const page = await (await context()).newPage()
    const violations: string[] = []
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused/i.test(m.text())) violations.push(m.text())
    })
    await page.goto(`${relay.url}/inbox`)
    // No key: it asks for the sign-in link and connects nowhere.
    await page.getByText('Open the sign-in link the relay printed').waitFor()
    expect(violations).toEqual([])
  })
})
