import { ConfabError } from './errors.js'
import type { Message, Meta } from './protocol.js'

/**
 * A message or a change to one (edit, delete, reaction) as the app asked for it, with the id it keeps for every
 * resend: its frame without `ref`. This part persists. No `type` means `publish` (and is how drafts stored by
 * earlier versions read).
 */
export interface Draft {
  type?: 'edit' | 'delete' | 'react'
  room: string
  /** Made once when the app calls `send` (or given by it); every resend reuses it, so the relay stores it once. */
  id: string
  text?: string
  meta?: Meta
  /** The changed message (edit, delete, react). */
  offset?: number
  emoji?: string
}

/** One call (`send`, `edit`, `delete`, `react`) waiting for its draft: resolve and reject of its promise. */
export type Wait = [ok: (message: Message) => void, fail: (error: ConfabError) => void]

/** One message or change on its way: queued while offline, or on the wire waiting for its ack. */
export interface Entry {
  draft: Draft
  /**
   * The `ref` of its publish frames: made by the SDK (`#` and a number), never the app's id, so no
   * id can be mistaken for another request's ref. Each socket answers each frame once, so resends reuse it.
   */
  ref: string
  /** The `send` calls waiting for it: none for one restored from storage, or once its deadline passed. */
  waits: Wait[]
  /** True while its publish is on the current socket and not answered. */
  sent?: boolean
  /** Its deadline, while one runs (cleared with the socket). */
  timer?: ReturnType<typeof setTimeout>
}

/**
 * The bounded, ordered queue of unacknowledged messages. Insertion order is send
 * order, so flushing a room's entries in iteration order keeps the app's order.
 */
export interface Outbox {
  /** Queues an entry; throws ConfabError `limit_exceeded` when `limit` entries already wait. */
  add(entry: Entry): void
  /** Removes an entry and clears its deadline. */
  take(entry: Entry): void
  /** Every waiting entry, oldest first. */
  list(): Entry[]
  /** Clears every deadline and on-the-wire mark: the socket is gone, so everything waits for the next one. */
  pause(): void
}

/** Creates an outbox that holds at most `limit` messages (queued and in flight together). */
export function createOutbox(limit: number): Outbox {
  const entries = new Set<Entry>()
  return {
    add(entry) {
      if (entries.size >= limit) {
        throw new ConfabError('limit_exceeded', `outbox full: ${limit} waiting`)
      }
      entries.add(entry)
    },
    take(entry) {
      clearTimeout(entry.timer)
      entries.delete(entry)
    },
    list: () => [...entries],
    pause() {
      for (const entry of entries) {
        clearTimeout(entry.timer)
        entry.timer = entry.sent = undefined
      }
    },
  }
}
