import type { Conversation } from '@confab/sdk/protocol'
import type { Database, Statement } from 'better-sqlite3'
import {
  afterMessage,
  type ConversationPage,
  type ConversationPatch,
  type ConversationQuery,
  conversationId,
  decodeCursor,
  newConversation,
  pageSize,
  patched,
  toPage,
} from '../store/conversations'
import type { Draft } from '../store/types'

/**
 * The conversation index in the data file (table `conversations`, schema 2):
 * the entry as JSON plus the columns the listing filters and sorts on. Its
 * methods are synchronous so the store can run them inside the append's transaction.
 */
export class SqliteConversations {
  readonly #get: Statement<[string], { body: string }>
  readonly #put: Statement<[string, number, string, string | null, string]>
  readonly #list: Statement<
    { status: string | null; assignee: string | null; at: number | null; id: string | null; limit: number },
    { body: string }
  >

  constructor(db: Database) {
    this.#get = db.prepare('SELECT body FROM conversations WHERE id = ?')
    this.#put = db.prepare(
      'INSERT OR REPLACE INTO conversations (id, last, status, assignee, body) VALUES (?, ?, ?, ?, ?)',
    )
    // assignee '' asks for unassigned entries (no operator id is empty).
    this.#list = db.prepare(
      `SELECT body FROM conversations
       WHERE (@status IS NULL OR status = @status)
         AND (@assignee IS NULL OR (@assignee = '' AND assignee IS NULL) OR assignee = @assignee)
         AND (@at IS NULL OR last < @at OR (last = @at AND id < @id))
       ORDER BY last DESC, id DESC LIMIT @limit`,
    )
  }

  get(id: string): Conversation | null {
    const row = this.#get.get(id)
    return row ? (JSON.parse(row.body) as Conversation) : null
  }

  /** Called inside the append's transaction, after the message row was written. */
  appended(draft: Draft, message: { text: string; ts: number }): Conversation | undefined {
    if (draft.conversation === undefined) return undefined
    const { visitor, by } = draft.conversation
    const entry = afterMessage(
      this.get(conversationId(visitor.id)) ?? newConversation(visitor, message.ts),
      message,
      by,
    )
    if (by === 'visitor') entry.visitor.name = visitor.name
    this.#save(entry)
    return entry
  }

  /** Runs in a transaction of the caller's. */
  update(id: string, patch: ConversationPatch, now: number): Conversation | null {
    const entry = this.get(id) ?? (patch.visitor ? newConversation(patch.visitor, now) : null)
    if (entry === null) return null
    const next = patched(entry, patch)
    this.#save(next)
    return next
  }

  list(query: ConversationQuery): ConversationPage {
    const mark = query.cursor === undefined ? null : decodeCursor(query.cursor)
    const limit = pageSize(query.limit)
    const rows = this.#list.all({
      status: query.status ?? null,
      assignee: query.assignee === 'none' ? '' : (query.assignee ?? null),
      at: mark?.at ?? null,
      id: mark?.id ?? null,
      limit: limit + 1,
    })
    return toPage(
      rows.map((row) => JSON.parse(row.body) as Conversation),
      limit,
    )
  }

  #save(entry: Conversation): void {
    this.#put.run(entry.id, entry.lastActivityAt, entry.status, entry.assignee?.id ?? null, JSON.stringify(entry))
  }
}
