import type { Member } from '@confab/sdk/protocol'

/** Told when a user starts or stops typing in a room (including by expiry). */
export type TypingChange = (room: string, user: Member, active: boolean) => void

/**
 * Who is typing where, from this node's connections. A start is announced
 * once and refreshes only push the expiry back; one timer for the whole
 * node expires what was not refreshed, so "is typing" cannot stick.
 */
export class Typing {
  /** Room -> user id -> the typist and when its typing expires (ms since epoch). */
  readonly #rooms = new Map<string, Map<string, { user: Member; expires: number }>>()
  readonly #timeout: number
  readonly #changed: TypingChange
  #sweeper: NodeJS.Timeout | null = null

  /** `timeout`: ms a typing lasts without a refresh. */
  constructor(timeout: number, changed: TypingChange) {
    this.#timeout = timeout
    this.#changed = changed
  }

  /** Starts the expiry timer. */
  start(): void {
    const every = Math.max(10, Math.min(1000, Math.floor(this.#timeout / 5)))
    this.#sweeper = setInterval(() => this.#expire(Date.now()), every)
    this.#sweeper.unref()
  }

  /** Stops the expiry timer. */
  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = null
  }

  /** The user typed (`active`) or stopped; only a change is announced. */
  set(room: string, user: Member, active: boolean): void {
    if (!active) {
      this.clear(room, user.id)
      return
    }
    let typists = this.#rooms.get(room)
    if (!typists) {
      typists = new Map()
      this.#rooms.set(room, typists)
    }
    const expires = Date.now() + this.#timeout
    const current = typists.get(user.id)
    if (current) {
      current.expires = expires
      return
    }
    typists.set(user.id, { user, expires })
    this.#changed(room, user, true)
  }

  /** The user is no longer typing in the room (stopped, or its last connection left). */
  clear(room: string, userId: string): void {
    const typists = this.#rooms.get(room)
    const entry = typists?.get(userId)
    if (!typists || !entry) return
    typists.delete(userId)
    if (typists.size === 0) this.#rooms.delete(room)
    this.#changed(room, entry.user, false)
  }

  /** Only rooms with someone typing are visited. */
  #expire(now: number): void {
    for (const [room, typists] of this.#rooms) {
      for (const [userId, entry] of typists) if (entry.expires <= now) this.clear(room, userId)
    }
  }
}
