import { type ActionHost, actions } from './actions.js'
import type { Member, Message } from './client.js'
import { h } from './dom.js'
import { linkify } from './linkify.js'
import { locale } from './reactions.js'
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
 * What the log asks of the element: its strings and language, and the actions its buttons start. The message
 * actions get a copy of it (`{ ...host }`): give every member as an own property.
 */
export interface LogHost {
  strings(): Strings
  lang(): string
  /** The Retry button of a failed message. */
  retry(key: string): void
  /** True when the room can edit, delete and react (an SDK client; a custom one may not). */
  changes(): boolean
  edit(offset: number, text: string): void
  remove(offset: number): void
  react(offset: number, emoji: string): void
}

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
  /** The state each stored message is shown in (edits, deletes and reactions replace it). */
  private readonly shown = new WeakMap<HTMLElement, Message>()
  /** True while the room is closed to this user: "No messages yet. Say hello!" would be an invitation it cannot keep. */
  refused = false

  private readonly strings: () => Strings
  private readonly actions: ActionHost

  constructor(
    private readonly view: View,
    private readonly host: LogHost,
  ) {
    this.strings = () => host.strings()
    this.actions = { ...host, shown: (el) => this.shown.get(el)!, list: view.log }
    view.log.addEventListener('scroll', () => {
      if (this.atBottom()) view.jump.hidden = true
    })
    view.jump.addEventListener('click', () => {
      // The marker hides itself: keep focus in the widget, on the messages it jumped to.
      this.scrollToEnd()
      view.log.focus()
    })
  }

  /** After `lang` changed: "You", the markers, the action buttons and the dates already shown (locales, issue 16). */
  relabel(): void {
    const s = this.strings()
    const log = this.view.log
    const set = (selector: string, text: string): void => {
      for (const el of log.querySelectorAll(selector)) el.textContent = text
    }
    set('.msg.own .author', s.you)
    set('.edited', s.edited)
    set('.bubble.deleted', s.deleted)
    set('.seen', s.seen)
    for (const b of log.querySelectorAll<HTMLElement>('.tool')) b.setAttribute('aria-label', s[b.dataset.a as 'edit'])
    for (const d of log.querySelectorAll<HTMLElement>('.day')) d.textContent = this.day(Number(d.dataset.ts))
  }

  /** The state shown for the message at `offset`, if it is on screen. */
  get(offset: number): Message | undefined {
    const el = this.items.get(`o${offset}`)
    return el && this.shown.get(el)
  }

  /** Shows a message's new state (an edit, a delete, reactions); a message not on screen is left alone. */
  update(message: Message): void {
    const el = this.items.get(`o${message.offset}`)
    if (el) this.render(el, message)
  }

  /**
   * "Seen" under the last of the user's stored messages when another member has read up to it (conversation mode),
   * and nowhere else.
   */
  seen(upTo: number): void {
    const log = this.view.log
    const last = [...log.querySelectorAll<HTMLElement>('.msg.own[data-offset]')].at(-1)
    const at = last && Number(last.dataset.offset) <= upTo ? last : undefined
    const mark = log.querySelector('.seen')
    if (at && mark?.parentElement === at) return
    mark?.remove()
    at?.append(h('div', { part: 'seen', class: 'seen' }, this.strings().seen))
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
    const el = this.item(`o${message.offset}`, message.from, message.text, message.ts, own, message)
    this.view.log.append(el)
    this.arrange()
    this.settle(follow)
  }

  /** Inserts older messages (oldest first) above everything shown, keeping what the reader sees in place. */
  prepend(messages: Message[], isOwn: (m: Message) => boolean): void {
    const log = this.view.log
    const wasEmpty = this.items.size === 0
    const fromEnd = log.scrollHeight - log.scrollTop
    // Before the first message's day separator, if it has one.
    const first = log.querySelector<HTMLElement>('.day, .msg')
    const fresh = messages.filter((m) => !this.has(m.offset))
    for (const m of fresh) {
      log.insertBefore(this.item(`o${m.offset}`, m.from, m.text, m.ts, isOwn(m), m), first)
    }
    this.arrange()
    this.updateEmpty()
    if (wasEmpty) this.scrollToEnd()
    else log.scrollTop = log.scrollHeight - fromEnd
  }

  /** Shows a message the local user is sending, before the relay has stored it; returns its key. */
  addPending(from: Member, text: string): string {
    const key = `p${++this.seq}`
    const el = this.item(key, from, text, Date.now(), true)
    this.view.log.append(el)
    this.arrange()
    this.setState(key, 'pending')
    this.settle(true)
    return key
  }

  /** Takes a pending message off screen (its chat was stopped: another room now shows here). */
  drop(key: string): void {
    this.items.get(key)?.remove()
    this.items.delete(key)
    this.arrange()
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
      this.render(el, stored)
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
        this.host.retry(key)
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
    this.arrange()
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

  private item(key: string, from: Member, text: string, ts: number, own: boolean, stored?: Message): HTMLElement {
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
    // A tap shows the message's actions where there is no hover (touch screens).
    bubble.addEventListener('click', () => {
      for (const x of this.view.log.querySelectorAll('.active')) if (x !== el) x.classList.remove('active')
      el.classList.toggle('active')
    })
    if (stored) {
      el.dataset.offset = String(stored.offset)
      this.render(el, stored)
    }
    this.items.set(key, el)
    return el
  }

  /**
   * Brings a stored message's element to `m`'s state: its text or the "Message deleted" tombstone, "edited", the
   * reaction counts, and its actions. Parts are changed in place, not rebuilt: the log is a live region, and a
   * reaction button that has focus keeps it.
   */
  private render(el: HTMLElement, m: Message): void {
    const s = this.strings()
    const old = this.shown.get(el)
    this.shown.set(el, m)
    const bubble = el.querySelector<HTMLElement>('.bubble')!
    if (m.deleted) {
      if (old?.deleted) return
      // Focus inside what goes away (a reaction, the editor) goes to the list instead of the page.
      if (el.contains((el.getRootNode() as ShadowRoot).activeElement)) this.view.log.focus()
      for (const x of el.querySelectorAll('.edited,.reacts,.tools,.picker,.editor,.confirm,.toggle')) x.remove()
      bubble.hidden = false
      bubble.className = 'bubble deleted'
      bubble.setAttribute('part', 'bubble message-deleted')
      bubble.replaceChildren(s.deleted)
      return
    }
    if (old?.deleted) {
      // A delete the relay refused: the message comes back.
      bubble.className = 'bubble'
      bubble.setAttribute('part', 'bubble')
    }
    if (old && old.text !== m.text) bubble.replaceChildren(linkify(m.text))
    const mark = el.querySelector('.edited')
    if (!m.editedAt) mark?.remove()
    else if (!mark) bubble.after(h('span', { part: 'edited', class: 'edited' }, s.edited))
    this.reactions(el, m)
    if (!el.querySelector('.tools') && this.host.changes()) el.append(actions(el, this.actions))
  }

  /** The reaction counts as toggle buttons (pressed: the user's own), updated in place. */
  private reactions(el: HTMLElement, m: Message): void {
    const entries = Object.entries(m.reactions ?? {})
    let box = el.querySelector<HTMLElement>('.reacts')
    if (!box && entries.length === 0) return
    if (!box) {
      box = h('div', { part: 'reactions', class: 'reacts' })
      ;(el.querySelector('.edited') ?? el.querySelector('.bubble')!).after(box)
    }
    const old = new Map([...box.children].map((b) => [(b as HTMLElement).dataset.e, b as HTMLElement]))
    for (const [emoji, r] of entries) {
      let chip = old.get(emoji)
      old.delete(emoji)
      if (!chip) {
        chip = h('button', { type: 'button', part: 'reaction', class: 'chip', 'data-e': emoji })
        chip.addEventListener('click', () => this.host.react(m.offset, emoji))
        box.append(chip)
      }
      chip.textContent = `${emoji} ${r.count}`
      chip.setAttribute('aria-pressed', String(!!r.mine))
    }
    for (const chip of old.values()) {
      if ((el.getRootNode() as ShadowRoot).activeElement === chip)
        el.querySelector<HTMLElement>('[data-a=react]')?.focus()
      chip.remove()
    }
    if (!box.firstChild) box.remove()
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

  /**
   * Puts a day separator before the first message of each day and marks a message `cont` when it follows its
   * sender's previous one closely. Separators already right stay: the log is a live region.
   */
  private arrange(): void {
    const log = this.view.log
    let prev: HTMLElement | undefined
    for (const el of log.querySelectorAll<HTMLElement>('.msg')) {
      const ts = Number(el.dataset.ts)
      const day = new Date(ts).toDateString()
      const before = el.previousElementSibling as HTMLElement | null
      const sep = before?.classList.contains('day') ? before : undefined
      const fresh = !prev || new Date(Number(prev.dataset.ts)).toDateString() !== day
      if (sep && (!fresh || sep.dataset.day !== day)) sep.remove()
      if (fresh && sep?.dataset.day !== day) {
        el.before(h('div', { part: 'day', class: 'day', 'data-day': day, 'data-ts': String(ts) }, this.day(ts)))
      }
      el.classList.toggle(
        'cont',
        !fresh && prev!.dataset.from === el.dataset.from && ts - Number(prev!.dataset.ts) < GROUP_GAP,
      )
      prev = el
    }
    // A separator with no message after it (its message was dropped) goes too.
    for (const d of log.querySelectorAll('.day')) if (!d.nextElementSibling?.classList.contains('msg')) d.remove()
  }

  /** "Today", "Yesterday", else the date ("Monday, January 5"; with the year when it is not this year's). */
  private day(ts: number): string {
    const lang = locale(this.host.lang())
    const date = new Date(ts)
    const now = new Date()
    const ago = Math.round((new Date(now.toDateString()).getTime() - new Date(date.toDateString()).getTime()) / 864e5)
    if (ago === 0 || ago === 1) {
      const word = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(-ago, 'day')
      return word.charAt(0).toLocaleUpperCase(lang) + word.slice(1)
    }
    return date.toLocaleDateString(lang, {
      weekday: 'long',
      month: 'long',
      day: 'numeric',
      year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric',
    })
  }

  /** The time of a message; with its date when it is not from today, since its separator may be far above. */
  private time(date: Date): string {
    const today = date.toDateString() === new Date().toDateString()
    return date.toLocaleString(locale(this.host.lang()), {
      hour: 'numeric',
      minute: '2-digit',
      ...(!today && { month: 'short', day: 'numeric' }),
    })
  }
}
