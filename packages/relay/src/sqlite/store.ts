import type { Conversation, Member, Message, Meta } from '@confab/sdk/protocol'
import type { Database, Statement } from 'better-sqlite3'
import type { ConversationPage, ConversationPatch, ConversationQuery } from '../store/conversations'
import {
  type AppendResult,
  type Ban,
  type DeadEvent,
  type Draft,
  ERASED_NAME,
  type QueuedEvent,
  type RoomState,
  type Store,
  StoreUnavailableError,
} from '../store/types'
import { SqliteConversations } from './conversations'

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Messages retained per room (default 1,000). */
  historyLimit?: number
  /** How long a client id is remembered after its message was stored, in ms (default 600,000 = 10 minutes); ids of retained messages are remembered regardless. */
  idempotencyWindow?: number
  /** Clock, for tests. */
  now?: () => number
}

/** What the `body` column holds: the draft without room and id (columns of their own). */
interface Body {
  from: Member
  text: string
  meta?: Meta
}

interface RoomRow {
  id: number
  head: number
  first: number
}

interface MessageRow {
  offset: number
  ts: number
  id: string
  body: string
}

/** A page size SQLite accepts: a non-negative integer, capped so `Infinity` means "all". */
function clampCount(limit: number): number {
  if (!(limit > 0)) return 0
  return Math.min(Math.floor(limit), 1_000_000)
}

/**
 * History, offsets and idempotency in one SQLite file (see docs/storage.md).
 * Every room shares the file's epoch: it is made with the file and changes
 * only when the file is replaced, because only then is history truly gone.
 *
 * Each append is one transaction, committed before `append` returns: better-sqlite3
 * is synchronous, so reading the head and writing the next offset is atomic, and
 * the ack (the resolved promise) always follows the commit. Not group-committed
 * on purpose: the relay handles one connection's publishes one after another, so
 * an append that waited for the end of the turn would let each connection publish
 * only once per turn and break up the relay's per-turn fan-out batches (measured:
 * a sixth of the saturation throughput); a commit costs tens of µs instead.
 * The database handle belongs to the backend (`createSqliteBackend`), which closes it.
 */
export class SqliteStore implements Store {
  readonly #db: Database
  readonly #epoch: string
  readonly #limit: number
  readonly #window: number
  readonly #now: () => number
  readonly #onError: (error: unknown) => void
  #closed = false
  readonly #sql: {
    room: Statement<[string], RoomRow>
    newRoom: Statement<[string], RoomRow>
    retained: Statement<[number, string, string], MessageRow>
    windowed: Statement<[number, string, string, number], { offset: number; ts: number }>
    insert: Statement<[number, number, number, string, string, string]>
    remember: Statement<[number, number, number, number, number]>
    trim: Statement<[number, number]>
    move: Statement<[number, number, number]>
    after: Statement<[string, number, number], MessageRow>
    before: Statement<[string, number, number], MessageRow>
  }
  readonly #append: (draft: Draft, body: string, now: number) => AppendResult
  readonly #conversations: SqliteConversations
  readonly #update: (id: string, patch: ConversationPatch, now: number) => Conversation | null

  constructor(db: Database, epoch: string, onError: (error: unknown) => void, options: SqliteStoreOptions = {}) {
    this.#db = db
    this.#epoch = epoch
    this.#onError = onError
    this.#limit = options.historyLimit ?? 1000
    this.#window = options.idempotencyWindow ?? 600_000 // 10 minutes
    this.#now = options.now ?? Date.now
    this.#sql = {
      room: db.prepare('SELECT id, head, first FROM rooms WHERE name = ?'),
      newRoom: db.prepare('INSERT INTO rooms (name, head, first) VALUES (?, 0, 1) RETURNING id, head, first'),
      retained: db.prepare('SELECT offset, ts, id, body FROM messages WHERE room = ? AND sender = ? AND id = ?'),
      windowed: db.prepare('SELECT offset, ts FROM ids WHERE room = ? AND sender = ? AND id = ? AND expires > ?'),
      insert: db.prepare('INSERT INTO messages (room, offset, ts, sender, id, body) VALUES (?, ?, ?, ?, ?, ?)'),
      // Ids of the messages about to be trimmed that are still inside their window.
      remember: db.prepare(
        `INSERT OR REPLACE INTO ids (room, sender, id, offset, ts, expires)
         SELECT room, sender, id, offset, ts, ts + ? FROM messages WHERE room = ? AND offset < ? AND ts + ? > ?`,
      ),
      trim: db.prepare('DELETE FROM messages WHERE room = ? AND offset < ?'),
      move: db.prepare('UPDATE rooms SET head = ?, first = ? WHERE id = ?'),
      after: db.prepare(
        `SELECT offset, ts, id, body FROM messages
         WHERE room = (SELECT id FROM rooms WHERE name = ?) AND offset > ? ORDER BY offset LIMIT ?`,
      ),
      before: db.prepare(
        `SELECT offset, ts, id, body FROM messages
         WHERE room = (SELECT id FROM rooms WHERE name = ?) AND offset < ? ORDER BY offset DESC LIMIT ?`,
      ),
    }
    this.#conversations = new SqliteConversations(db)
    this.#update = db.transaction((id: string, patch: ConversationPatch, now: number) =>
      this.#conversations.update(id, patch, now),
    )
    // One transaction: the offset, the trim, the id records and the conversation entry land together or not at all.
    this.#append = db.transaction((draft: Draft, body: string, now: number): AppendResult => {
      const sql = this.#sql
      const room = sql.room.get(draft.room) ?? (sql.newRoom.get(draft.room) as RoomRow)
      const sender = draft.from.id
      // Known while its message is retained, or inside the window after it was stored.
      const kept = sql.retained.get(room.id, sender, draft.id)
      if (kept) return { message: toMessage(draft.room, kept), duplicate: true, epoch: this.#epoch }
      const seen = sql.windowed.get(room.id, sender, draft.id, now)
      if (seen) {
        // Its entry was trimmed: answered from the resent draft, with the original offset and time.
        return { message: toMessage(draft.room, { ...seen, id: draft.id, body }), duplicate: true, epoch: this.#epoch }
      }
      const offset = room.head + 1
      const first = Math.max(room.first, offset - this.#limit + 1)
      sql.insert.run(room.id, offset, now, sender, draft.id, body)
      if (first > room.first) {
        // A retained message's id is found through its row; only a trimmed one needs an `ids` entry, for the rest of its window.
        sql.remember.run(this.#window, room.id, first, this.#window, now)
        sql.trim.run(room.id, first)
      }
      sql.move.run(offset, first, room.id)
      const message = toMessage(draft.room, { offset, ts: now, id: draft.id, body })
      const conversation = this.#conversations.appended(draft, message)
      return conversation === undefined
        ? { message, duplicate: false, epoch: this.#epoch }
        : { message, duplicate: false, epoch: this.#epoch, conversation }
    })
  }

  /** Rooms holding a record: only rooms written to count, reading a name stores nothing. */
  get size(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM rooms').get() as { n: number }).n
  }

  get ready(): boolean {
    return !this.#closed && this.#db.open
  }

  async append(draft: Draft): Promise<AppendResult> {
    const body: Body = { from: draft.from, text: draft.text, ...(draft.meta === undefined ? {} : { meta: draft.meta }) }
    const json = JSON.stringify(body)
    return this.#guard(() => this.#append(draft, json, this.#now()))
  }

  async state(name: string): Promise<RoomState> {
    const room = this.#guard(() => this.#sql.room.get(name))
    return room ? { epoch: this.#epoch, head: room.head, first: room.first } : { epoch: this.#epoch, head: 0, first: 1 }
  }

  async after(room: string, after: number, limit: number): Promise<Message[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    const rows = this.#guard(() => this.#sql.after.all(room, Math.max(0, Math.floor(after)), count))
    return rows.map((row) => toMessage(room, row))
  }

  async before(room: string, before: number, limit: number): Promise<Message[]> {
    const count = clampCount(limit)
    if (count === 0 || before <= 1) return []
    const end = Number.isSafeInteger(before) ? before : Number.MAX_SAFE_INTEGER
    const rows = this.#guard(() => this.#sql.before.all(room, end, count))
    return rows.reverse().map((row) => toMessage(room, row))
  }

  async find(room: string, sender: string, id: string): Promise<Message | undefined> {
    return this.#guard(() => {
      const row = this.#sql.room.get(room)
      if (!row) return undefined
      const kept = this.#sql.retained.get(row.id, sender, id)
      if (kept) return toMessage(room, kept)
      const seen = this.#sql.windowed.get(row.id, sender, id, this.#now())
      if (!seen) return undefined
      const body: Body = { from: { id: sender, name: '' }, text: '' }
      return toMessage(room, { ...seen, id, body: JSON.stringify(body) })
    })
  }

  async addBan(ban: Ban): Promise<void> {
    this.#guard(() =>
      this.#db
        .prepare('INSERT INTO bans (id, until, body) VALUES (?, ?, ?)')
        .run(ban.id, ban.until ?? null, JSON.stringify(ban)),
    )
  }

  async removeBan(id: string): Promise<Ban | undefined> {
    const row = this.#guard(() => this.#db.prepare('DELETE FROM bans WHERE id = ? RETURNING body').get(id)) as
      | { body: string }
      | undefined
    return row && (JSON.parse(row.body) as Ban)
  }

  async bans(now: number): Promise<Ban[]> {
    const rows = this.#guard(() => {
      this.#db.prepare('DELETE FROM bans WHERE until IS NOT NULL AND until <= ?').run(now)
      return this.#db.prepare('SELECT body FROM bans').all() as { body: string }[]
    })
    return rows.map((row) => JSON.parse(row.body) as Ban).sort((a, b) => a.createdAt - b.createdAt)
  }

  async pushEvent(event: QueuedEvent): Promise<void> {
    this.#guard(() =>
      this.#db
        .prepare(
          'INSERT OR IGNORE INTO webhook_queue (id, room, body, created, attempts, next) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(event.id, event.room, event.body, event.createdAt, event.attempts, event.next),
    )
  }

  async peekEvents(limit: number): Promise<QueuedEvent[]> {
    const rows = this.#guard(
      () =>
        this.#db
          .prepare('SELECT id, room, body, created, attempts, next FROM webhook_queue ORDER BY seq LIMIT ?')
          .all(clampCount(limit)) as QueuedRow[],
    )
    return rows.map(fromQueued)
  }

  async retryEvent(id: string, attempts: number, next: number): Promise<void> {
    this.#guard(() =>
      this.#db.prepare('UPDATE webhook_queue SET attempts = ?, next = ? WHERE id = ?').run(attempts, next, id),
    )
  }

  async finishEvent(id: string, reason?: string): Promise<void> {
    const now = this.#now()
    this.#guard(() =>
      this.#db.transaction(() => {
        if (reason !== undefined) {
          this.#db
            .prepare(
              `INSERT INTO webhook_dead (id, room, body, created, attempts, reason, died)
               SELECT id, room, body, created, attempts, ?, ? FROM webhook_queue WHERE id = ?`,
            )
            .run(reason, now, id)
        }
        this.#db.prepare('DELETE FROM webhook_queue WHERE id = ?').run(id)
      })(),
    )
  }

  async deadEvents(limit: number): Promise<DeadEvent[]> {
    const rows = this.#guard(
      () =>
        this.#db
          .prepare('SELECT id, room, body, created, attempts, reason, died FROM webhook_dead ORDER BY seq DESC LIMIT ?')
          .all(clampCount(limit)) as (QueuedRow & { reason: string; died: number })[],
    )
    return rows.map((row) => ({ ...fromQueued({ ...row, next: 0 }), reason: row.reason, diedAt: row.died }))
  }

  /** The file is held by one process: it always holds its own lease. */
  async lease(): Promise<boolean> {
    return true
  }

  async eraseUser(user: string): Promise<{ room: string; offset: number }[]> {
    const body = JSON.stringify({ from: { id: user, name: ERASED_NAME }, text: '' } satisfies Body)
    return this.#guard(() =>
      this.#db.transaction(() => {
        const rows = this.#db
          .prepare(
            'SELECT r.name AS room, m.offset AS offset FROM messages m JOIN rooms r ON r.id = m.room WHERE m.sender = ?',
          )
          .all(user) as { room: string; offset: number }[]
        this.#db.prepare('UPDATE messages SET body = ? WHERE sender = ?').run(body, user)
        return rows
      })(),
    )
  }

  async conversations(query: ConversationQuery): Promise<ConversationPage> {
    return this.#guard(() => this.#conversations.list(query))
  }

  async conversation(id: string): Promise<Conversation | null> {
    return this.#guard(() => this.#conversations.get(id))
  }

  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation | null> {
    return this.#guard(() => this.#update(id, patch, this.#now()))
  }

  /** Stops answering; the backend closes the file. */
  async close(): Promise<void> {
    this.#closed = true
  }

  /**
   * Runs a statement, turning a failure of the file (disk full, I/O error, the
   * file gone read-only or corrupt) into `StoreUnavailableError`, so the client
   * gets `unavailable` and the operator a log line; anything else is a bug and rethrown.
   */
  #guard<T>(run: () => T): T {
    if (this.#closed) throw new StoreUnavailableError('the SQLite store is closed')
    try {
      return run()
    } catch (error) {
      if (!isFileError(error)) throw error
      const failure = new StoreUnavailableError(`SQLite data file: ${(error as Error).message}`, { cause: error })
      this.#onError(failure)
      throw failure
    }
  }
}

/** SQLite result codes that mean the file, not the query, is at fault. */
const FILE_ERRORS = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|BUSY|LOCKED|PERM|PROTOCOL)/

/** True for an error of the data file rather than of the code. */
export function isFileError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && FILE_ERRORS.test(code)
}

interface QueuedRow {
  id: string
  room: string
  body: string
  created: number
  attempts: number
  next: number
}

function fromQueued(row: QueuedRow): QueuedEvent {
  return { id: row.id, room: row.room, body: row.body, createdAt: row.created, attempts: row.attempts, next: row.next }
}

function toMessage(room: string, row: MessageRow): Message {
  const body = JSON.parse(row.body) as Body
  return {
    room,
    offset: row.offset,
    id: row.id,
    from: body.from,
    text: body.text,
    ...(body.meta === undefined ? {} : { meta: body.meta }),
    ts: row.ts,
  }
}
