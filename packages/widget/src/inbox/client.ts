// What the inbox needs from the SDK: the conversations contract (CONVERSATIONS-CONTRACT.md), typed here so the
// inbox reads the same shapes whatever SDK build it is bundled with.
import type { Client, ConnectOptions, Member, Room } from '@confab/sdk'

/** One entry of the relay's conversation index. */
export interface Conversation {
  id: string
  room: string
  visitor: { id: string; name: string; email?: string }
  createdAt: number
  lastActivityAt: number
  preview: string
  status: 'open' | 'closed'
  assignee: { id: string; name: string } | null
  unread: { visitor: number; operators: number }
}

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

/** A room with the `read` frame of the contract. */
export type InboxRoom = Room & { markRead?(offset?: number): void }

/** Options of the inbox's own connection: the operator key travels in `hello`. */
export type InboxConnectOptions = Pick<ConnectOptions, 'name' | 'token' | 'persist'> & { key?: string }

export type { Member }
