// What a visitor sees on a phone and a desktop when names, messages and the connection misbehave,
// and what the accent colour does to text and focus rings. Real Chromium, the real relay.
import { createRequire } from 'node:module'
import type { Relay } from '@confab/relay'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import {
  embedPage,
  type HostPage,
  type HostServer,
  type Proxy as Line,
  post,
  requireBuild,
  say,
  startHost,
  startProxy,
  startRelay,
  w,
} from './support'

const skip = chromiumMissing()
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
/** The longest name the relay accepts, with nowhere to break. */
const LONG_NAME = 'W'.repeat(40)

/** Runs only the given axe rules (best practices included) and returns the ids that fail. */
async function axeRules(page: Page, rules: string[]): Promise<string[]> {
  await page.addScriptTag({ path: AXE })
  return page.evaluate(async (only) => {
    const axe = (
      window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string }[] }> } }
    ).axe
    const result = await axe.run(document, { runOnly: { type: 'rule', values: only } })
    return result.violations.map((v) => v.id)
  }, rules)
}

describe.skipIf(skip)('layout, landmarks and colours in Chromium', () => {
  let browser: Browser
  let relay: Relay
  let line: Line
  let host: HostServer
  const pages: Record<string, HostPage> = {}
  const contexts: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay()
    line = await startProxy(relay.url)
    pages['/'] = { body: embedPage(relay.url, { room: 'layout', name: 'Ada', open: '' }) }
    pages['/tall'] = { body: embedPage(relay.url, { room: 'tall', name: 'Ada', mode: 'inline' }, INLINE) }
    pages['/line'] = { body: embedPage(line.url, { room: 'busy', name: 'Ada', mode: 'inline' }, INLINE) }
    const accent = (color: string) => `<style>body{--confab-accent:${color}}</style>${INLINE}`
    pages['/green'] = {
      body: embedPage(relay.url, { room: 'layout', name: 'Ada', mode: 'inline' }, accent('rgb(11,110,79)')),
    }
    pages['/yellow'] = {
      body: embedPage(relay.url, { room: 'layout', name: 'Ada', mode: 'inline' }, accent('#ffd600')),
    }
    await post(relay, 'layout', 'A name with nowhere to break', { id: 'bot-long', name: LONG_NAME })
    await post(relay, 'tall', Array.from({ length: 600 }, (_, i) => String(i + 1)).join('\n'))
    await post(relay, 'tall', 'after the tall one')
    for (let i = 1; i <= 30; i++) await post(relay, 'busy', `message ${i} of 30`)
    browser = await launchChromium()
  })

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close()
  })

  afterAll(async () => {
    await browser?.close()
    await line?.close()
    await relay?.stop()
    await host?.close()
  })

  async function visit(path: string, options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext(options)
    context.setDefaultTimeout(10_000)
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(host.url + path)
    await w(page, '[part=root]').waitFor({ state: 'attached' })
    return page
  }

  it('keeps a 40-character unbreakable name inside a 390 px phone panel, the time on screen', async () => {
    const page = await visit('/', PHONE)
    await w(page, '[part=author]').filter({ hasText: LONG_NAME }).waitFor()
    const fit = await w(page, '[part=log]').evaluate((log) => {
      const time = log.querySelector('time')!.getBoundingClientRect()
      const box = log.getBoundingClientRect()
      return { scroll: log.scrollWidth, client: log.clientWidth, timeRight: time.right, logRight: box.right }
    })
    expect(fit.scroll).toBeLessThanOrEqual(fit.client)
    expect(fit.timeRight).toBeLessThanOrEqual(fit.logRight)
    await page.screenshot({ path: `${ARTIFACTS}widget-long-name-phone.png` })
  })

  it('keeps the newest message in view when "Reconnecting..." appears, and hides the online count meanwhile', async () => {
    const page = await visit('/line')
    await w(page, '[part=bubble]').filter({ hasText: 'message 30 of 30' }).waitFor()
    await w(page, '[part=presence]').filter({ hasText: '1 online' }).waitFor()
    const newestInView = () =>
      w(page, '[part=log]').evaluate((log) => {
        const last = [...log.querySelectorAll('[part~=message]')].at(-1)!.getBoundingClientRect()
        return Math.round(last.bottom) <= Math.round(log.getBoundingClientRect().bottom)
      })
    expect(await newestInView()).toBe(true)
    line.cut()
    try {
      await w(page, '[part=banner]').filter({ hasText: 'Reconnecting...' }).waitFor()
      expect(await newestInView()).toBe(true)
      expect(await w(page, '[part=presence]').textContent()).toBe('')
      await page.screenshot({ path: `${ARTIFACTS}widget-reconnecting.png` })
    } finally {
      line.resume()
    }
    await w(page, '[part=presence]').filter({ hasText: '1 online' }).waitFor({ timeout: 15_000 })
  })

  it('collapses a 600-line message behind "Show more", a button that expands and collapses it', async () => {
    const page = await visit('/tall')
    const bubble = w(page, '[part=bubble]').first()
    await w(page, '[part=bubble]').filter({ hasText: 'after the tall one' }).waitFor()
    const height = () => bubble.evaluate((el) => el.getBoundingClientRect().height)
    expect(await height()).toBeLessThan(400)
    const more = page.getByRole('button', { name: 'Show more' })
    expect(await more.getAttribute('aria-expanded')).toBe('false')
    await more.click()
    expect(await height()).toBeGreaterThan(5000)
    const less = page.getByRole('button', { name: 'Show less' })
    expect(await less.getAttribute('aria-expanded')).toBe('true')
    await less.click()
    expect(await height()).toBeLessThan(400)
  })

  it('adds no second banner landmark, and names the launcher "Close chat" while it shows the ×', async () => {
    const page = await visit('/')
    await w(page, '[part=presence]').filter({ hasText: 'online' }).waitFor()
    expect(await axeRules(page, ['landmark-no-duplicate-banner', 'landmark-banner-is-top-level'])).toEqual([])
    expect(await w(page, '[part=launcher]').getAttribute('aria-label')).toBe('Close chat')
    expect(await page.getByRole('button', { name: 'Close chat' }).count()).toBe(2)
    await w(page, '[part=launcher]').click()
    expect(await w(page, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat')
  })

  it('rings focus in a custom accent unless --confab-focus is set', async () => {
    const page = await visit('/green')
    const input = w(page, '[part=input]')
    await input.focus()
    expect(await input.evaluate((el) => getComputedStyle(el).outlineColor)).toBe('rgb(11, 110, 79)')
  })

  it('writes black text on a light accent, so own messages and the header stay readable', async () => {
    const page = await visit('/yellow')
    await say(page, 'readable on yellow')
    const colors = async () => ({
      bubble: await w(page, '[part~=message-own] [part=bubble]').evaluate((el) => getComputedStyle(el).color),
      header: await w(page, '[part=header]').evaluate((el) => getComputedStyle(el).color),
    })
    expect(await colors()).toEqual({ bubble: 'rgb(0, 0, 0)', header: 'rgb(0, 0, 0)' })
    expect(await axeRules(page, ['color-contrast'])).toEqual([])
    await page.screenshot({ path: `${ARTIFACTS}widget-yellow-accent.png` })
  })
})

/** Inline widgets get a phone-sized box of their own. */
const INLINE = '<style>confab-chat{display:block;width:360px;height:520px}</style>'
