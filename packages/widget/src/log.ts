import type { Member, Message } from './client.js'
import { h } from './dom.js'
import { linkify } from './linkify.js'
import type { View } from './render.js'
import type { Strings } from './strings.js'

/**
 * Delivery state of a message the local user wrote. `unconfirmed`: its ack is late (the SDK's `timeout`); the SDK
 * keeps it queued and sends it again with the same id, so it may yet settle by itself. Retry is offered meanwhile.
 * `refused`: the relay said no for a reason a retry cannot change (too long, not allowed), so no Retry.
 */
export type SendState = 'pending' | 'sent' | 'failed' | 'unconfirmed' | 'refused'

/**
 * A message with more lines or characters than this is collapsed behind "Show more": a 600-line paste would
 * otherwise be a 12,600 px column to scroll past. Counted from the text, not measured, so it is decided once.
 */
const TALL_LINES = 16
const TALL_CHARS = 1_200

/** Messages from one sender this close together (ms) share one name and time header. */
const GROUP_GAP = 5 * 60_000

/** Within this many pixels of the end, the log counts as "at the bottom" and follows new messages. */
const BOTTOM_SLACK = 48

/**
 * The message list: renders messages as text (never HTML), groups them by sender,
 * keeps scroll position when older pages are prepended, and shows a "new messages"
 * marker instead of jumping when the reader has scrolled up.
 */
export class MessageLog {
  /** Rendered messages by key: `o<offset>` once stored, `p<n>` while pending. */
  private readonly items = new Map<string, HTMLElement>()
  /** Numbers pending keys for the element's whole life: chats come and go (room changes) but share this log. */
  private seq = 0
  /** Numbers the ids of collapsed bubbles (their toggle's aria-controls). */
  private bubbles = 0
  private clock?: { lang: string; format: Intl.DateTimeFormat }
  /** True while the room is closed to this user: "No messages yet. Say hello!" would be an invitation it cannot keep. */
  refused = false

  constructor(
    private readonly view: View,
    private readonly strings: () => Strings,
    private readonly lang: () => string,
    private readonly onRetry: (key: string) => void,
  ) {
    view.log.addEventListener('scroll', () => {
      if (this.atBottom()) view.jump.hidden = true
    })
    view.jump.addEventListener('click', () => {
      // The marker hides itself: keep focus in the widget, on the messages it jumped to.
      this.scrollToEnd()
      view.log.focus()
    })
  }

  /** After `lang` changed: "You" on one's own messages already shown (locales, issue 16). */
  relabel(): void {
    const you = this.strings().you
    for (const author of this.view.log.querySelectorAll('.msg.own .author')) author.textContent = you
  }

  /** Number of messages shown, pending ones included. */
  get size(): number {
    return this.items.size
  }

  /** True when the message with this offset is already on screen. */
  has(offset: number): boolean {
    return this.items.has(`o${offset}`)
  }

  /** Offset of the oldest stored message shown, or undefined when none is. */
  oldest(): number | undefined {
    const first = this.view.log.querySelector<HTMLElement>('.msg[data-offset]')
    return first ? Number(first.dataset.offset) : undefined
  }

  /** Adds a live message at the end; follows it when the reader was at the bottom, else shows the marker. */
  append(message: Message, own: boolean): void {
    if (this.has(message.offset)) return
    const follow = own || this.atBottom()
    const el = this.item(`o${message.offset}`, message.from, message.text, message.ts, own, message.offset)
    this.view.log.append(el)
    this.regroup(el)
    this.settle(follow)
  }

  /** Inserts older messages (oldest first) above everything shown, keeping what the reader sees in place. */
  prepend(messages: Message[], isOwn: (m: Message) => boolean): void {
    const log = this.view.log
    const wasEmpty = this.items.size === 0
    const fromEnd = log.scrollHeight - log.scrollTop
    const first = log.querySelector<HTMLElement>('.msg')
    const fresh = messages.filter((m) => !this.has(m.offset))
    for (const m of fresh) {
      const el = this.item(`o${m.offset}`, m.from, m.text, m.ts, isOwn(m), m.offset)
      log.insertBefore(el, first)
      this.regroup(el)
    }
    if (first) this.regroup(first)
    this.updateEmpty()
    if (wasEmpty) this.scrollToEnd()
    else log.scrollTop = log.scrollHeight - fromEnd
  }

  /** Shows a message the local user is sending, before the relay has stored it; returns its key. */
  addPending(from: Member, text: string): string {
    const key = `p${++this.seq}`
    const el = this.item(key, from, text, Date.now(), true)
    this.view.log.append(el)
    this.regroup(el)
    this.setState(key, 'pending')
    this.settle(true)
    return key
  }

  /** Takes a pending message off screen (its chat was stopped: another room now shows here). */
  drop(key: string): void {
    this.items.get(key)?.remove()
    this.items.delete(key)
    this.updateEmpty()
  }

  /**
   * Moves a pending message to `sent` (re-keyed by its offset), to `failed` or `unconfirmed` (with a retry button),
   * or to `refused` with `reason` as its line.
   */
  setState(key: string, state: SendState, stored?: Message, reason?: string): void {
    const el = this.items.get(key)
    if (!el) return
    el.classList.remove('pending', 'failed', 'unconfirmed')
    el.querySelector('.state')?.remove()
    if (state === 'sent' && stored) {
      this.items.delete(key)
      if (this.has(stored.offset)) {
        // The broadcast copy arrived first and is already shown: keep one.
        el.remove()
        return
      }
      el.dataset.offset = String(stored.offset)
      this.items.set(`o${stored.offset}`, el)
      return
    }
    if (state === 'sent') return
    const s = this.strings()
    // A refusal is a failure to the eye and to CSS (`message-failed`), only without the Retry that cannot help.
    const shown = state === 'refused' ? 'failed' : state
    el.classList.add(shown)
    const line = h(
      'div',
      { part: `message-state message-${shown}${state === 'refused' ? ' message-refused' : ''}`, class: 'state' },
      state === 'refused' ? (reason ?? s.failed) : s[state === 'pending' ? 'sending' : state],
    )
    if (state === 'failed' || state === 'unconfirmed') {
      const retry = h('button', { type: 'button', part: 'retry-button', class: 'retry' }, s.retry)
      retry.addEventListener('click', () => {
        // The button goes away with the failed state: keep focus in the widget rather than lose it to <body>.
        this.view.log.focus()
        this.onRetry(key)
      })
      line.append(retry)
    }
    el.append(line)
  }

  /** Removes every stored message (pending ones stay): used when the room's history was reset. */
  clearStored(): void {
    for (const [key, el] of this.items) {
      if (key.startsWith('o')) {
        el.remove()
        this.items.delete(key)
      }
    }
    this.updateEmpty()
  }

  /** Shows the "no messages yet" line when the log is empty. */
  updateEmpty(): void {
    this.view.empty.hidden = this.refused || this.items.size > 0
  }

  /** True when the reader is looking at the newest messages. */
  atBottom(): boolean {
    const log = this.view.log
    return log.scrollHeight - log.scrollTop - log.clientHeight <= BOTTOM_SLACK
  }

  /** Scrolls to the newest message and hides the "new messages" marker. */
  scrollToEnd(): void {
    this.view.log.scrollTop = this.view.log.scrollHeight
    this.view.jump.hidden = true
  }

  private settle(follow: boolean): void {
    this.updateEmpty()
    if (follow) this.scrollToEnd()
    else this.view.jump.hidden = false
  }

  private item(key: string, from: Member, text: string, ts: number, own: boolean, offset?: number): HTMLElement {
    const s = this.strings()
    const date = new Date(ts)
    const time = h('time', { part: 'time', datetime: date.toISOString() }, this.time(date))
    const meta = h(
      'div',
      { part: 'message-meta', class: 'meta' },
      // `title`: a name too long for the panel ends in "…" on screen; the pointer shows it whole.
      h(
        'span',
        { part: 'author', class: 'author', dir: 'auto', title: own ? undefined : from.name },
        own ? s.you : from.name,
      ),
      time,
    )
    const bubble = h('div', { part: 'bubble', class: 'bubble', dir: 'auto' }, linkify(text))
    // An operator's reply (only the relay can give that role) is marked, so the visitor knows who answered.
    const op = !own && (from as { role?: string }).role === 'operator'
    const el = h(
      'div',
      {
        part: own ? 'message message-own' : op ? 'message message-operator' : 'message',
        class: `msg${own ? ' own' : op ? ' op' : ''}`,
      },
      meta,
      bubble,
    )
    if (text.length > TALL_CHARS || text.split('\n', TALL_LINES + 1).length > TALL_LINES) this.collapse(el, bubble)
    el.dataset.from = from.id
    el.dataset.ts = String(ts)
    if (offset !== undefined) el.dataset.offset = String(offset)
    this.items.set(key, el)
    return el
  }

  /** Clips a very tall bubble to a few lines, with a button that shows the rest and hides it again. */
  private collapse(el: HTMLElement, bubble: HTMLElement): void {
    const s = this.strings()
    const id = `b${++this.bubbles}`
    bubble.id = id
    bubble.classList.add('clamped')
    const toggle = h(
      'button',
      { type: 'button', part: 'show-more', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': id },
      s.showMore,
    )
    toggle.addEventListener('click', () => {
      const open = bubble.classList.toggle('clamped') === false
      toggle.setAttribute('aria-expanded', String(open))
      toggle.textContent = open ? this.strings().showLess : this.strings().showMore
    })
    el.append(toggle)
  }

  /** Marks `el` as a continuation when the previous message is from the same sender shortly before. */
  private regroup(el: HTMLElement): void {
    const prev = el.previousElementSibling as HTMLElement | null
    const cont =
      !!prev?.classList.contains('msg') &&
      prev.dataset.from === el.dataset.from &&
      Math.abs(Number(el.dataset.ts) - Number(prev.dataset.ts)) < GROUP_GAP
    el.classList.toggle('cont', cont)
  }

  private time(date: Date): string {
    const lang = this.lang()
    if (this.clock?.lang !== lang) this.clock = { lang, format: clockFor(lang) }
    return this.clock.format.format(date)
  }
}

/** A short time formatter for `lang`, or for the browser's locale when `lang` is empty or not a valid tag. */
function clockFor(lang: string): Intl.DateTimeFormat {
  const options: Intl.DateTimeFormatOptions = { hour: 'numeric', minute: '2-digit' }
  try {
    return new Intl.DateTimeFormat(lang || undefined, options)
  } catch (error) {
    // A malformed lang attribute must not break the chat; the browser's locale is a fine fallback.
    if (!(error instanceof RangeError)) throw error
    return new Intl.DateTimeFormat(undefined, options)
  }
}
