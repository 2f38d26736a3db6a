/**
 * Every default and fixed delay of the SDK, in one place. Times are in milliseconds.
 * Options of `connect` override the first group; the rest are protocol timing the app cannot change.
 */
export const DEFAULTS = {
  /** Backoff between reconnect attempts: ceiling of the first delay, the cap, growth per attempt, full jitter. */
  reconnect: { minDelay: 500, maxDelay: 30_000, factor: 2, jitter: true },
  /** Wait for an ack once a message is on the wire; also the deadline of a history page, from the call. */
  sendTimeout: 10_000, // 10 seconds
  /** Messages that may wait for an ack at once, queued and in flight together. */
  outbox: 100,
  /** Silence before the link counts as dead, until a `welcome` announces the relay's heartbeat. */
  heartbeat: 20_000, // 20 seconds
  /** A connection must stay up this long before the backoff attempts count from zero again. */
  stableAfter: 5_000, // 5 seconds
  /** Upper bound of the random delay before reconnecting after a close with 1012 or 1013. */
  soon: 5_000, // 5 seconds
  /** A probed link (after `online`, `visibilitychange`, `pageshow`) must show a frame within this. */
  probeWithin: 5_000, // 5 seconds
  /** Retry delay of a frame answered `unavailable` or `rate_limited` without a `retryAfter`. */
  retryLater: 1_000, // 1 second
  /** Least time between two `typing` frames while the user keeps typing. */
  typingEvery: 2_000, // 2 seconds
  /** No keystroke for this long means the user stopped: the SDK says so. */
  typingIdle: 3_000, // 3 seconds
  /** A typist the relay neither refreshed nor stopped for this long is dropped anyway. */
  typingExpire: 6_000, // 6 seconds
}
