import type { ErrorCode } from './protocol.js'

/** Every code a {@link ConfabError} can carry: the relay's codes plus the SDK's own two. */
export type ConfabErrorCode = ErrorCode | 'timeout' | 'closed'

/**
 * The one error type the SDK rejects with and emits. `code` is stable and meant
 * for programs; `message` is for people and logs.
 */
export class ConfabError extends Error {
  /** What went wrong, from a fixed list (docs/sdk.md). */
  readonly code: ConfabErrorCode
  /** Milliseconds the relay asked to wait before trying again (`rate_limited`, `unavailable`). */
  readonly retryAfter?: number

  constructor(code: ConfabErrorCode, message: string, retryAfter?: number) {
    super(message)
    this.name = 'ConfabError'
    this.code = code
    this.retryAfter = retryAfter
  }
}
