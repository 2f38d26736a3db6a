// The conversation index's rules, shared by every store so memory, SQLite and
// Redis keep entries the same way (docs/conversations.md).
import { createHash } from 'node:crypto'
import { CONVERSATION_PREFIX, type Conversation, type Member } from '@confab/sdk/protocol'

/** Characters of a conversation id (and of the room name after `conv:`). */
export const CONVERSATION_ID_LENGTH = 22

/** Characters of the newest message kept as the entry's preview. */
export const PREVIEW_LENGTH = 140

/** Page size of a listing when none is given, and the most one page may hold. */
export const DEFAULT_PAGE = 50
export const MAX_PAGE = 100

/** What a listing asks for. */
export interface ConversationQuery {
  status?: 'open' | 'closed' | undefined
  /** An operator id, or 'none' for unassigned conversations. */
  assignee?: string | undefined
  /** From the previous page; absent for the first. */
  cursor?: string | undefined
  limit?: number | undefined
}

/** A page of the index, newest activity first. */
export interface ConversationPage {
  items: Conversation[]
  cursor: string | null
}

/** What `updateConversation` may change. `visitor` creates the entry when it does not exist yet (a `profile` before any message). */
export interface ConversationPatch {
  status?: 'open' | 'closed'
  assignee?: { id: string; name: string } | null
  visitorName?: string
  email?: string
  read?: 'visitor' | 'operators'
  visitor?: Member
  /** Forgets what the visitor gave or wrote: the email and the preview (erasure, docs/privacy.md). */
  erase?: true
  /**
   * The newest message's preview after it was edited or deleted (`text` '' for a tombstone), applied only
   * while that message, known by its `ts`, is still the newest: a message that came meanwhile keeps its own.
   */
  preview?: { text: string; ts: number }
}

/** The id of the visitor's conversation: derived from the visitor id, so nobody can pick another's. */
export function conversationId(visitorId: string): string {
  return createHash('sha256').update(visitorId).digest('base64url').slice(0, CONVERSATION_ID_LENGTH)
}

/** The room of the visitor's conversation. */
export function conversationRoom(visitorId: string): string {
  return CONVERSATION_PREFIX + conversationId(visitorId)
}

/** True for a conversation room name. */
export function isConversationRoom(room: string): boolean {
  return room.startsWith(CONVERSATION_PREFIX)
}

/** A new, empty entry for the visitor. */
export function newConversation(visitor: Member, now: number): Conversation {
  const id = conversationId(visitor.id)
  return {
    id,
    room: CONVERSATION_PREFIX + id,
    visitor: { id: visitor.id, name: visitor.name },
    createdAt: now,
    lastActivityAt: now,
    preview: '',
    status: 'open',
    assignee: null,
    unread: { visitor: 0, operators: 0 },
  }
}

/** The entry after a message: activity, preview, the other side's unread count; a visitor's message reopens it. */
export function afterMessage(
  entry: Conversation,
  message: { text: string; ts: number },
  by: 'visitor' | 'operator',
): Conversation {
  const next: Conversation = {
    ...entry,
    lastActivityAt: message.ts,
    preview: clip(message.text),
    unread: { ...entry.unread },
  }
  if (by === 'visitor') {
    next.unread.operators++
    next.status = 'open'
  } else next.unread.visitor++
  return next
}

/** The entry with the patch applied (the patch's `visitor` only matters for creation). */
export function patched(entry: Conversation, patch: ConversationPatch): Conversation {
  const next: Conversation = { ...entry, visitor: { ...entry.visitor }, unread: { ...entry.unread } }
  if (patch.status !== undefined) next.status = patch.status
  if (patch.assignee !== undefined) next.assignee = patch.assignee
  if (patch.visitorName !== undefined) next.visitor.name = patch.visitorName
  if (patch.email !== undefined) next.visitor.email = patch.email
  if (patch.read !== undefined) next.unread[patch.read] = 0
  if (patch.erase) {
    delete next.visitor.email
    next.preview = ''
  }
  if (patch.preview !== undefined && next.lastActivityAt === patch.preview.ts) next.preview = clip(patch.preview.text)
  return next
}

/** The first PREVIEW_LENGTH characters (code points) of a message's text. */
export function clip(text: string): string {
  return [...text].slice(0, PREVIEW_LENGTH).join('')
}

/** True when the entry passes the query's filters. */
export function matches(entry: Conversation, query: ConversationQuery): boolean {
  if (query.status !== undefined && entry.status !== query.status) return false
  if (query.assignee === 'none') return entry.assignee === null
  if (query.assignee !== undefined) return entry.assignee?.id === query.assignee
  return true
}

/** Where a page ends: the last entry's activity time and id (the index order is time, then id, both descending). */
export interface Mark {
  at: number
  id: string
}

export function encodeCursor(entry: Conversation): string {
  return `${entry.lastActivityAt}.${entry.id}`
}

/** The mark in a cursor, or null when it is not one (the caller answers bad_request). */
export function decodeCursor(cursor: string): Mark | null {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(cursor)
  return match ? { at: Number(match[1]), id: match[2] as string } : null
}

/** True when the entry comes after the mark in index order. */
export function isAfter(entry: { lastActivityAt: number; id: string }, mark: Mark | null): boolean {
  if (mark === null) return true
  return entry.lastActivityAt < mark.at || (entry.lastActivityAt === mark.at && entry.id < mark.id)
}

/** Index order: newest activity first, then id descending. */
export function byActivity(a: Conversation, b: Conversation): number {
  return b.lastActivityAt - a.lastActivityAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

/** The page size to use. */
export function pageSize(limit: number | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE, limit ?? DEFAULT_PAGE))
}

/** A page out of entries already sorted and filtered, `limit + 1` of them at most to know whether more follow. */
export function toPage(items: Conversation[], limit: number): ConversationPage {
  if (items.length <= limit) return { items, cursor: null }
  const page = items.slice(0, limit)
  return { items: page, cursor: encodeCursor(page[page.length - 1] as Conversation) }
}
