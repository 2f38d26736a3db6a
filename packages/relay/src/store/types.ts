import type { Conversation, Member, Message, Meta } from '@confab/sdk/protocol'
import type { ConversationPage, ConversationPatch, ConversationQuery } from './conversations'

export type { ConversationPage, ConversationPatch, ConversationQuery } from './conversations'

/** What a publish asks the store to keep; the store adds `offset` and `ts`. */
export interface Draft {
  room: string
  id: string
  from: Member
  text: string
  meta?: Meta
  /** Set by the registry for `conv:` rooms: the index entry is updated in the same step as the append. */
  conversation?: { visitor: Member; by: 'visitor' | 'operator' }
}

/** Where a room's history stands. */
export interface RoomState {
  /** Changes whenever the room's history is lost. */
  epoch: string
  /** Offset of the newest message; 0 when the room is empty. */
  head: number
  /** Offset of the oldest retained message; `head + 1` when the room is empty. */
  first: number
}

/** What `append` did. */
export interface AppendResult {
  message: Message
  /** True when the sender had stored `draft.id` before: `message` is the original, nothing was written. */
  duplicate: boolean
  /** The room's epoch when the message was stored or found: `message.offset` counts in it. */
  epoch: string
  /** The conversation's entry after the append (conversation rooms only, not for a duplicate). */
  conversation?: Conversation
}

/**
 * Room history, offsets and idempotency. Implemented in memory (the default)
 * and over Redis; the same behaviour suite runs against both.
 * Every method rejects with `StoreUnavailableError` when the backend cannot be reached.
 */
export interface Store {
  /**
   * Stores the draft unless its sender already stored its id in the room,
   * assigning the next offset atomically. Ids are scoped to `draft.from.id`:
   * the same id from another sender is another message.
   */
  append(draft: Draft): Promise<AppendResult>
  /**
   * The room's epoch and bounds. A room nobody wrote to reports head 0 and an
   * epoch that stays the same until history is lost, and reading it stores nothing.
   */
  state(room: string): Promise<RoomState>
  /** Up to `limit` messages with offset > `after`, oldest first. */
  after(room: string, after: number, limit: number): Promise<Message[]>
  /** Up to `limit` of the newest messages with offset < `before`, oldest first. */
  before(room: string, before: number, limit: number): Promise<Message[]>
  /** True while the backend is reachable (drives `/readyz`). */
  readonly ready: boolean
  close(): Promise<void>
  /** A page of the conversation index, newest activity first (see store/conversations.ts). */
  conversations(query: ConversationQuery): Promise<ConversationPage>
  /** One entry by id, or null. */
  conversation(id: string): Promise<Conversation | null>
  /** Applies the patch atomically; null when the entry does not exist and the patch has no `visitor` to create it. */
  updateConversation(id: string, patch: ConversationPatch): Promise<Conversation | null>

  // Moderation, hooks, webhooks and privacy (issue 15; docs/moderation.md, docs/webhooks.md, docs/privacy.md).

  /** The message the sender stored under `id` in the room, while `append` would still call it a duplicate. */
  find(room: string, sender: string, id: string): Promise<Message | undefined>
  /** Records a ban or mute (a new id each time). */
  addBan(ban: Ban): Promise<void>
  /** Lifts a ban; undefined when no such id. */
  removeBan(id: string): Promise<Ban | undefined>
  /** Every ban and mute whose `until` is after `now` or unset, oldest first; expired ones may be dropped. */
  bans(now: number): Promise<Ban[]>
  /** Appends an event to the durable webhook queue; an id already queued is ignored. */
  pushEvent(event: QueuedEvent): Promise<void>
  /** The oldest queued events, oldest first. */
  peekEvents(limit: number): Promise<QueuedEvent[]>
  /** Records a failed attempt: the count so far and when the next may run (unix ms). */
  retryEvent(id: string, attempts: number, next: number): Promise<void>
  /** Removes a delivered event, or with `reason` moves it to the dead-letter list. */
  finishEvent(id: string, reason?: string): Promise<void>
  /** The newest dead-lettered events, newest first. */
  deadEvents(limit: number): Promise<DeadEvent[]>
  /**
   * Takes or renews the cluster-wide webhook delivery lease for `ttl` ms: true
   * when `owner` holds it afterwards, false while another owner does.
   */
  lease(owner: string, ttl: number): Promise<boolean>
  /**
   * Turns every retained message sent by `user` into a tombstone (text and meta
   * gone, name "Deleted user"; room, offset, id, ts and sender id kept) and
   * returns where they were, so connected members can be told.
   */
  eraseUser(user: string): Promise<{ room: string; offset: number }[]>
  /**
   * Removes every room's messages stored before `before` (unix ms), oldest
   * first, keeping offsets and epochs; resolves with how many. For
   * `retentionDays` on memory and Redis (the SQLite backend sweeps by itself).
   */
  expireBefore?(before: number): Promise<number>
}

/** A ban (or, with `mute`, a mute) of one user in one room or, without `room`, relay-wide. */
export interface Ban {
  id: string
  user: string
  room?: string
  /** Can read, cannot publish. */
  mute: boolean
  /** Unix ms when it lapses; absent: until lifted. */
  until?: number
  reason?: string
  /** Unix ms. */
  createdAt: number
}

/** A webhook event waiting for delivery. */
export interface QueuedEvent {
  /** The event id, also in `body`. */
  id: string
  /** Events of one room are delivered in queue order. */
  room: string
  /** The exact JSON body that is signed and sent. */
  body: string
  /** Unix ms, for the max age. */
  createdAt: number
  attempts: number
  /** Unix ms before which no attempt runs. */
  next: number
}

/** An event given up on, with why. */
export interface DeadEvent extends QueuedEvent {
  reason: string
  /** Unix ms. */
  diedAt: number
}

/** The name a tombstone shows instead of its sender's. */
export const ERASED_NAME = 'Deleted user'

/** The store's backend could not be reached; clients get `unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}
