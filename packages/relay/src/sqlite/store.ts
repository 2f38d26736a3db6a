import type { Action, Conversation, Member, Message, Meta, ReadPosition, Update } from '@confab/sdk/protocol'
import type { Database, Statement } from 'better-sqlite3'
import type { ConversationPage, ConversationPatch, ConversationQuery } from '../store/conversations'
import { apply, type Change, check, type Reactors, toChange, view, withoutUser } from '../store/lifecycle'
import {
  type AppendResult,
  type Ban,
  type ChangeDraft,
  type ChangeResult,
  type DeadEvent,
  type Draft,
  type Entry,
  ERASED_NAME,
  type QueuedEvent,
  type ReadState,
  type RoomState,
  type Store,
  StoreUnavailableError,
} from '../store/types'
import { SqliteConversations } from './conversations'
import { SqliteReads } from './reads'

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Log entries (messages and changes) retained per room (default 1,000). */
  historyLimit?: number
  /** How long a client id is remembered after its message was stored, in ms (default 600,000 = 10 minutes); ids of retained messages are remembered regardless. */
  idempotencyWindow?: number
  /** Clock, for tests. */
  now?: () => number
}

/** What the `body` column of a message holds: its current state without room, id and ts (columns of their own). */
interface Body {
  from: Member
  text: string
  meta?: Meta
  editedAt?: number
  deleted?: true
}

/** What the `body` column of a change holds (its target has a column). */
interface ChangeBody {
  from: Member
  action: Action
  emoji?: string
  on?: boolean
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

/** A row of the log: a message (target null) or a change. */
interface EntryRow extends MessageRow {
  target: number | null
  reactions: string | null
}

const ENTRY = 'offset, ts, id, body, target, reactions'

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
    retained: Statement<[number, string, string], EntryRow>
    windowed: Statement<[number, string, string, number], { offset: number; ts: number }>
    insert: Statement<[number, number, number, string, string, string]>
    insertChange: Statement<[number, number, number, string, string, string, number]>
    entry: Statement<[number, number], EntryRow>
    setState: Statement<[string, number, string | null, number, number]>
    remember: Statement<[number, number, number, number, number]>
    trim: Statement<[number, number]>
    move: Statement<[number, number, number]>
    after: Statement<[number, number, number], EntryRow>
    before: Statement<[number, number, number], EntryRow>
    unread: Statement<[number, number, string], { n: number }>
  }
  readonly #append: (draft: Draft, body: string, now: number) => AppendResult
  readonly #change: (draft: ChangeDraft, now: number) => ChangeResult
  readonly #markRead: (room: string, user: string, offset: number) => number
  readonly #erase: (user: string) => { room: string; offset: number }[]
  readonly #reads: SqliteReads
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
      retained: db.prepare(`SELECT ${ENTRY} FROM messages WHERE room = ? AND sender = ? AND id = ?`),
      windowed: db.prepare('SELECT offset, ts FROM ids WHERE room = ? AND sender = ? AND id = ? AND expires > ?'),
      insert: db.prepare('INSERT INTO messages (room, offset, ts, sender, id, body) VALUES (?, ?, ?, ?, ?, ?)'),
      insertChange: db.prepare(
        'INSERT INTO messages (room, offset, ts, sender, id, body, target) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      entry: db.prepare(`SELECT ${ENTRY} FROM messages WHERE room = ? AND offset = ?`),
      setState: db.prepare('UPDATE messages SET body = ?, deleted = ?, reactions = ? WHERE room = ? AND offset = ?'),
      // Ids of the messages about to be trimmed that are still inside their window.
      remember: db.prepare(
        `INSERT OR REPLACE INTO ids (room, sender, id, offset, ts, expires)
         SELECT room, sender, id, offset, ts, ts + ? FROM messages WHERE room = ? AND offset < ? AND ts + ? > ?`,
      ),
      trim: db.prepare('DELETE FROM messages WHERE room = ? AND offset < ?'),
      move: db.prepare('UPDATE rooms SET head = ?, first = ? WHERE id = ?'),
      after: db.prepare(`SELECT ${ENTRY} FROM messages WHERE room = ? AND offset > ? ORDER BY offset LIMIT ?`),
      before: db.prepare(
        `SELECT ${ENTRY} FROM messages WHERE room = ? AND offset < ? AND target IS NULL ORDER BY offset DESC LIMIT ?`,
      ),
      unread: db.prepare(
        `SELECT count(*) AS n FROM messages
         WHERE room = ? AND offset > ? AND target IS NULL AND deleted = 0 AND sender != ?`,
      ),
    }
    this.#reads = new SqliteReads(db)
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
      if (kept?.target === null) {
        return { message: view(toMessage(draft.room, kept), reactors(kept)), duplicate: true, epoch: this.#epoch }
      }
      const seen = kept ?? sql.windowed.get(room.id, sender, draft.id, now)
      if (seen) {
        // Its entry was trimmed (or the id names a change): answered from the resent draft, with the original offset and time.
        const message = toMessage(draft.room, { offset: seen.offset, ts: seen.ts, id: draft.id, body })
        return { message, duplicate: true, epoch: this.#epoch }
      }
      const offset = room.head + 1
      sql.insert.run(room.id, offset, now, sender, draft.id, body)
      this.#moved(room, offset, now)
      this.#reads.move(room.id, sender, offset)
      const message = toMessage(draft.room, { offset, ts: now, id: draft.id, body })
      const conversation = this.#conversations.appended(draft, message)
      return conversation === undefined
        ? { message, duplicate: false, epoch: this.#epoch }
        : { message, duplicate: false, epoch: this.#epoch, conversation }
    })
    // One transaction too: the rules are checked against the target as it is when the change is stored.
    this.#change = db.transaction((draft: ChangeDraft, now: number): ChangeResult => {
      const sql = this.#sql
      const room = sql.room.get(draft.room)
      const sender = draft.from.id
      const kept = room && sql.retained.get(room.id, sender, draft.id)
      const seen = kept ?? (room && sql.windowed.get(room.id, sender, draft.id, now))
      if (room && seen) {
        const change =
          kept && kept.target !== null ? toChangeOf(draft.room, kept) : toChange(draft, seen.offset, seen.ts, draft.on)
        return { update: this.#withTarget(room.id, change, sender), duplicate: true, epoch: this.#epoch }
      }
      const row = room && draft.target >= room.first ? sql.entry.get(room.id, draft.target) : undefined
      const target = row?.target === null ? toMessage(draft.room, row) : undefined
      check(draft, target, now)
      if (!room || !row) throw new Error('unreachable: check() refuses a missing target')
      const next = apply(draft, target, reactors(row), now)
      sql.setState.run(
        JSON.stringify(toBody(next.message)),
        next.message.deleted ? 1 : 0,
        next.reactors === undefined ? null : JSON.stringify(next.reactors),
        room.id,
        draft.target,
      )
      const offset = room.head + 1
      const change = toChange(draft, offset, now, next.on)
      const body: ChangeBody = {
        from: draft.from,
        action: draft.action,
        ...(change.emoji === undefined ? {} : { emoji: change.emoji, on: change.on }),
      }
      sql.insertChange.run(room.id, offset, now, sender, draft.id, JSON.stringify(body), draft.target)
      this.#moved(room, offset, now)
      return { update: this.#withTarget(room.id, change, sender), duplicate: false, epoch: this.#epoch }
    })
    this.#markRead = db.transaction((name: string, user: string, offset: number): number => {
      const room = this.#sql.room.get(name)
      if (!room) return 0
      return this.#reads.move(room.id, user, Math.min(Math.floor(offset), room.head))
    })
    this.#erase = db.transaction((user: string) => {
      const body = JSON.stringify({ from: { id: user, name: ERASED_NAME }, text: '' } satisfies Body)
      const rows = db
        .prepare(
          `SELECT r.name AS room, m.offset AS offset FROM messages m JOIN rooms r ON r.id = m.room
           WHERE m.sender = ? AND m.target IS NULL`,
        )
        .all(user) as { room: string; offset: number }[]
      db.prepare('UPDATE messages SET body = ?, deleted = 0, reactions = NULL WHERE sender = ? AND target IS NULL').run(
        body,
        user,
      )
      db.prepare(
        "UPDATE messages SET body = json_set(body, '$.from', json_object('id', sender, 'name', ?)) WHERE sender = ? AND target IS NOT NULL",
      ).run(ERASED_NAME, user)
      // Candidates by text search, then exactly: erasure is rare, a reactions index would cost every reaction.
      const quoted = JSON.stringify(user)
      const reacted = db
        .prepare('SELECT room, offset, reactions FROM messages WHERE reactions IS NOT NULL AND instr(reactions, ?) > 0')
        .all(quoted) as { room: number; offset: number; reactions: string }[]
      const set = db.prepare('UPDATE messages SET reactions = ? WHERE room = ? AND offset = ?')
      for (const row of reacted) {
        const before = JSON.parse(row.reactions) as Reactors
        const after = withoutUser(before, user)
        if (after !== before) set.run(after === undefined ? null : JSON.stringify(after), row.room, row.offset)
      }
      this.#reads.erase(user)
      return rows
    })
  }

  /** After an entry was inserted at `offset`: trims the room to the limit and moves its head. */
  #moved(room: RoomRow, offset: number, now: number): void {
    const sql = this.#sql
    const first = Math.max(room.first, offset - this.#limit + 1)
    if (first > room.first) {
      // A retained entry's id is found through its row; only a trimmed one needs an `ids` entry, for the rest of its window.
      sql.remember.run(this.#window, room.id, first, this.#window, now)
      sql.trim.run(room.id, first)
    }
    sql.move.run(offset, first, room.id)
  }

  /** The change with its target's current state, `mine` for `viewer` (null once the target is trimmed). */
  #withTarget(room: number, change: Change, viewer?: string, page?: Map<number, EntryRow>): Update {
    const row = page?.get(change.target) ?? this.#sql.entry.get(room, change.target)
    const message = row?.target === null ? view(toMessage(change.room, row), reactors(row), viewer) : null
    return { ...change, message }
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

  async change(draft: ChangeDraft): Promise<ChangeResult> {
    return this.#guard(() => this.#change(draft, this.#now()))
  }

  async after(name: string, after: number, limit: number, viewer?: string): Promise<Entry[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    return this.#guard(() => {
      const room = this.#sql.room.get(name)
      if (!room) return []
      const rows = this.#sql.after.all(room.id, Math.max(0, Math.floor(after)), count)
      // Targets on the page are taken from it; older ones are read one by one.
      const page = rows.some((row) => row.target !== null) ? new Map(rows.map((row) => [row.offset, row])) : undefined
      return rows.map((row) =>
        row.target === null
          ? view(toMessage(name, row), reactors(row), viewer)
          : this.#withTarget(room.id, toChangeOf(name, row), viewer, page),
      )
    })
  }

  async before(name: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    const count = clampCount(limit)
    if (count === 0 || before <= 1) return []
    const end = Number.isSafeInteger(before) ? before : Number.MAX_SAFE_INTEGER
    return this.#guard(() => {
      const room = this.#sql.room.get(name)
      if (!room) return []
      const rows = this.#sql.before.all(room.id, end, count)
      return rows.reverse().map((row) => view(toMessage(name, row), reactors(row), viewer))
    })
  }

  async markRead(room: string, user: string, offset: number): Promise<number> {
    return this.#guard(() => this.#markRead(room, user, offset))
  }

  async readState(name: string, user: string): Promise<ReadState> {
    return this.#guard(() => {
      const room = this.#sql.room.get(name)
      if (!room) return { read: 0, unread: 0, reads: [] }
      const read = this.#reads.get(room.id, user)
      const unread = this.#sql.unread.get(room.id, Math.max(read, room.first - 1), user)?.n ?? 0
      return { read, unread, reads: this.#reads.others(room.id, user) }
    })
  }

  async reads(name: string, limit: number): Promise<ReadPosition[]> {
    const count = clampCount(limit)
    return this.#guard(() => {
      const room = this.#sql.room.get(name)
      return room && count > 0 ? this.#reads.all(room.id, count) : []
    })
  }

  async find(room: string, sender: string, id: string): Promise<Entry | undefined> {
    return this.#guard(() => {
      const row = this.#sql.room.get(room)
      if (!row) return undefined
      const kept = this.#sql.retained.get(row.id, sender, id)
      if (kept) {
        return kept.target === null
          ? view(toMessage(room, kept), reactors(kept))
          : this.#withTarget(row.id, toChangeOf(room, kept))
      }
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
    return this.#guard(() => this.#erase(user))
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
    ...(body.editedAt === undefined ? {} : { editedAt: body.editedAt }),
    ...(body.deleted ? { deleted: true } : {}),
  }
}

function toBody(message: Message): Body {
  return {
    from: message.from,
    text: message.text,
    ...(message.meta === undefined ? {} : { meta: message.meta }),
    ...(message.editedAt === undefined ? {} : { editedAt: message.editedAt }),
    ...(message.deleted ? { deleted: true } : {}),
  }
}

function toChangeOf(room: string, row: EntryRow): Change {
  const body = JSON.parse(row.body) as ChangeBody
  return {
    room,
    offset: row.offset,
    id: row.id,
    ts: row.ts,
    from: body.from,
    action: body.action,
    target: row.target ?? 0,
    ...(body.emoji === undefined ? {} : { emoji: body.emoji, on: body.on ?? false }),
  }
}

function reactors(row: { reactions: string | null }): Reactors | undefined {
  return row.reactions === null ? undefined : (JSON.parse(row.reactions) as Reactors)
}
