// What the inbox needs from the SDK: the conversation frames of docs/protocol.md, with the index entry's type
// taken from the SDK's protocol so the two cannot drift.
import type { Client, ConnectOptions, Conversation, Member, Message, Room } from '@confab/sdk'

/** A `conversation` answer or live update. */
export interface ConversationFrame {
  type: 'conversation'
  conversation: Conversation | null
  room?: string
}

/** A `conversations` answer: one page of the index. */
export interface ConversationsFrame {
  type: 'conversations'
  items: Conversation[]
  cursor: string | null
}

/** The SDK client with the conversation additions the inbox uses. */
export type InboxClient = Pick<Client, 'status' | 'user' | 'on' | 'close' | 'join'> & {
  request<T>(frame: Record<string, unknown>): Promise<T>
  on(event: 'conversation', cb: (c: Conversation) => void): () => void
}

/** A room with the `read` frame and the delete of the message lifecycle (optional: a client without it offers no Delete). */
export type InboxRoom = Room & { markRead?(offset?: number): void; delete?(offset: number): Promise<Message> }

/** Options of the inbox's own connection: the operator key travels in `hello`. */
export type InboxConnectOptions = Pick<ConnectOptions, 'name' | 'token' | 'persist'> & { key?: string }

export type { Conversation, Member }
