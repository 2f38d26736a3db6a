/** App-level dead-connection detection (browsers hide WebSocket pings from scripts). */
export interface Liveness {
  /** Starts or restarts watching with a deadline of `interval` ms without any frame. */
  start(interval: number): void
  /** A frame arrived: the link is alive. */
  touch(): void
  /** The link may be stale (network change, tab woke up): ping now and expect an answer within `within` ms. */
  probe(within: number): void
  /** Stops watching. */
  stop(): void
}

/**
 * Watches a link: after `interval / 2` ms without a frame it calls `ping`, and when
 * `interval` ms pass without one it calls `dead`. One timer, re-armed per check,
 * so a busy link costs a timestamp per frame, not a timer.
 */
export function createLiveness(ping: () => void, dead: () => void): Liveness {
  let interval = 0
  let last = 0
  let pinged = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const check = (): void => {
    const idle = Date.now() - last
    if (idle >= interval) {
      timer = undefined
      dead()
      return
    }
    const half = interval / 2
    if (idle >= half && !pinged) {
      pinged = true
      ping()
    }
    timer = setTimeout(check, (idle >= half ? interval : half) - idle)
  }

  return {
    start(ms) {
      interval = ms
      last = Date.now()
      pinged = false
      clearTimeout(timer)
      check()
    },
    touch() {
      last = Date.now()
      pinged = false
    },
    probe(within) {
      if (timer === undefined) return
      // Pretend the link has been quiet long enough that at most `within` ms remain: a probe
      // brings the deadline forward, never back (probes may repeat, and `within` may exceed `interval`).
      last = Math.min(last, Date.now() - interval + within)
      pinged = true
      ping()
      clearTimeout(timer)
      // Already pinged: the check only sets the new deadline.
      check()
    },
    stop() {
      clearTimeout(timer)
      timer = undefined
    },
  }
}
