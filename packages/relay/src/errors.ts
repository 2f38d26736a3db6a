import type { ErrorCode, ErrorFrame } from '@confab/sdk/protocol'
import { ChangeRefusedError, StoreUnavailableError } from './store/types'

/**
 * Something a client did that the relay refuses, with the stable code the
 * client sees. Anything else thrown on a client's behalf is a bug: it is
 * logged and the client gets `internal`, never the bug's message.
 */
export class ClientError extends Error {
  override name = 'ClientError'
  /** The protocol error code. */
  readonly code: ErrorCode
  /** Milliseconds before a retry makes sense (`rate_limited`, `unavailable`). */
  readonly retryAfter: number | undefined

  constructor(code: ErrorCode, message: string, retryAfter?: number) {
    super(message)
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** Where an error frame points back to: the frame it answers. */
export interface ErrorContext {
  ref?: string | undefined
  room?: string | undefined
}

/**
 * The one place that builds `error` frames. Only the code, a fixed human
 * message, and the ref/room the client itself sent go out: never a stack,
 * a token, or another user's data.
 */
export function errorFrame(error: ClientError, context: ErrorContext = {}): ErrorFrame {
  const frame: ErrorFrame = { type: 'error', code: error.code, message: error.message }
  if (context.ref !== undefined) frame.ref = context.ref
  if (context.room !== undefined) frame.room = context.room
  if (error.retryAfter !== undefined) frame.retryAfter = error.retryAfter
  return frame
}

/** How long a client should wait when the store is unreachable, in ms. */
const UNAVAILABLE_RETRY = 2000

/**
 * The client-facing form of any thrown value: client errors pass, an
 * unreachable store becomes `unavailable`, everything else `internal`.
 */
export function asClientError(error: unknown): ClientError {
  if (error instanceof ClientError) return error
  // The store checked a change against its target (not_found, forbidden, limit_exceeded).
  if (error instanceof ChangeRefusedError) return new ClientError(error.code, error.message)
  if (error instanceof StoreUnavailableError) {
    return new ClientError('unavailable', 'storage is unavailable, try again', UNAVAILABLE_RETRY)
  }
  return new ClientError('internal', 'internal error')
}

/** True when the error is the client's doing or an outage, not a bug worth an error log. */
export function isExpected(error: unknown): boolean {
  return error instanceof ClientError || error instanceof StoreUnavailableError || error instanceof ChangeRefusedError
}
