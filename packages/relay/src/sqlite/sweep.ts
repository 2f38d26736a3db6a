import type { Database, Statement } from 'better-sqlite3'

/** Options of the background sweep. */
export interface SweepOptions {
  /** Messages older than this many days are removed (default: kept until the count limit trims them). */
  retentionDays?: number
  /** Time between sweeps, in ms (default 60,000 = 1 minute). */
  interval?: number
  /** Rows one batch deletes before yielding to the event loop (default 500). */
  batch?: number
  /** Clock, for tests. */
  now?: () => number
  /** The store's idempotency window, in ms. */
  idempotencyWindow: number
  /** Where a failed sweep is reported; the next one tries again. */
  onError: (error: unknown) => void
}

const DAY = 86_400_000 // ms

/**
 * Removes what retention no longer keeps, in small batches so the event loop
 * never waits long: messages older than `retentionDays` (a prefix of each
 * room, so history stays gap-free and `first` moves forward), ids whose
 * idempotency window has passed, and then gives freed pages back to the OS
 * (`incremental_vacuum`) so a file whose rooms went quiet shrinks. The count
 * limit is enforced by each append itself (see SqliteStore).
 */
export class Sweeper {
  readonly #db: Database
  readonly #maxAge: number | undefined
  readonly #interval: number
  readonly #batch: number
  readonly #now: () => number
  readonly #onError: (error: unknown) => void
  readonly #window: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false
  readonly #sql: {
    oldest: Statement<[number, number], { room: number; upto: number }>
    keep: Statement<[number, number, number, number, number]>
    drop: Statement<[number, number]>
    move: Statement<[number, number]>
    expired: Statement<[number, number]>
  }

  constructor(db: Database, options: SweepOptions) {
    this.#db = db
    this.#maxAge = options.retentionDays === undefined ? undefined : options.retentionDays * DAY
    this.#interval = options.interval ?? 60_000 // 1 minute
    this.#batch = options.batch ?? 500
    this.#now = options.now ?? Date.now
    this.#onError = options.onError
    this.#window = options.idempotencyWindow
    this.#sql = {
      // The newest offset, per room, among the batch of oldest expired messages.
      oldest: db.prepare(
        `SELECT room, max(offset) AS upto FROM
           (SELECT room, offset FROM messages WHERE ts < ? ORDER BY ts LIMIT ?)
         GROUP BY room`,
      ),
      // As a trim does: ids still inside their window outlive their message (only with a window longer than the age limit).
      keep: db.prepare(
        `INSERT OR REPLACE INTO ids (room, sender, id, offset, ts, expires)
         SELECT room, sender, id, offset, ts, ts + ? FROM messages WHERE room = ? AND offset <= ? AND ts + ? > ?`,
      ),
      drop: db.prepare('DELETE FROM messages WHERE room = ? AND offset <= ?'),
      move: db.prepare('UPDATE rooms SET first = max(first, ? + 1) WHERE id = ?'),
      expired: db.prepare(
        'DELETE FROM ids WHERE (room, sender, id) IN (SELECT room, sender, id FROM ids WHERE expires <= ? LIMIT ?)',
      ),
    }
  }

  /** Sweeps now and then every interval until `stop()`. */
  start(): void {
    const tick = (): void => {
      this.#running = this.sweep()
        .then(() => undefined, this.#onError)
        .finally(() => {
          this.#running = undefined
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#interval).unref()
        })
    }
    tick()
  }

  /** One full sweep, batch by batch, yielding between batches; resolves with the rows removed. */
  async sweep(): Promise<number> {
    let removed = 0
    for (;;) {
      if (this.#stopped) return removed
      const now = this.#now()
      const done = this.#db.transaction(() => {
        let rows = 0
        if (this.#maxAge !== undefined) {
          for (const { room, upto } of this.#sql.oldest.all(now - this.#maxAge, this.#batch)) {
            this.#sql.keep.run(this.#window, room, upto, this.#window, now)
            rows += this.#sql.drop.run(room, upto).changes
            this.#sql.move.run(upto, room)
          }
        }
        rows += this.#sql.expired.run(now, this.#batch).changes
        return rows
      })()
      removed += done
      if (done === 0) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    // Bounded too: at most 1,000 pages (4 MB) per sweep go back to the OS.
    this.#db.pragma('incremental_vacuum(1000)')
    return removed
  }

  /** Stops the timer and waits for a sweep in progress to finish its batch. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }
}
