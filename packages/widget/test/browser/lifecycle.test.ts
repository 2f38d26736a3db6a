// Messages that change (issue 14) in real Chromium against the real relay: edit, delete (with confirmation) and
// reactions with the keyboard alone, axe over edited, deleted and reacted-to messages, and the screenshots of
// docs/widget.md (light, dark, phone).
import { createRequire } from 'node:module'
import type { Relay } from '@confab/relay'
import { type Client, connect, type Message } from '@confab/sdk'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ARTIFACTS, launchChromium } from '../../../../test/support/browser'
import { chromiumMissing } from '../../../../test/support/env'
import {
  embedPage,
  type HostPage,
  type HostServer,
  openPanel,
  requireBuild,
  say,
  startHost,
  startRelay,
  w,
} from './support'

const skip = chromiumMissing()
const KEY = 'lifecycle-operator-key-0123456789'
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

/** Serious and critical WCAG 2.x A/AA findings of axe-core over the page, open shadow roots included. */
async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE })
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<AxeResult> } }).axe.run
    interface AxeResult {
      violations: { id: string; impact: string; nodes: { target: unknown[] }[] }[]
    }
    const result = await run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`)
  })
}

/** What has focus inside the widget: its aria-label, else its part, else its text. */
function focused(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const el = document.querySelector('confab-chat')?.shadowRoot?.activeElement
    if (!el) return null
    return el.getAttribute('aria-label') ?? el.getAttribute('part') ?? el.textContent
  })
}

/** Resolves with the first message of `room` (as the relay's history API has it) that `test` accepts. */
async function stored(relay: Relay, room: string, test: (m: Message) => boolean): Promise<Message> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const res = await fetch(`${relay.url}/v1/rooms/${room}/messages`)
    const { messages } = (await res.json()) as { messages: Message[] }
    const found = messages.find(test)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no such message in ${room}: ${JSON.stringify(messages)}`)
    // The relay stores a change before it acks it: this only waits for the page's frame to arrive.
    await new Promise((r) => setImmediate(r))
  }
}

describe.skipIf(skip)('changing messages in the browser', () => {
  let browser: Browser
  let relay: Relay
  let host: HostServer
  const pages: Record<string, HostPage> = {}
  const contexts: { close(): Promise<void> }[] = []
  const bots: Client[] = []

  beforeAll(async () => {
    requireBuild()
    host = await startHost(pages)
    relay = await startRelay({ operatorKey: KEY } as Parameters<typeof startRelay>[0])
    pages['/badge'] = { body: embedPage(relay.url, { room: 'badge', name: 'Ada' }) }
    pages['/conversation'] = { body: embedPage(relay.url, { conversation: '' }) }
    pages['/keys'] = { body: embedPage(relay.url, { room: 'keys', name: 'Ada' }) }
    for (const theme of ['light', 'dark']) {
      pages[`/${theme}`] = { body: embedPage(relay.url, { room: 'team', name: 'Ada', theme }) }
    }
    browser = await launchChromium()
  })

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close()
  })

  afterAll(async () => {
    for (const bot of bots) bot.close()
    await browser?.close()
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

  /** A Node client of the room, as another member. */
  async function member(name: string, room: string) {
    const client = connect(relay.url, { name, WebSocket: WebSocket as never })
    bots.push(client)
    const r = client.join(room)
    await new Promise<void>((done) => r.on('presence', () => done()))
    return r
  }

  it('edits, deletes (after confirming) and reacts with the keyboard alone', async () => {
    const page = await visit('/keys')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('input')
    await page.keyboard.type('helo wrold')
    await page.keyboard.press('Enter')
    await w(page, '[part~=message-own][data-offset]').waitFor()

    // Back from the composer: the message's last action, then the one before.
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('Delete')
    // The actions show while one has focus.
    expect(await w(page, '[part=message-actions]').evaluate((el) => getComputedStyle(el).opacity)).toBe('1')
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('Edit')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('Edit message')
    await page.keyboard.press('ControlOrMeta+a')
    await page.keyboard.type('hello world')
    await page.keyboard.press('Enter')
    await w(page, '[part=edited]').waitFor()
    expect(await w(page, '[part~=message-own] [part=bubble]').textContent()).toBe('hello world')
    expect(await focused(page)).toBe('Edit')
    expect((await stored(relay, 'keys', (m) => m.editedAt !== undefined)).text).toBe('hello world')

    // Escape cancels an edit and leaves the panel open.
    await page.keyboard.press('Enter')
    await page.keyboard.type(' (not saved)')
    await page.keyboard.press('Escape')
    expect(await w(page, '[part=editor]').count()).toBe(0)
    expect(await w(page, '[part=panel]').isVisible()).toBe(true)
    expect(await focused(page)).toBe('Edit')

    // React: the picker opens on its first emoji; Tab to the second, Enter picks it.
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('Add reaction')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('👍')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    const chip = w(page, '[part=reaction]')
    await chip.filter({ hasText: '❤️ 1' }).waitFor()
    expect(await chip.getAttribute('aria-pressed')).toBe('true')
    expect(await focused(page)).toBe('Add reaction')
    const reacted = await stored(relay, 'keys', (m) => m.reactions !== undefined)
    expect(reacted.reactions).toEqual({ '❤️': { count: 1 } })

    // Delete asks first: Escape keeps the message, then Shift+Tab from Cancel to Delete, Enter deletes.
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await focused(page)).toBe('Delete')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('Cancel')
    await page.keyboard.press('Escape')
    expect(await focused(page)).toBe('Delete')
    expect(await w(page, '[part=panel]').isVisible()).toBe(true)
    await page.keyboard.press('Enter')
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('Delete')
    await page.keyboard.press('Enter')
    await w(page, '[part~=message-deleted]').filter({ hasText: 'Message deleted' }).waitFor()
    expect(await focused(page)).toBe('Messages')
    expect((await stored(relay, 'keys', (m) => m.deleted === true)).text).toBe('')
    expect(await w(page, '[part=reaction], [part=message-actions]').count()).toBe(0)
  })

  it("shows another member's edit, delete and reactions live, and the counts toggle", async () => {
    const page = await visit('/keys')
    await openPanel(page)
    const kira = await member('Kira', 'keys')
    const m = await kira.send('first try')
    await w(page, '[part=bubble]').filter({ hasText: 'first try' }).waitFor()
    await kira.edit(m.offset, 'second try')
    await w(page, '[part=bubble]').filter({ hasText: 'second try' }).waitFor()
    await kira.react(m.offset, '🎉')
    const chip = w(page, `[data-offset="${m.offset}"] [part=reaction]`)
    await chip.filter({ hasText: '🎉 1' }).waitFor()
    expect(await chip.getAttribute('aria-pressed')).toBe('false')
    await chip.click()
    await chip.filter({ hasText: '🎉 2' }).waitFor()
    expect(await chip.getAttribute('aria-pressed')).toBe('true')
    await kira.delete(m.offset)
    await w(page, `[data-offset="${m.offset}"] [part~=message-deleted]`).waitFor()
  })

  it('keeps the unread badge across a reload (the relay counts), and clears it once read', async () => {
    const page = await visit('/badge')
    await openPanel(page)
    await say(page, 'back in a minute')
    await page.keyboard.press('Escape')
    const kira = await member('Kira', 'badge')
    await kira.send('are you there?')
    const last = await kira.send('ping')
    const badge = w(page, '[part=badge]')
    await badge.filter({ hasText: '2' }).waitFor()
    await page.reload()
    await badge.filter({ hasText: '2' }).waitFor()
    expect(await w(page, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat, 2 unread')
    await openPanel(page)
    expect(await badge.isHidden()).toBe(true)
    await w(page, '[part=bubble]').filter({ hasText: 'ping' }).waitFor()
    // Read on the relay: the next page of the tab has nothing unread.
    const reads = async (): Promise<number[]> => {
      const res = await fetch(`${relay.url}/v1/rooms/badge/reads`)
      return ((await res.json()) as { items: { offset: number }[] }).items.map((r) => r.offset)
    }
    await expect.poll(reads).toEqual([last.offset, last.offset])
    await page.keyboard.press('Escape')
    await page.reload()
    await w(page, '[part=launcher]').waitFor()
    await expect.poll(() => w(page, '[part=launcher]').getAttribute('aria-label')).toBe('Open chat')
    expect(await badge.isHidden()).toBe(true)
  })

  it('shows "Seen" under the visitor\'s last message once an operator has read it', async () => {
    const page = await visit('/conversation')
    await openPanel(page)
    await say(page, 'hello, anyone?')
    const room = await page.evaluate(
      () => Object.entries(localStorage).find(([k]) => k.startsWith('confab:conversation:'))?.[1],
    )
    const offset = Number(await w(page, '[part~=message-own]').last().getAttribute('data-offset'))
    expect(room).toMatch(/^conv:/)
    const operator = connect(relay.url, { key: KEY, name: 'Ana', WebSocket: WebSocket as never } as never)
    bots.push(operator)
    const r = operator.join(room!)
    await new Promise<void>((done) => r.on('presence', () => done()))
    expect(await w(page, '[part=seen]').count()).toBe(0)
    r.markRead(offset)
    await w(page, '[part~=message-own]').last().locator('[part=seen]').filter({ hasText: 'Seen' }).waitFor()
  })

  for (const scheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe violations with edited, deleted and reacted-to messages in ${scheme}`, async () => {
      const page = await scene(`/${scheme}`, { colorScheme: scheme })
      expect(await axe(page)).toEqual([])
      // The actions of one message, as the keyboard shows them.
      await w(page, '[part~=message-own]').last().locator('[data-a=react]').focus()
      expect(await axe(page)).toEqual([])
      await page.screenshot({
        path: `${ARTIFACTS}widget-lifecycle-${scheme}.png`,
        clip: { x: 860, y: 50, width: 420, height: 670 },
      })
    })
  }

  it('on a phone: the same conversation, full-screen', async () => {
    const page = await scene('/light', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, 'tap')
    await page.screenshot({ path: `${ARTIFACTS}widget-lifecycle-phone.png` })
    expect(await axe(page)).toEqual([])
  })

  /** Ada's identity (the widget keeps it in localStorage), so every later page is Ada again. */
  let ada: Awaited<ReturnType<import('playwright-core').BrowserContext['storageState']>> | undefined
  /** The room "team": Kira and Bo write, edit, delete and react; Ada (the page) writes and reacts. */
  async function scene(path: string, options: BrowserContextOptions, how: 'click' | 'tap' = 'click'): Promise<Page> {
    if (!ada) {
      const kira = await member('Kira', 'team')
      const bo = await member('Bo', 'team')
      const up = await kira.send('Morning! The new build is on staging.')
      const typo = await bo.send('Thanks, cheking now')
      await bo.edit(typo.offset, 'Thanks, checking it now.')
      const oops = await kira.send('(wrong window, sorry)')
      await kira.delete(oops.offset)
      await bo.react(up.offset, '👍')
      await kira.react(typo.offset, '🎉')
      const page = await visit(path, options)
      await openPanel(page, how)
      await say(page, 'Looks good here, the login is fast now')
      const mine = Number(await w(page, '[part~=message-own]').last().getAttribute('data-offset'))
      await kira.react(mine, '❤️')
      await bo.react(mine, '❤️')
      await kira.send('Great, shipping it at noon.')
      await w(page, '[part=bubble]').filter({ hasText: 'shipping it' }).waitFor()
      await w(page, '[part=reaction]').filter({ hasText: '❤️ 2' }).waitFor()
      await w(page, `[data-offset="${up.offset}"] [part=reaction]`).click()
      await w(page, `[data-offset="${up.offset}"] [part=reaction][aria-pressed=true]`).waitFor()
      ada = await page.context().storageState()
      await contexts.pop()?.close()
    }
    const page = await visit(path, { ...options, storageState: ada })
    await openPanel(page, how)
    await w(page, '[part=bubble]').filter({ hasText: 'shipping it' }).waitFor()
    await w(page, '[part~=message-deleted]').waitFor()
    await w(page, '[part=reaction][aria-pressed=true]').waitFor()
    return page
  }
})
