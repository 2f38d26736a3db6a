import type { Conversation, Member, Message, Update } from '@confab/sdk/protocol'
import type { Ban } from '../store/types'

/** Something that happened in a room, fanned out to every node that has subscribers in it. */
export type BrokerEvent =
  /** `epoch`: the room's epoch the offset counts in, when the publisher knew it; a receiver whose epoch differs resyncs. */
  | { type: 'message'; message: Message; epoch?: string }
  /** A change to a message (edit, delete, reaction): an entry of the log like a message, delivered in offset order with them. `update.message` has no `mine`. */
  | { type: 'update'; update: Update; epoch?: string }
  /** A member's read position moved (already throttled by the node that saw the `read` frame). */
  | { type: 'read'; user: string; offset: number }
  | { type: 'presence'; joins: Member[]; leaves: Member[] }
  | { type: 'typing'; user: Member; active: boolean }
  /** The message at `offset` was erased: members get a `deleted` frame (docs/protocol.md). */
  | { type: 'deleted'; offset: number }
  /** A ban or mute changed (moderation.ts); `ban` is set for a new one. Only on the control channel. */
  | { type: 'control'; ban?: Ban | undefined }
  /** Only on the relay-wide `#operators` channel (conversations.ts): an index entry was created or changed. */
  | { type: 'conversation'; conversation: Conversation }

/** Receives every event of every room this node subscribed to, from any node (this one included). */
export type BrokerHandler = (room: string, event: BrokerEvent) => void

/**
 * Fan-out across relay nodes. In memory (one process) it calls the handler
 * directly; over Redis it uses pub/sub. Delivery may be at-most-once: the
 * room registry fills offset gaps from the store, so a lost message is
 * refetched rather than silently skipped.
 *
 * A lost message is only noticed at the room's next message, so a broker
 * that knows it may have missed some (Redis: its subscriber connection came
 * back) re-delivers each subscribed room's newest log entry as a `message`
 * or `update` event. The handler then sees either an offset it already
 * delivered (dropped) or one ahead of it (gap filled from the store).
 */
export interface Broker {
  /** Sets the one handler; called once before any subscribe. */
  start(handler: BrokerHandler): Promise<void>
  /** Starts receiving a room's events (the first local subscriber joined). */
  subscribe(room: string): Promise<void>
  /** Stops receiving a room's events (the last local subscriber left). */
  unsubscribe(room: string): Promise<void>
  publish(room: string, event: BrokerEvent): Promise<void>
  /** True while the backend is reachable. */
  readonly ready: boolean
  close(): Promise<void>
}
