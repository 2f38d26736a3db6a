import { DEFAULTS } from './defaults.js'

/** How the SDK waits between reconnect attempts. Every field is optional. */
export interface ReconnectOptions {
  /** Milliseconds: the ceiling of the first retry's delay (default 500). */
  minDelay?: number
  /** Milliseconds: no delay is ever longer than this (default 30,000). */
  maxDelay?: number
  /** Growth of the ceiling per failed attempt (default 2). */
  factor?: number
  /**
   * Full jitter: each delay is uniformly random below its ceiling (default true).
   * Turn it off only to measure what it buys: without it every client that lost
   * the relay at the same moment comes back at the same moment.
   */
  jitter?: boolean
}

/** Defaults of {@link ReconnectOptions} (kept in DEFAULTS with the SDK's other defaults). */
export const RECONNECT: Required<ReconnectOptions> = DEFAULTS.reconnect

/**
 * Milliseconds to wait before reconnect attempt number `attempt` (0 for the first):
 * exponential growth capped at `maxDelay`, with full jitter. Pure, given `random`.
 */
export function backoff(attempt: number, o: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelay, o.minDelay * o.factor ** attempt)
  return o.jitter ? random() * ceiling : ceiling
}
