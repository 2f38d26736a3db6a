import type { ReadPosition } from '@confab/sdk/protocol'
import type { Database, Statement } from 'better-sqlite3'
import { READ_LIMIT, READS_SHOWN } from '../store/lifecycle'

/**
 * Read positions in the `reads` table (schema 4). Statements only: the caller runs them inside its own
 * transaction (an append moves its sender's position in the append's transaction).
 */
export class SqliteReads {
  readonly #sql: {
    get: Statement<[number, string], { offset: number }>
    forward: Statement<[number, number, number, string, number]>
    insert: Statement<[number, string, number, number]>
    count: Statement<[number], { n: number }>
    evict: Statement<[number, number, number]>
    others: Statement<[number, string, number], ReadPosition>
    all: Statement<[number, number], ReadPosition>
    erase: Statement<[string]>
  }
  /** Orders moves across the file: one process owns it, so a counter in memory, resumed from the file, is enough. */
  #moves: number

  constructor(db: Database) {
    this.#sql = {
      get: db.prepare('SELECT offset FROM reads WHERE room = ? AND user = ?'),
      forward: db.prepare('UPDATE reads SET offset = ?, moved = ? WHERE room = ? AND user = ? AND offset < ?'),
      insert: db.prepare('INSERT INTO reads (room, user, offset, moved) VALUES (?, ?, ?, ?)'),
      count: db.prepare('SELECT count(*) AS n FROM reads WHERE room = ?'),
      evict: db.prepare(
        'DELETE FROM reads WHERE room = ? AND user IN (SELECT user FROM reads WHERE room = ? ORDER BY moved LIMIT ?)',
      ),
      others: db.prepare(
        'SELECT user, offset FROM reads WHERE room = ? AND user != ? ORDER BY offset DESC, user LIMIT ?',
      ),
      all: db.prepare('SELECT user, offset FROM reads WHERE room = ? ORDER BY offset DESC, user LIMIT ?'),
      erase: db.prepare('DELETE FROM reads WHERE user = ?'),
    }
    this.#moves = (db.prepare('SELECT max(moved) AS n FROM reads').get() as { n: number | null }).n ?? 0
  }

  /** The user's position in the room (0: none). */
  get(room: number, user: string): number {
    return this.#sql.get.get(room, user)?.offset ?? 0
  }

  /** Moves the user's position forward to `offset` (an offset the room has); the position after. */
  move(room: number, user: string, offset: number): number {
    if (!(offset > 0)) return this.get(room, user)
    const moved = ++this.#moves
    if (this.#sql.forward.run(offset, moved, room, user, offset).changes > 0) return offset
    const read = this.#sql.get.get(room, user)
    if (read) return read.offset
    this.#sql.insert.run(room, user, offset, moved)
    // Only a new reader can push the room past the bound.
    const over = (this.#sql.count.get(room)?.n ?? 0) - READ_LIMIT
    if (over > 0) this.#sql.evict.run(room, room, over)
    return offset
  }

  /** The others' positions, furthest first (by user on a tie), at most READS_SHOWN. */
  others(room: number, user: string): ReadPosition[] {
    return this.#sql.others.all(room, user, READS_SHOWN)
  }

  /** Every position, furthest first, at most `limit`. */
  all(room: number, limit: number): ReadPosition[] {
    return this.#sql.all.all(room, limit)
  }

  /** Drops the user's position in every room. */
  erase(user: string): void {
    this.#sql.erase.run(user)
  }
}
