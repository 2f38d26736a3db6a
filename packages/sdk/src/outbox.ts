import { ConfabError } from './errors.js'
import type { Message, Meta } from './protocol.js'

/** A message as the app wrote it, with the id it keeps for every resend. This part persists. */
export interface Draft {
  room: string
  /** Made once when the app calls `send` (or given by it); every resend reuses it, so the relay stores it once. */
  id: string
  text: string
  meta?: Meta
}

/** One message on its way: queued while offline, or on the wire waiting for its ack. */
export interface Entry {
  draft: Draft
  ok(message: Message): void
  fail(error: ConfabError): void
  /** Set while the frame is on the wire: the ack deadline. */
  timer?: ReturnType<typeof setTimeout>
}

/**
 * The bounded, ordered queue of unacknowledged messages. Insertion order is send
 * order, so flushing a room's entries in iteration order keeps the app's order.
 */
export interface Outbox {
  /**
   * Queues an entry; throws ConfabError `limit_exceeded` when `limit` entries already wait,
   * and `bad_request` when one with the same id does (its promise would be lost).
   */
  add(entry: Entry): void
  /** The entry with this id, if it still waits. */
  get(id: string | undefined): Entry | undefined
  /** Removes an entry and clears its ack deadline; returns it when it was there. */
  take(id: string | undefined): Entry | undefined
  /** Every waiting entry, oldest first. */
  list(): Entry[]
  /** Clears every ack deadline: the socket is gone, so everything waits for the next one. */
  pause(): void
}

/** Creates an outbox that holds at most `limit` messages (queued and in flight together). */
export function createOutbox(limit: number): Outbox {
  const entries = new Map<string | undefined, Entry>()
  return {
    add(entry) {
      const { id } = entry.draft
      if (entries.size >= limit) {
        throw new ConfabError('limit_exceeded', `outbox full: ${limit} messages already wait for the relay`)
      }
      if (entries.has(id)) throw new ConfabError('bad_request', `message ${id} is already waiting for the relay`)
      entries.set(id, entry)
    },
    get: (id) => entries.get(id),
    take(id) {
      const entry = entries.get(id)
      clearTimeout(entry?.timer)
      entries.delete(id)
      return entry
    },
    list: () => [...entries.values()],
    pause() {
      for (const entry of entries.values()) {
        clearTimeout(entry.timer)
        entry.timer = undefined
      }
    },
  }
}
