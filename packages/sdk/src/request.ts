import { ConfabError } from './errors.js'
import type { ClientFrame, RelayFrame } from './protocol.js'

/** A frame that expects an answer, with its ref, and the room it waits for when it names one. */
export type AskFrame = ClientFrame & { ref: string; room?: string }

/**
 * One request (a history page, a conversation, a profile...), like a phoenix `Push`: it owns its ref (in its frame),
 * its deadline from the call, and its answer. Sent once its room is joined (or, without a room, once the session is
 * open), again after a reconnect, until answered or timed out.
 */
export interface Ask {
  frame: AskFrame
  /** True while on the current socket. */
  sent?: boolean | undefined
  /** Settles the call once: with the relay's answer or an error. Clears the deadline and leaves `pending`. */
  answer(a: RelayFrame | ConfabError): void
}

/** Creates a request for `frame`, registered in `pending` until answered or `timeout` ms pass. */
export function createAsk(
  frame: AskFrame,
  timeout: number,
  ok: (answer: RelayFrame) => void,
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
      a instanceof ConfabError ? reject(a) : ok(a)
    },
  }
  pending.set(frame.ref, ask)
  return ask
}
