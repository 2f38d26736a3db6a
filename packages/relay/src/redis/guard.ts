import { StoreUnavailableError } from '../store/types'

// Redis replies that mean "not now" rather than "your command is wrong" (MOVED and ASK reach the
// caller only from a call made on one cluster node's connection: the slot has just moved).
const TRANSIENT_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MOVED|ASK)\b/

/**
 * Maps a failed Redis call to what the relay should do with it: connection
 * trouble (refused, closed, timed out, offline) and transient server states
 * become `StoreUnavailableError` (clients get `unavailable` and retry); any
 * other reply error is a bug in a command or script and is rethrown as is.
 */
export function storeError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StoreUnavailableError) return error
  if (error.name === 'ReplyError' && !TRANSIENT_REPLY.test(error.message)) return error
  return new StoreUnavailableError(`Redis unavailable: ${error.message}`, { cause: error })
}

/** Awaits a Redis call, translating its failure with `storeError`. */
export async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (error) {
    throw storeError(error)
  }
}
