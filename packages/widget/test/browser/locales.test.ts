// The widget in Arabic and in Japanese in real Chromium: the script-tag build fetches its locale from the
// relay's /locales/, lays Arabic out right to left, and a `lang` set after confab-ready switches every
// string, including those of messages that arrive afterwards. Screenshots: test-results/widget-ar.png
// and widget-ja.png (copies in docs/img/).
import type { Relay } from '@confab/relay'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import { embedPage, type HostPage, type HostServer, post, requireBuild, say, startHost, startRelay, w } from './support'

const skip = chromiumMissing()

describe.skipIf(skip)('the widget in Arabic and Japanese', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const pages: Record<string, HostPage> = {}
  const open: Page[] = []

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay({ origins: [host.url] })
    const style = '<style>confab-chat{display:block;height:520px;max-width:420px}</style>'
    pages['/ar'] = {
      body: embedPage(relay.url, { room: 'ar', name: 'سارة', mode: 'inline', lang: 'ar' }, style),
    }
    pages['/switch'] = { body: embedPage(relay.url, { room: 'ja', name: 'Kenji', mode: 'inline' }, style) }
    await post(relay, 'ar', 'مرحبًا! كيف يمكنني مساعدتك اليوم؟', { id: 'bot-layla', name: 'ليلى' })
    await post(relay, 'ar', 'Order #1234 shipped yesterday.', { id: 'bot-sam', name: 'Sam' })
    await post(relay, 'ja', 'こんにちは！ご用件をどうぞ。', { id: 'bot-yui', name: 'ゆい' })
    browser = await launchChromium()
  })

  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.context().close()))
  })

  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
    await host?.close()
  })

  async function visit(path: string): Promise<{ page: Page; locales: string[] }> {
    const context = await browser.newContext({ viewport: { width: 480, height: 600 } })
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    open.push(page)
    const locales: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/locales/')) locales.push(new URL(r.url()).pathname)
    })
    await page.goto(host.url + path)
    return { page, locales }
  }

  it('Arabic: fetched from the relay, every label translated, laid out right to left, user text dir=auto', async () => {
    const { page, locales } = await visit('/ar')
    await expect.poll(() => w(page, '[part=input]').getAttribute('placeholder')).toBe('اكتب رسالة…')
    expect(locales).toEqual(['/locales/ar.json'])
    expect(await w(page, '[part=send-button]').getAttribute('aria-label')).toBe('إرسال')
    expect(await w(page, '[part=log]').getAttribute('aria-label')).toBe('الرسائل')
    expect(await w(page, '[part=root]').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl')
    await w(page, '[part=bubble]').filter({ hasText: 'Order #1234' }).waitFor()
    // An English message inside the Arabic panel keeps its own direction.
    const english = w(page, '[part=bubble]').filter({ hasText: 'Order #1234' })
    expect(await english.evaluate((el) => getComputedStyle(el).direction)).toBe('ltr')
    expect(await w(page, '[part=presence]').textContent()).toBe('1 متصل')
    await say(page, 'شكرًا جزيلًا')
    expect(await w(page, '[part~=message-own] [part=author]').last().textContent()).toBe('أنت')
    // Right to left: the send button sits left of the input.
    const send = await w(page, '[part=send-button]').boundingBox()
    const input = await w(page, '[part=input]').boundingBox()
    expect(send && input && send.x < input.x).toBe(true)
    await page.locator('confab-chat').screenshot({ path: `${ARTIFACTS}widget-ar.png` })
  })

  it('Japanese: lang set after confab-ready switches every string, and later messages use it too', async () => {
    const { page, locales } = await visit('/switch')
    await w(page, '[part=bubble]').filter({ hasText: 'こんにちは' }).waitFor()
    expect(await w(page, '[part=input]').getAttribute('placeholder')).toBe('Write a message…')
    await say(page, 'Hello before the switch')
    expect(await w(page, '[part~=message-own] [part=author]').last().textContent()).toBe('You')
    expect(await w(page, '[part=presence]').textContent()).toBe('1 online')
    expect(locales).toEqual([])
    await page.locator('confab-chat').evaluate((el) => {
      ;(el as HTMLElement).lang = 'ja'
    })
    await expect.poll(() => w(page, '[part=input]').getAttribute('placeholder')).toBe('メッセージを入力…')
    expect(locales).toEqual(['/locales/ja.json'])
    expect(await w(page, '[part=send-button]').getAttribute('aria-label')).toBe('送信')
    expect(await w(page, '[part=root]').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr')
    // Strings shown before the switch change too: the presence line and "You" on one's own earlier message.
    expect(await w(page, '[part=presence]').textContent()).toBe('1 人がオンライン')
    expect(await w(page, '[part~=message-own] [part=author]').first().textContent()).toBe('あなた')
    await say(page, 'ありがとうございます')
    expect(await w(page, '[part~=message-own] [part=author]').last().textContent()).toBe('あなた')
    await page.locator('confab-chat').screenshot({ path: `${ARTIFACTS}widget-ja.png` })
  })
})
