import { newId } from '@confab/sdk'
import type { ChatClient, ChatRoom, Member, Message, Status } from './client.js'
import type { MessageLog } from './log.js'
import { locale, toggled } from './reactions.js'
import { typingText, type View } from './render.js'
import { format, type Strings } from './strings.js'

/** Messages asked for on join and per "load earlier" page. */
export const PAGE = 50

/** What a {@link Chat} needs from the element that hosts it. */
export interface ChatHost {
  strings(): Strings
  /**
   * A message was shown for the first time: one of ours once stored, or anyone's arriving
   * through the room (`live` is false for the recent history delivered with the join).
   */
  message(message: Message, own: boolean, live: boolean): void
  status(status: Status): void
  /** An SDK call failed (a send, a history page); the UI already shows it where it matters. */
  error(error: unknown): void
  /** The room is joined (again): its history is on screen. */
  joined?: (() => void) | undefined
  /** The header's presence line, when the host words it (conversation mode); default "{n} online". */
  presence?: (() => string) | undefined
  /** Show "Seen" under the user's last message once another member has read it (conversation mode). */
  receipts?: boolean
  /** Another member's read position moved, or the user's own did in another tab: the badge may change. */
  read?: (() => void) | undefined
}

interface Outgoing {
  /**
   * The message id, made before the first attempt: our own broadcast settles the bubble by it even when it
   * arrives before the ack, and every retry reuses it, so the relay stores the message once.
   */
  id: string
  text: string
  failed: boolean
}

/** The relay's default `maxText`, for a client that does not tell the announced limits. */
const MAX_TEXT = 4_000

/** Codes that refuse a message for good: sending it again would be refused again, so no Retry is offered. */
const REFUSED: Partial<Record<string, 'refusedTooLong' | 'refusedTooLongUnknown' | 'refusedForbidden' | 'refusedBad'>> =
  {
    too_large: 'refusedTooLong',
    forbidden: 'refusedForbidden',
    unauthorized: 'refusedForbidden',
    bad_request: 'refusedBad',
  }

/** The banner of a client the relay stopped for good, by the code of its last error. */
const STOPPED: Partial<Record<string, 'unauthorized' | 'siteRefused'>> = {
  unauthorized: 'unauthorized',
  token_expired: 'unauthorized',
  // A relay closes with "forbidden" a page whose origin it does not allow.
  forbidden: 'siteRefused',
}

/**
 * One conversation: a client joined to one room, wired to the view. Owns the
 * pending/sent/failed life of outgoing messages, history paging, presence,
 * typing and the connection banner.
 */
export class Chat {
  readonly room: ChatRoom
  private readonly unbind: (() => void)[] = []
  private readonly outgoing = new Map<string, Outgoing>()
  private stopped = false
  private joined = false
  private loading = false
  private members: Member[] = []
  private typists: Member[] = []
  /** The code of the last error the client reported that no promise did (a refused token, room or origin). */
  private refusal: string | undefined
  /** True when the client restored the room's position from storage: its first join resumes, with no history. */
  private readonly resumed: boolean
  /** True while the relay refuses this user the room (`forbidden` on join); cleared by a join that succeeds. */
  private roomRefused = false

  constructor(
    readonly client: ChatClient,
    private readonly ownsClient: boolean,
    roomName: string,
    private readonly view: View,
    private readonly log: MessageLog,
    private readonly host: ChatHost,
  ) {
    this.room = client.join(roomName, { history: PAGE })
    this.resumed = this.room.position !== undefined
    const banner = (): void => this.refresh()
    addEventListener('online', banner)
    addEventListener('offline', banner)
    this.unbind.push(
      () => removeEventListener('online', banner),
      () => removeEventListener('offline', banner),
      client.on('status', (status) => {
        this.refresh()
        host.status(status)
      }),
      client.on('error', (error) => this.refuse(error)),
      this.room.on('message', (m) => this.receive(m)),
      // The new state of a message edited, deleted or reacted to (the SDK fills in `mine`).
      this.room.on('update', (m) => this.log.update(m)),
      this.room.on('read', () => {
        this.seen()
        host.read?.()
      }),
      this.room.on('presence', (members) => this.presence(members)),
      this.room.on('typing', (members) => {
        this.typists = members
        this.refresh()
      }),
      this.room.on('reset', () => {
        // The relay lost the history we had: what follows is a fresh view of the room.
        this.log.clearStored()
        this.joined = false
        this.busy(true)
      }),
    )
    this.busy(true)
    this.refresh()
  }

  /** The longest text the relay accepts (its `welcome` limits; the default before the first one). */
  get maxText(): number {
    return this.client.limits?.maxText ?? MAX_TEXT
  }

  /** Shows `text` as pending at once, sends it, and resolves with the stored message. */
  send(text: string): Promise<Message> {
    const key = this.log.addPending(this.me(), text)
    this.outgoing.set(key, { id: newId(), text, failed: false })
    return this.deliver(key)
  }

  /** Sends a failed message again (the retry button), with its first id: a first attempt the relay stored after all is not doubled. */
  retry(key: string): void {
    const entry = this.outgoing.get(key)
    if (!entry?.failed) return
    entry.failed = false
    this.log.setState(key, 'pending')
    // A second failure shows the retry button again and reaches the page as confab-error.
    this.deliver(key).catch(() => undefined)
  }

  /**
   * Edits, deletes or reacts to (toggles `emoji` on) the message at `offset`. The change shows at once; when the
   * relay refuses it, the message is shown as it was and the composer's note says so.
   */
  change(offset: number, action: 'edit' | 'delete' | 'react', arg = ''): void {
    const room = this.room
    const before = this.log.get(offset)
    if (!before || !room.edit || !room.delete || !room.react) return
    this.log.update(
      action === 'edit'
        ? { ...before, text: arg, editedAt: Date.now() }
        : action === 'delete'
          ? { ...before, text: '', deleted: true }
          : toggled(before, arg),
    )
    const done =
      action === 'edit' ? room.edit(offset, arg) : action === 'delete' ? room.delete(offset) : room.react(offset, arg)
    done.then(
      (m) => this.log.update(m),
      (error: unknown) => {
        if (this.stopped) return
        this.log.update(before)
        this.view.note.textContent = this.host.strings().changeFailed
        this.host.error(error)
      },
    )
  }

  /** Loads the page of messages before the oldest one shown. */
  async loadEarlier(): Promise<void> {
    // With nothing shown yet (see fill), the page is the latest one.
    const before = this.log.oldest()
    if (this.loading || !this.joined || (before !== undefined && before <= 1)) return
    this.loading = true
    // aria-disabled, not disabled: a disabled button drops keyboard focus to <body>.
    this.view.more.setAttribute('aria-disabled', 'true')
    // A page of 50 older messages is not news: keep screen readers from reading it out.
    this.busy(true)
    try {
      const older = await this.room.history(before === undefined ? { limit: PAGE } : { before, limit: PAGE })
      this.log.prepend(older, (m) => this.isOwn(m))
      // Offsets start at 1, so anything above it means older messages may still be retained.
      if (older.length === 0) this.hideMore(true)
      else this.updateMore()
    } catch (error) {
      this.host.error(error)
    } finally {
      this.loading = false
      this.view.more.removeAttribute('aria-disabled')
      this.busy(false)
    }
  }

  /** Tells the room the user is typing (the SDK throttles). */
  typing(): void {
    this.room.typing()
  }

  /** Unsubscribes, takes this chat's unsent messages off screen, leaves the room and closes the client when the widget opened it. */
  stop(): void {
    this.stopped = true
    for (const off of this.unbind.splice(0)) off()
    for (const key of this.outgoing.keys()) this.log.drop(key)
    this.outgoing.clear()
    this.room.leave()
    if (this.ownsClient) this.client.close()
  }

  private async deliver(key: string): Promise<Message> {
    const entry = this.outgoing.get(key)!
    try {
      const stored = await this.room.send(entry.text, { id: entry.id })
      if (this.outgoing.delete(key)) {
        const seen = this.log.has(stored.offset)
        this.log.setState(key, 'sent', stored)
        if (!seen) this.host.message(stored, true, true)
        this.seen()
      }
      return stored
    } catch (error) {
      if (this.outgoing.has(key)) {
        const { code } = (error ?? {}) as { code?: string }
        entry.failed = true
        let refused = code === undefined ? undefined : REFUSED[code]
        // Without the relay's announced limits the number would be a guess: say "too long" alone.
        if (refused === 'refusedTooLong' && !this.client.limits) refused = 'refusedTooLongUnknown'
        if (refused) {
          // Retry would be refused the same way: say why instead, and forget the message.
          this.outgoing.delete(key)
          const s = this.host.strings()
          this.log.setState(key, 'refused', undefined, format(s[refused], { max: this.maxText.toLocaleString() }))
        } else {
          // A late ack is "not confirmed yet": the SDK keeps the message queued and resends it (same id) after it
          // reconnects, and our own broadcast of it then settles the bubble in receive().
          this.log.setState(key, code === 'timeout' ? 'unconfirmed' : 'failed')
        }
      }
      // A stopped chat's room is no longer on screen: its late failures are the caller's alone.
      if (!this.stopped) this.host.error(error)
      throw error
    }
  }

  private receive(m: Message): void {
    if (this.log.has(m.offset)) return
    if (this.typists.some((t) => t.id === m.from.id)) {
      // Whoever just sent has stopped typing, even if their "stopped" signal is still on its way.
      this.typists = this.typists.filter((t) => t.id !== m.from.id)
      this.refresh()
    }
    const own = this.isOwn(m)
    if (own) {
      // Our own broadcast can beat the ack, and the replay after a reconnect can bring a message whose
      // send failed (its ack was lost): settle the bubble with the same id instead of adding a twin.
      for (const [key, entry] of this.outgoing) {
        if (entry.id === m.id) {
          this.outgoing.delete(key)
          this.log.setState(key, 'sent', m)
          this.host.message(m, true, true)
          this.seen()
          return
        }
      }
    }
    this.log.append(m, own)
    this.host.message(m, own, this.joined)
    if (own) this.seen()
  }

  /** "Seen" under the user's last message when the furthest read position of the others has reached it. */
  private seen(): void {
    if (this.host.receipts) this.log.seen(Math.max(0, ...(this.room.reads ?? []).map((r) => r.offset)))
  }

  private presence(members: Member[]): void {
    this.members = members
    if (!this.joined) {
      // The SDK emits presence right after `joined`, once the join's history has been delivered.
      this.joined = true
      this.roomRefused = this.log.refused = false
      this.busy(false)
      this.log.updateEmpty()
      this.updateMore()
      if (this.resumed) this.fill()
      this.seen()
      this.host.joined?.()
    }
    this.refresh()
  }

  /**
   * Loads the latest page when a resumed join brought less: a client that restored the room's position from storage
   * (another page of the site) resumes from there, and gets only what was said since.
   */
  private fill(): void {
    const oldest = this.log.oldest()
    if (this.log.size < PAGE && (oldest === undefined || oldest > 1)) void this.loadEarlier()
  }

  /** An error no promise reported: a refused room, token or origin. */
  private refuse(error: { code: string }): void {
    this.refusal = error.code
    // The only join refusal the SDK reports here; one for another room of a shared client cannot be told apart,
    // so it counts only while this room is not joined.
    if (error.code === 'forbidden' && !this.joined && this.client.status === 'open') {
      this.roomRefused = this.log.refused = true
      this.log.updateEmpty()
      this.hideMore(true)
      this.busy(false)
    }
    this.host.error(error)
    this.refresh()
  }

  /** aria-busy on the log: while true, screen readers hold back its additions. */
  private busy(on: boolean): void {
    this.view.log.setAttribute('aria-busy', String(on))
  }

  private updateMore(): void {
    const oldest = this.log.oldest()
    this.hideMore(oldest === undefined || oldest <= 1)
  }

  private hideMore(hide: boolean): void {
    // The button may have focus (Enter on it): hand focus to the log before it disappears.
    if (hide && (this.view.more.getRootNode() as ShadowRoot).activeElement === this.view.more) this.view.log.focus()
    this.view.more.hidden = hide
  }

  /** Banner, presence count, composer and typing line from the current state (also after `lang` changed). */
  refresh(): void {
    const s = this.host.strings()
    const status = this.client.status
    const stopped = status === 'closed'
    let banner = ''
    if (stopped) banner = s[(this.refusal && STOPPED[this.refusal]) || 'closed']
    else if (this.roomRefused) banner = s.forbidden
    else if (typeof navigator !== 'undefined' && navigator.onLine === false) banner = s.offline
    else if (status === 'reconnecting') banner = s.reconnecting
    // The banner takes its room from the top of the log: a reader at the newest message stays there.
    const follow = this.log.atBottom()
    this.view.banner.textContent = banner
    if (follow) this.log.scrollToEnd()
    // Sending cannot work in a stopped client or a refused room: say so by disabling, not by failing later.
    this.view.input.disabled = this.view.sendButton.disabled = stopped || this.roomRefused
    // Who is online is known only while connected; an old count would claim people can hear you.
    // The relay's count (a large room lists only its first page of names), in the reader's digits: "1,234 online".
    const n = this.room.memberCount ?? this.members.length
    this.view.presence.textContent =
      status !== 'open'
        ? ''
        : this.host.presence
          ? this.host.presence()
          : n
            ? format(s.online, { n: n.toLocaleString(locale(this.view.root.lang)) })
            : ''
    const me = this.client.user?.id
    this.view.typing.textContent = typingText(
      s,
      this.typists.filter((m) => m.id !== me).map((m) => m.name),
    )
  }

  private isOwn(m: Message): boolean {
    return !!this.client.user && m.from.id === this.client.user.id
  }

  private me(): Member {
    return this.client.user ?? { id: '', name: '' }
  }
}
