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
}

/** The store's backend could not be reached; clients get `unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}
