import type { Database } from 'better-sqlite3'
import { MemoryBroker } from '../broker/memory'
import type { Broker } from '../broker/types'
import { MemoryPresence } from '../presence/memory'
import type { Presence } from '../presence/types'
import type { Store } from '../store/types'
import { identify, migrate } from './schema'
import { SqliteStore } from './store'
import { Sweeper } from './sweep'

/** Store, broker and presence of a single relay process that keeps its history in one SQLite file. */
export interface SqliteBackend {
  store: Store
  broker: Broker
  presence: Presence
  /** The secret that signs guest `resume` strings: made with the file and kept in it, so guests keep their id across restarts. */
  resumeSecret: string
  /** The file's epoch: every room's epoch, new when the file is new. */
  epoch: string
  /** Runs a retention sweep now (one also runs every `sweepInterval`); resolves with the rows removed. */
  sweep(): Promise<number>
  /** Stops the sweep, closes the three and the file (checkpointing the WAL into it). */
  close(): Promise<void>
}

/** Options of `createSqliteBackend`. */
export interface SqliteBackendOptions {
  /** Messages retained per room. */
  historyLimit: number
  /** How long a publish id is remembered, in ms. */
  idempotencyWindow: number
  /** Messages older than this many days are removed by a background sweep (default: no age limit). */
  retentionDays?: number
  /**
   * 'normal' (default): a commit survives the process being killed, and the file is never corrupted,
   * but the last commits before a power loss or OS crash may be lost. 'full': every commit is fsynced.
   */
  durability?: 'normal' | 'full'
  /** Time between retention sweeps, in ms (default 60,000 = 1 minute). */
  sweepInterval?: number
  /** Clock, for tests. */
  now?: () => number
  /** Where write failures and sweep failures go (default: console.error). */
  onError?: (error: unknown) => void
}

/**
 * Opens (or creates) the SQLite data file and returns the backend of a
 * single-node relay: history in the file, fan-out and presence in memory.
 * The file is held exclusively, so a second relay on the same file fails at
 * start instead of splitting the rooms. Rejects with an Error whose message
 * is one line naming the file and the problem when the file is corrupt, not a
 * Confab file, locked, unreadable or unwritable. better-sqlite3 is imported
 * here, so a relay on memory or Redis never loads the native module.
 */
export async function createSqliteBackend(file: string, options: SqliteBackendOptions): Promise<SqliteBackend> {
  const onError = options.onError ?? ((error: unknown) => console.error('confab sqlite:', error))
  const { default: Sqlite } = await import('better-sqlite3')
  let db: Database | undefined
  let meta: Record<string, string>
  try {
    // A lock held by a live relay stays held; a killed one's is released by the kernel at once, so waiting longer gains nothing.
    db = new Sqlite(file, { timeout: 1000 }) // ms
    // Reads first: a file that is not ours is refused before anything in it changes.
    const version = identify(db)
    open(db, options.durability ?? 'normal')
    migrate(db, version)
    // A real write: proves the file (and its folder, for the WAL) is writable and takes the exclusive lock.
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened', ?)").run(new Date().toISOString())
    meta = Object.fromEntries(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [
        r.key,
        r.value,
      ]),
    )
    if (!meta.epoch || !meta.resume_secret) throw new Error('its meta table lacks the epoch or the resume secret')
  } catch (error) {
    db?.close()
    throw new Error(`cannot use ${file} as the Confab data file: ${describe(error)}`, { cause: error })
  }

  const store = new SqliteStore(db, meta.epoch, onError, options)
  const broker = new MemoryBroker()
  const presence = new MemoryPresence()
  const sweeper = new Sweeper(db, {
    retentionDays: options.retentionDays,
    interval: options.sweepInterval,
    now: options.now,
    onError,
    idempotencyWindow: options.idempotencyWindow,
  })
  sweeper.start()
  const handle = db
  let closing: Promise<void> | undefined
  return {
    store,
    broker,
    presence,
    resumeSecret: meta.resume_secret,
    epoch: meta.epoch,
    sweep: () => sweeper.sweep(),
    close() {
      closing ??= (async () => {
        await sweeper.stop()
        await Promise.all([store.close(), broker.close(), presence.close()])
        handle.close()
      })()
      return closing
    },
  }
}

/** Settings every connection needs, then a read of the whole file's structure, so corruption fails here and not at a publish. */
function open(db: Database, durability: 'normal' | 'full'): void {
  // Only takes effect on a new, empty file; lets the sweep give freed pages back to the OS.
  db.pragma('auto_vacuum = INCREMENTAL')
  // One process owns the file: no shared-memory index, and a second relay gets "database is locked".
  db.pragma('locking_mode = EXCLUSIVE')
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') throw new Error(`SQLite could not switch it to WAL mode (journal_mode is ${String(mode)})`)
  // In WAL, NORMAL syncs at checkpoints only: a commit survives a crash of the process, not of the OS.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  // Checkpoints every 16 MB of log rather than SQLite's 4 MB: fewer copies of hot pages into the file (and fewer syncs).
  db.pragma('wal_autocheckpoint = 4000') // pages of 4 KiB
  // Keeps the WAL file from staying large after a burst.
  db.pragma('journal_size_limit = 67108864') // 64 MiB
  // One problem is enough to refuse the file; the operator runs `sqlite3 FILE 'PRAGMA integrity_check'` for the rest.
  const problem = db.pragma('quick_check(1)', { simple: true })
  if (problem !== 'ok') throw new Error(`it is corrupt (quick_check: ${String(problem).slice(0, 200)})`)
}

/** What an operator should check, by SQLite result code. */
const HINTS: [RegExp, string][] = [
  [/^SQLITE_BUSY/, 'another process holds it: is a second relay running on this file?'],
  [/^SQLITE_NOTADB/, 'it is not a SQLite file, or its header is damaged'],
  [/^SQLITE_(READONLY|PERM|CANTOPEN)/, 'check that the file and its folder exist and are writable by this user'],
  [/^SQLITE_IOERR/, 'the file, its -wal file or its folder cannot be written'],
]

/** One line: SQLite's message, its code and a hint, without stack or newlines. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown }).code
  const line = message.replace(/\s+/g, ' ').trim()
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return line
  const hint = HINTS.find(([pattern]) => pattern.test(code))?.[1]
  return hint ? `${line} (${code}; ${hint})` : `${line} (${code})`
}
