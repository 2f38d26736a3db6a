import { ConfabError } from './errors.js'
import type { Message, Meta } from './protocol.js'

/** One message on its way: queued while offline, or on the wire waiting for its ack. */
export interface Entry {
  room: string
  /** Made once when the app calls `send`; every resend reuses it, so the relay stores it once. */
  id: string
  text: string
  meta?: Meta
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
  /** Queues an entry; throws ConfabError `limit_exceeded` when `limit` entries already wait. */
  add(entry: Entry): void
  /** The entry with this id, if it still waits. */
  get(id: string): Entry | undefined
  /** Removes an entry and clears its ack deadline; returns it when it was there. */
  take(id: string): Entry | undefined
  /** Every waiting entry, oldest first. */
  list(): Entry[]
  /** Clears every ack deadline: the socket is gone, so everything waits for the next one. */
  pause(): void
}

/** Creates an outbox that holds at most `limit` messages (queued and in flight together). */
export function createOutbox(limit: number): Outbox {
  const entries = new Map<string, Entry>()
  return {
    add(entry) {
      if (entries.size >= limit) {
        throw new ConfabError('limit_exceeded', `outbox full: ${limit} messages already wait for the relay`)
      }
      entries.set(entry.id, entry)
    },
    get: (id) => entries.get(id),
    take(id) {
      const entry = entries.get(id)
      if (entry) {
        clearTimeout(entry.timer)
        entries.delete(id)
      }
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
