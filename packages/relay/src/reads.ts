/** Options of `ReadReceipts`. */
export interface ReadReceiptsOptions {
  /** Tells the room's members, on every node, where `user` has read up to. */
  send(room: string, user: string, offset: number): void
  /** Shortest time between two announcements of one user's position in one room, in ms (default 1,000). */
  interval?: number
  /** Most positions this node remembers (default 10,000); the least recently moved are forgotten first. */
  limit?: number
}

/** Length-prefixed, so no two pairs spell one key. */
const key = (room: string, user: string): string => `${room.length}:${room}${user}`

/**
 * Read receipts on one node: which positions it knows (a joiner's own from
 * the store, a sender's own from its messages, the others' from receipts),
 * so a `read` frame that moved nothing announces nothing, and the throttle
 * that announces a user's position in a room at most once per interval,
 * trailing: the latest position always goes out at the end of the interval.
 */
export class ReadReceipts {
  readonly #o: ReadReceiptsOptions
  readonly #interval: number
  readonly #limit: number
  /** Known positions, least recently moved first. */
  readonly #known = new Map<string, number>()
  /** Users announced within the interval: the position waiting for its end, if any. */
  readonly #cooling = new Map<string, { pending: number | null; timer: NodeJS.Timeout }>()

  constructor(options: ReadReceiptsOptions) {
    this.#o = options
    this.#interval = options.interval ?? 1000 // 1 second
    this.#limit = options.limit ?? 10_000
  }

  /** Records a position this node learnt (never moves one back); true when it is further than the one known. */
  learn(room: string, user: string, offset: number): boolean {
    const k = key(room, user)
    const known = this.#known.get(k)
    if (known !== undefined && known >= offset) return false
    this.#known.delete(k)
    this.#known.set(k, offset)
    if (this.#known.size > this.#limit) this.#known.delete(this.#known.keys().next().value as string)
    return true
  }

  /** Announces the user's new position now, or at the end of its interval when one went out within it. */
  announce(room: string, user: string, offset: number): void {
    const k = key(room, user)
    const cooling = this.#cooling.get(k)
    if (cooling !== undefined) {
      cooling.pending = Math.max(cooling.pending ?? 0, offset)
      return
    }
    this.#o.send(room, user, offset)
    this.#cool(k, room, user)
  }

  #cool(k: string, room: string, user: string): void {
    const timer = setTimeout(() => {
      const { pending } = this.#cooling.get(k) ?? { pending: null }
      this.#cooling.delete(k)
      if (pending === null) return
      this.#o.send(room, user, pending)
      this.#cool(k, room, user)
    }, this.#interval)
    timer.unref()
    this.#cooling.set(k, { pending: null, timer })
  }

  /** Clears the timers (positions waiting are not announced). */
  stop(): void {
    for (const { timer } of this.#cooling.values()) clearTimeout(timer)
    this.#cooling.clear()
  }
}
