import type { Member } from '@confab/sdk/protocol'

/** Told when a user starts or stops typing in a room (including by expiry). */
export type TypingChange = (room: string, user: Member, active: boolean) => void

/**
 * Typing changes announced per user per room within `TRANSITION_WINDOW`:
 * toggling typing on and off as fast as the frame rate allows would otherwise
 * reach every member as one frame per toggle. Two starts and two stops cover
 * any real typist; further changes wait for the window and are announced as
 * the latest state only, so what members see is late at worst, never wrong.
 */
export const MAX_TRANSITIONS = 4
export const TRANSITION_WINDOW = 3000 // 3 seconds

/**
 * A typist who keeps typing is announced again this often, so that members
 * who expire remote typists on their own clock (the SDK after 6 seconds) keep
 * showing a continuous typist. Refreshes in between are not rebroadcast.
 */
export const REANNOUNCE_EVERY = 3000 // 3 seconds

/** One user's typing in one room. */
interface Typist {
  user: Member
  /** Typing now, as the user's frames (and expiry) say. */
  typing: boolean
  /** What members were last told, and when (ms since epoch). */
  announced: boolean
  announcedAt: number
  /** When typing expires without a refresh (ms since epoch). */
  expires: number
  /** Start of the current transition window, and transitions announced in it. */
  windowStart: number
  transitions: number
}

/**
 * Who is typing where, from this node's connections. A start is announced
 * once and refreshes only push the expiry back; one timer for the whole
 * node expires what was not refreshed (so "is typing" cannot stick) and
 * announces changes that waited for their user's transition budget.
 */
export class Typing {
  /** Room -> user id -> typist; a user stays listed while a change waits or its window is open. */
  readonly #rooms = new Map<string, Map<string, Typist>>()
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
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), every)
    this.#sweeper.unref()
  }

  /** Stops the expiry timer. */
  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = null
  }

  /** The user typed (`active`) or stopped; a change is announced within the user's budget, a refresh every {@link REANNOUNCE_EVERY} ms at most. */
  set(room: string, user: Member, active: boolean): void {
    const now = Date.now()
    let typists = this.#rooms.get(room)
    let typist = typists?.get(user.id)
    if (!typist) {
      if (!active) return
      typist = { user, typing: false, announced: false, announcedAt: 0, expires: 0, windowStart: now, transitions: 0 }
      if (!typists) {
        typists = new Map()
        this.#rooms.set(room, typists)
      }
      typists.set(user.id, typist)
    }
    if (active) typist.expires = now + this.#timeout
    if (typist.typing === active) {
      if (active && typist.announced && now - typist.announcedAt >= REANNOUNCE_EVERY) {
        typist.announcedAt = now
        this.#changed(room, typist.user, true)
      }
      return
    }
    typist.typing = active
    this.#announce(room, typist, now)
  }

  /**
   * The user's message was published: its typing ends without a frame, since
   * members clear a typist when its message arrives. The next typing frame is
   * then a start again and is announced (within the budget).
   */
  sent(room: string, userId: string): void {
    const typist = this.#rooms.get(room)?.get(userId)
    if (!typist) return
    typist.typing = false
    typist.announced = false
  }

  /** The user's last connection left the room: a stop members were not told yet is announced now, whatever the budget. */
  clear(room: string, userId: string): void {
    const typists = this.#rooms.get(room)
    const typist = typists?.get(userId)
    if (!typists || !typist) return
    typists.delete(userId)
    if (typists.size === 0) this.#rooms.delete(room)
    if (typist.announced) this.#changed(room, typist.user, false)
  }

  /** Tells members the typist's state when it differs from what they know and the budget allows. */
  #announce(room: string, typist: Typist, now: number): void {
    if (typist.typing === typist.announced) return
    if (now - typist.windowStart >= TRANSITION_WINDOW) {
      typist.windowStart = now
      typist.transitions = 0
    }
    if (typist.transitions >= MAX_TRANSITIONS) return // announced by a later sweep
    typist.transitions++
    typist.announced = typist.typing
    typist.announcedAt = now
    this.#changed(room, typist.user, typist.typing)
  }

  /** Expires unrefreshed typing, announces what waited, forgets idle typists; only rooms with typists are visited. */
  #sweep(now: number): void {
    for (const [room, typists] of this.#rooms) {
      for (const [userId, typist] of typists) {
        if (typist.typing && typist.expires <= now) typist.typing = false
        this.#announce(room, typist, now)
        if (!typist.typing && !typist.announced && now - typist.windowStart >= TRANSITION_WINDOW) {
          typists.delete(userId)
        }
      }
      if (typists.size === 0) this.#rooms.delete(room)
    }
  }
}
