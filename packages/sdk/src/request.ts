import { ConfabError } from './errors.js'
import type { HistoryFrame, HistoryResultFrame, Message } from './protocol.js'

/**
 * One history request, like a phoenix `Push`: it owns its ref (in its frame), its deadline from the call,
 * and its answer. Sent once the room is joined, again after a reconnect, until answered or timed out.
 */
export interface Ask {
  frame: HistoryFrame
  /** True while on the current socket. */
  sent?: boolean | undefined
  /** Settles the call once: with the relay's page or an error. Clears the deadline and leaves `pending`. */
  answer(a: HistoryResultFrame | ConfabError): void
}

/** Creates a request for `frame`, registered in `pending` until answered or `timeout` ms pass. */
export function createAsk(
  frame: HistoryFrame,
  timeout: number,
  ok: (messages: Message[]) => void,
  reject: (error: ConfabError) => void,
  pending: Map<string, Ask>,
): Ask {
  // Bounded like a send on the wire, but from the call: waiting for the connection counts too.
  const timer = setTimeout(() => ask.answer(new ConfabError('timeout', `no answer within ${timeout} ms`)), timeout)
  const ask: Ask = {
    frame,
    answer(a) {
      clearTimeout(timer)
      pending.delete(frame.ref)
      if (a instanceof ConfabError) reject(a)
      else ok(a.messages)
    },
  }
  pending.set(frame.ref, ask)
  return ask
}
