/**
 * A token bucket: `rate` tokens per second refill up to `burst`. Time is
 * read only when a token is taken, so an idle bucket costs nothing.
 */
export class TokenBucket {
  readonly #rate: number
  readonly #burst: number
  readonly #now: () => number
  #tokens: number
  #updated: number

  /** `rate` per second, `burst` at most; `now` in ms (default Date.now). */
  constructor(rate: number, burst: number, now: () => number = Date.now) {
    this.#rate = rate
    this.#burst = burst
    this.#now = now
    this.#tokens = burst
    this.#updated = now()
  }

  /** Takes one token: 0 when granted, otherwise the ms until one is available. */
  take(): number {
    const now = this.#now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updated) * this.#rate) / 1000)
    this.#updated = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#rate)
  }
}

/** Counts open sockets per client address, to cap them. */
export class AddressCounter {
  readonly #counts = new Map<string, number>()
  readonly #max: number

  /** At most `max` at once per address. */
  constructor(max: number) {
    this.#max = max
  }

  /** Counts one more for the address; false (and nothing counted) when it is at the cap. */
  acquire(address: string): boolean {
    const count = this.#counts.get(address) ?? 0
    if (count >= this.#max) return false
    this.#counts.set(address, count + 1)
    return true
  }

  /** Counts one less for the address. */
  release(address: string): void {
    const count = this.#counts.get(address) ?? 0
    if (count <= 1) this.#counts.delete(address)
    else this.#counts.set(address, count - 1)
  }
}
