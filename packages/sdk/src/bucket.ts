/** A token bucket: `burst` tokens, refilled at `rate` per second. */
export interface Bucket {
  /** Takes a token and returns 0, or returns the milliseconds until one is available (taking none). */
  take(): number
}

/**
 * Mirrors the relay's publish limit (`publishRate`, `publishBurst` from `welcome`) so that
 * a full outbox flushed after a reconnect is paced, not refused with `rate_limited`.
 */
export function createBucket(rate: number, burst: number): Bucket {
  let tokens = burst
  let last = Date.now()
  return {
    take() {
      const now = Date.now()
      tokens = Math.min(burst, tokens + ((now - last) * rate) / 1_000)
      last = now
      if (tokens >= 1) {
        tokens--
        return 0
      }
      return Math.ceil(((1 - tokens) * 1_000) / rate)
    },
  }
}
