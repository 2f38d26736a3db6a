import type { ErrorCode } from './protocol.js'

/** Every code a {@link ConfabError} can carry: the relay's codes plus the SDK's own two. */
export type ConfabErrorCode = ErrorCode | 'timeout' | 'closed'

/**
 * The one error type the SDK rejects with and emits. `code` is stable and meant
 * for programs; `message` is for people and logs.
 */
export class ConfabError extends Error {
  /** What went wrong, from a fixed list (docs/sdk.md). */
  declare readonly code: ConfabErrorCode
  /** Milliseconds the relay asked to wait before trying again (`rate_limited`, `unavailable`). */
  declare readonly retryAfter?: number
  /**
   * On a rejected `room.send`: the message's id. A `timeout` means "not confirmed yet" (the message
   * stays queued), so retry with `room.send(text, { id: error.id })`: that waits for the queued message,
   * and the relay answers a repeated id with the original message instead of storing a second copy.
   */
  declare readonly id?: string

  constructor(code: ConfabErrorCode, message: string, retryAfter?: number, id?: string) {
    super(message)
    // `declare`d fields and one assign: the same own properties as field initializers, in fewer bytes.
    Object.assign(this, { name: 'ConfabError', code, retryAfter, id })
  }
}

/** True for the relay's "not now" codes (`rate_limited`, `unavailable`): the frame goes again later, unchanged. */
export const notNow = (code: string): boolean => code === 'rate_limited' || code === 'unavailable'
