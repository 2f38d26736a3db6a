const FIRING = Symbol('firing')

/**
 * Items that each fall due a fixed `delay` after they were added. Since the
 * delay is the same for all, due order is insertion order: a FIFO and one
 * timer for the oldest replace a timer per item (a hello deadline per socket
 * would be thousands of timers during a reconnect storm).
 */
export class Deadlines<T> {
  readonly #delay: number
  readonly #due: (item: T) => void
  readonly #now: () => number
  #items: (T | undefined)[] = []
  #times: number[] = []
  #head = 0
  #timer: NodeJS.Timeout | typeof FIRING | null = null
  #stopped = false

  /** `delay` in ms; `due(item)` runs once per item when its time has come (it decides whether anything is left to do). */
  constructor(delay: number, due: (item: T) => void, now: () => number = Date.now) {
    this.#delay = delay
    this.#due = due
    this.#now = now
  }

  /** Items added and not yet due. */
  get size(): number {
    return this.#items.length - this.#head
  }

  /** Schedules `item` for `delay` ms from now. */
  add(item: T): void {
    if (this.#stopped) return
    this.#items.push(item)
    this.#times.push(this.#now() + this.#delay)
    if (this.#timer === null) this.#arm(this.#delay)
  }

  /** Drops every pending item without calling `due`; later `add`s are ignored. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== null && this.#timer !== FIRING) clearTimeout(this.#timer)
    this.#timer = null
    this.#items = []
    this.#times = []
    this.#head = 0
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, ms))
    this.#timer.unref()
  }

  #fire(): void {
    // Non-null while firing, so that an `add` from `due` does not arm a second timer.
    this.#timer = FIRING
    const now = this.#now()
    const items = this.#items
    const times = this.#times
    while (this.#head < items.length && (times[this.#head] as number) <= now) {
      const item = items[this.#head] as T
      // Cleared before the call, so the queue never keeps a finished item alive.
      items[this.#head] = undefined
      this.#head++
      this.#due(item)
      if (this.#stopped) return
    }
    this.#timer = null
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#times = []
      this.#head = 0
      return
    }
    // Shift the live part down once the dead prefix is the larger half: amortized O(1) per item.
    if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head)
      this.#times = times.slice(this.#head)
      this.#head = 0
    }
    this.#arm((this.#times[this.#head] as number) - now)
  }
}
