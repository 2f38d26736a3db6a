import type { Action, Conversation, Member, Message, Meta, ReadPosition, Update } from '@confab/sdk/protocol'
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

/**
 * A change to a stored message (issue 14; docs/protocol.md "Message lifecycle"). The store checks the
 * rules against the target in the same atomic step as the append, and refuses with {@link ChangeRefusedError}.
 */
export interface ChangeDraft {
  room: string
  /** Idempotency key, scoped to `from.id` and shared with message ids: a resend returns the original. */
  id: string
  from: Member
  action: Action
  /** Offset of the message to change. */
  target: number
  /** `edit`: the new text (already checked and cleaned like a publish's) and, when given, the new meta. */
  text?: string
  meta?: Meta
  /** `react`: the emoji; `on` true adds, false removes, absent toggles. */
  emoji?: string
  on?: boolean
  /** Only the target's sender may make this change (`forbidden` otherwise). */
  ownOnly: boolean
  /** `edit`: ms after the target's `ts` during which it may be edited; 0 is unlimited (`forbidden` after). */
  editWindow: number
  /** `react`: most distinct emoji one message may carry (`limit_exceeded` beyond). */
  maxReactions: number
}

/** What `change` did. */
export interface ChangeResult {
  /** The change as stored (its `message`: the target's state after it, `mine` for `from`). */
  update: Update
  /** True when the sender had stored `draft.id` before: `update` is the original, nothing was written. */
  duplicate: boolean
  epoch: string
}

/** An entry of a room's log: a message, or a change to one (it has `action`). */
export type Entry = Message | Update

/** True when the log entry is a change event. */
export const isUpdate = (entry: Entry): entry is Update => 'action' in entry

/** Where a reader stands in a room. */
export interface ReadState {
  /** The user's position (0: nothing read). */
  read: number
  /** Messages from others after `read`, deleted ones excluded, within retained history. */
  unread: number
  /** Other users' positions, furthest first, at most 50. */
  reads: ReadPosition[]
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
  /**
   * Up to `limit` log entries (messages in their current state, and changes) with offset > `after`, oldest
   * first. `viewer`: the user whose `mine` is set in reactions (none without).
   */
  after(room: string, after: number, limit: number, viewer?: string): Promise<Entry[]>
  /**
   * Up to `limit` of the newest messages (changes skipped) with offset < `before`, oldest first, in their
   * current state; `viewer` as for `after`.
   */
  before(room: string, before: number, limit: number, viewer?: string): Promise<Message[]>
  /**
   * Appends a change event for a retained message, applying it to the message's current state in the same
   * atomic step, unless its sender already stored `draft.id` in the room (then the original is returned).
   * Rejects with {@link ChangeRefusedError}: `not_found` (no such retained message, a change event, or a
   * deleted one), `forbidden` (`ownOnly` and another sender, or the edit window passed), `limit_exceeded`.
   */
  change(draft: ChangeDraft): Promise<ChangeResult>
  /**
   * Moves `user`'s read position in the room to `offset` when that is further than it was; resolves with
   * the position after the call. `append` does the same for a message's sender, in the same atomic step.
   * At most 10,000 positions per room are kept (the least recently moved dropped).
   */
  markRead(room: string, user: string, offset: number): Promise<number>
  /** `user`'s read position, unread count and the others' positions. */
  readState(room: string, user: string): Promise<ReadState>
  /** Every position in the room, furthest first, at most `limit` (for the HTTP API). */
  reads(room: string, limit: number): Promise<ReadPosition[]>
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

  /** The message or change the sender stored under `id` in the room, while `append` would still call it a duplicate. */
  find(room: string, sender: string, id: string): Promise<Entry | undefined>
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
   * gone, name "Deleted user"; room, offset, id, ts and sender id kept), removes
   * their reactions and read positions, and returns where the messages were,
   * so connected members can be told.
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

/** The store refused a change (see `Store.change`); the client gets `code`. */
export class ChangeRefusedError extends Error {
  override name = 'ChangeRefusedError'
  constructor(
    readonly code: 'not_found' | 'forbidden' | 'limit_exceeded',
    message: string,
  ) {
    super(message)
  }
}

/** The store's backend could not be reached; clients get `unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}
