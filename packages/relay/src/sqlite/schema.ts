// The data file's layout and its migrations, in one place. A later feature
// (conversation index, edits and reactions as log events, read positions,
// bans, a webhook queue) adds a migration at the end of MIGRATIONS; a file is
// brought up to date in one transaction when it is opened, and a file written
// by a newer Confab is refused rather than misread.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Database } from 'better-sqlite3'

/** `PRAGMA application_id` of a Confab data file ('Cnfb'), so another program's SQLite file is refused, not altered. */
export const APPLICATION_ID = 0x436e6662

/**
 * Migration `i` takes a file from schema version `i` to `i + 1` (the version
 * lives in `PRAGMA user_version`). Never edit a shipped migration: add one.
 */
const MIGRATIONS: readonly ((db: Database) => void)[] = [
  (db) => {
    db.exec(`
      -- Facts about the file itself: its epoch (new file, new epoch) and the guest resume secret.
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      -- One row per room ever written: offsets keep counting from head even when
      -- retention has removed every message (first = head + 1 then).
      CREATE TABLE rooms (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        head INTEGER NOT NULL,
        first INTEGER NOT NULL
      );

      -- The retained history, clustered by room and offset so a page is one range scan.
      -- body is the JSON of { from, text, meta? }.
      CREATE TABLE messages (
        room INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        sender TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (room, offset)
      ) WITHOUT ROWID;
      -- A retained message's id is known however old it is (sender-scoped, like every id).
      CREATE UNIQUE INDEX messages_by_id ON messages (room, sender, id);
      -- The age sweep walks the oldest messages first.
      CREATE INDEX messages_by_ts ON messages (ts);

      -- Ids of trimmed messages whose idempotency window has not passed yet.
      CREATE TABLE ids (
        room INTEGER NOT NULL,
        sender TEXT NOT NULL,
        id TEXT NOT NULL,
        offset INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        PRIMARY KEY (room, sender, id)
      ) WITHOUT ROWID;
      CREATE INDEX ids_by_expiry ON ids (expires);
    `)
    const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
    insert.run('epoch', randomUUID())
    insert.run('resume_secret', randomBytes(32).toString('base64url'))
    insert.run('created', new Date().toISOString())
  },
  (db) => {
    db.exec(`
      -- The conversation index: the entry as JSON (body) and the columns the listing filters and sorts on.
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        last INTEGER NOT NULL,
        status TEXT NOT NULL,
        assignee TEXT,
        body TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX conversations_by_activity ON conversations (last DESC, id DESC);
    `)
  },
  (db) => {
    db.exec(`
      -- Bans and mutes (docs/moderation.md): body is the JSON of the whole ban.
      CREATE TABLE bans (id TEXT PRIMARY KEY, until INTEGER, body TEXT NOT NULL) WITHOUT ROWID;

      -- The durable webhook queue (docs/webhooks.md), delivered in seq order.
      CREATE TABLE webhook_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        room TEXT NOT NULL,
        body TEXT NOT NULL,
        created INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next INTEGER NOT NULL
      );
      CREATE TABLE webhook_dead (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        room TEXT NOT NULL,
        body TEXT NOT NULL,
        created INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        died INTEGER NOT NULL
      );
      -- Erasure finds a user's messages without reading every room.
      CREATE INDEX messages_by_sender ON messages (sender);
    `)
  },
  (db) => {
    db.exec(`
      -- The message lifecycle (docs/protocol.md "Message lifecycle"). The log also holds changes (edit, delete,
      -- react): target is the offset of the message changed (NULL on a message), and a change's body is the JSON
      -- of { from, action, emoji?, on? }. A message's row holds its current state: body gets editedAt and the new
      -- text, or deleted (then deleted = 1, for the unread count); reactions is the JSON of emoji -> user ids.
      ALTER TABLE messages ADD COLUMN target INTEGER;
      ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN reactions TEXT;

      -- Read positions, one per user per room; moved orders them by their latest move (the least recent go
      -- first past 10,000 per room). No index on offset or moved: every append moves its sender's position,
      -- and sorting one room's rows when a member joins costs less than keeping two more indexes per append.
      CREATE TABLE reads (
        room INTEGER NOT NULL,
        user TEXT NOT NULL,
        offset INTEGER NOT NULL,
        moved INTEGER NOT NULL,
        PRIMARY KEY (room, user)
      ) WITHOUT ROWID;
      CREATE INDEX reads_by_user ON reads (user);
    `)
  },
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * The file's schema version, after checking, by reads only, that it is a
 * Confab data file (or an empty file) that this code can read: nothing of
 * another program's file is changed. Throws a one-line Error otherwise.
 */
export function identify(db: Database): number {
  const appId = db.pragma('application_id', { simple: true }) as number
  const version = db.pragma('user_version', { simple: true }) as number
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }
  if (appId !== APPLICATION_ID && (appId !== 0 || version !== 0 || tables.n > 0)) {
    throw new Error('it is a SQLite database of another application, not a Confab data file')
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(`it was written by a newer Confab (schema ${version}; this relay knows up to ${SCHEMA_VERSION})`)
  }
  return version
}

/** Brings a file of schema `version` (see `identify`) to SCHEMA_VERSION in one transaction. */
export function migrate(db: Database, version: number): void {
  if (version === SCHEMA_VERSION) return
  db.transaction(() => {
    if (version === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
    for (let v = version; v < SCHEMA_VERSION; v++) (MIGRATIONS[v] as (db: Database) => void)(db)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })()
}
