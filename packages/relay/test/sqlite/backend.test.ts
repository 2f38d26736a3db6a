import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteBackend, type SqliteBackend } from '../../src/sqlite'
import { SCHEMA_VERSION } from '../../src/sqlite/schema'
import { conversationId } from '../../src/store/conversations'
import type { Draft } from '../../src/store/types'

const options = { historyLimit: 1000, idempotencyWindow: 600_000 }
const from = { id: 'u1', name: 'Ada' }
let seq = 0
const draft = (room: string, extra: Partial<Draft> = {}): Draft => ({
  room,
  id: `m${++seq}`,
  from,
  text: `hello ${seq}`,
  ...extra,
})

/** Takes a file of schema 4 back to what schema 3 wrote. */
const UNDO_4 = `
  DROP TABLE reads;
  ALTER TABLE messages DROP COLUMN target;
  ALTER TABLE messages DROP COLUMN deleted;
  ALTER TABLE messages DROP COLUMN reactions;
`

let dir: string
let file: string
const open: SqliteBackend[] = []

/** Opens the backend on `file` (default: this test's file) and closes it after the test. */
async function backend(path = file, extra: Partial<typeof options> = {}): Promise<SqliteBackend> {
  const opened = await createSqliteBackend(path, { ...options, ...extra })
  open.push(opened)
  return opened
}

/** The promise's rejection message (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  return (error as Error).message
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-sqlite-'))
  file = join(dir, 'confab.db')
})

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()))
  await rm(dir, { recursive: true, force: true })
})

describe('a restart on the same file', () => {
  it('keeps the epoch, the offsets, the history and the resume secret', async () => {
    const first = await backend()
    const a = await first.store.append(draft('r', { text: 'one' }))
    const b = await first.store.append(draft('r', { text: 'two', meta: { k: [1] } }))
    const before = await first.store.state('r')
    const secret = first.resumeSecret
    await first.close()

    const second = await backend()
    expect(second.resumeSecret).toBe(secret)
    expect(second.epoch).toBe(first.epoch)
    expect(await second.store.state('r')).toEqual(before)
    expect(await second.store.after('r', 0, 10)).toEqual([a.message, b.message])
    const next = await second.store.append(draft('r'))
    expect(next).toMatchObject({ duplicate: false, epoch: before.epoch, message: { offset: 3 } })
  })

  it('still answers a resent id with the original ack, also after its message was trimmed', async () => {
    const first = await backend(file, { historyLimit: 1 })
    const sent = await first.store.append(draft('r', { id: 'resend', text: 'once' }))
    const kept = await first.store.append(draft('r', { id: 'kept', text: 'kept' }))
    await first.close()

    const second = await backend(file, { historyLimit: 1 })
    expect(await second.store.append(draft('r', { id: 'resend', text: 'once' }))).toEqual({ ...sent, duplicate: true })
    expect(await second.store.append(draft('r', { id: 'kept', text: 'kept' }))).toEqual({ ...kept, duplicate: true })
    expect((await second.store.state('r')).head).toBe(2)
  })

  it('keeps edits, deletes, reactions, the log of changes and read positions', async () => {
    const bob = { id: 'u2', name: 'Bob' }
    const change = { ownOnly: false, editWindow: 0, maxReactions: 20 }
    const first = await backend()
    const { store } = first
    await store.append(draft('r', { text: 'one' }))
    await store.append(draft('r', { text: 'two', from: bob }))
    await store.append(draft('r', { text: 'three', from: bob }))
    await store.change({ ...change, room: 'r', id: 'e', from, action: 'edit', target: 1, text: 'one!' })
    await store.change({ ...change, room: 'r', id: 'd', from: bob, action: 'delete', target: 3 })
    await store.change({ ...change, room: 'r', id: 'x', from: bob, action: 'react', target: 1, emoji: '👍' })
    await store.markRead('r', 'u3', 2)
    const log = await store.after('r', 0, 10, 'u2')
    const reads = await store.reads('r', 10)
    const state = await store.readState('r', 'u1')
    await first.close()

    const second = await backend()
    expect(await second.store.after('r', 0, 10, 'u2')).toEqual(log)
    expect(log.map((e) => e.offset)).toEqual([1, 2, 3, 4, 5, 6])
    expect(log[0]).toMatchObject({ text: 'one!', reactions: { '👍': { count: 1, mine: true } } })
    expect(log[2]).toMatchObject({ deleted: true, text: '' })
    expect(await second.store.reads('r', 10)).toEqual(reads)
    expect(reads).toEqual(
      [
        { user: 'u2', offset: 3 },
        { user: 'u1', offset: 1 },
        { user: 'u3', offset: 2 },
      ].sort((a, b) => b.offset - a.offset),
    )
    expect(await second.store.readState('r', 'u1')).toEqual(state)
    expect(state).toEqual({
      read: 1,
      unread: 1,
      reads: [
        { user: 'u2', offset: 3 },
        { user: 'u3', offset: 2 },
      ],
    })
    // Resent changes are still known, and positions keep moving in order.
    const resent = await second.store.change({
      ...change,
      room: 'r',
      id: 'x',
      from: bob,
      action: 'react',
      target: 1,
      emoji: '👍',
    })
    expect(resent).toMatchObject({ duplicate: true, update: { offset: 6, on: true } })
    expect(await second.store.markRead('r', 'u3', 1)).toBe(2)
    expect(await second.store.markRead('r', 'u3', 5)).toBe(5)
  })

  it('keeps what was committed when the process dies without closing (the WAL is replayed)', async () => {
    const running = await backend()
    const sent = await running.store.append(draft('r'))
    // The files as a SIGKILL would leave them: nothing checkpointed, the commit only in the -wal file.
    writeFileSync(join(dir, 'copy.db'), readFileSync(file))
    writeFileSync(join(dir, 'copy.db-wal'), readFileSync(`${file}-wal`))
    const restarted = await backend(join(dir, 'copy.db'))
    expect(restarted.epoch).toBe(running.epoch)
    expect(await restarted.store.after('r', 0, 10)).toEqual([sent.message])
  })
})

describe('commits', () => {
  /** What a process killed right now would leave: the file and its log as they are on disk. */
  async function onDiskNow(running: SqliteBackend, copy: string): Promise<number> {
    writeFileSync(copy, readFileSync(file))
    writeFileSync(`${copy}-wal`, readFileSync(`${file}-wal`))
    const reopened = await backend(copy)
    const { head } = await reopened.store.state('r')
    await reopened.close()
    for (const suffix of ['', '-wal']) rmSync(copy + suffix, { force: true })
    expect(running.epoch).toBe(reopened.epoch)
    return head
  }

  it('commits each append before it is acked', async () => {
    const running = await backend()
    const heads: number[] = []
    const appends = Array.from({ length: 20 }, (_, i) =>
      running.store.append(draft('r')).then(async (result) => {
        // At the ack, a kill would leave this message (and every earlier one) in the file.
        heads[i] = await onDiskNow(running, join(dir, `ack-${i}.db`))
        expect(heads[i]).toBeGreaterThanOrEqual(result.message.offset)
      }),
    )
    await Promise.all(appends)
    expect(heads).toHaveLength(20)
  })
})

describe('a file whose data is gone', () => {
  it('gets a new epoch and a new resume secret when the file is deleted', async () => {
    const first = await backend()
    await first.store.append(draft('r'))
    await first.close()
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true })

    const second = await backend()
    expect(second.epoch).not.toBe(first.epoch)
    expect(second.resumeSecret).not.toBe(first.resumeSecret)
    expect(await second.store.state('r')).toEqual({ epoch: second.epoch, head: 0, first: 1 })
  })

  it('takes the epoch of the file put in its place', async () => {
    const first = await backend()
    await first.store.append(draft('r'))
    await first.close()
    const other = await backend(join(dir, 'other.db'))
    await other.store.append(draft('r'))
    await other.close()
    for (const suffix of ['', '-wal']) rmSync(file + suffix, { force: true })
    writeFileSync(file, readFileSync(join(dir, 'other.db')))

    const replaced = await backend()
    expect(replaced.epoch).toBe(other.epoch)
    expect(replaced.epoch).not.toBe(first.epoch)
  })
})

describe('a file that cannot be used', () => {
  it('rejects a file that is not a database with one line naming the file', async () => {
    writeFileSync(file, 'not a database at all. '.repeat(200))
    const message = await rejection(backend())
    expect(message).toBe(
      `cannot use ${file} as the Confab data file: file is not a database (SQLITE_NOTADB; it is not a SQLite file, or its header is damaged)`,
    )
  })

  it('rejects a file with damaged pages as corrupt', async () => {
    const first = await backend()
    for (let i = 0; i < 500; i++) await first.store.append(draft(`room-${i % 7}`, { text: 'x'.repeat(300) }))
    await first.close()
    const bytes = readFileSync(file)
    // Overwrite the inside of every page but the first (the header and the schema).
    for (let page = 4096 * 2; page < bytes.length; page += 4096) bytes.fill(0x5a, page + 8, page + 200)
    writeFileSync(file, bytes)
    const message = await rejection(backend())
    expect(message).toMatch(new RegExp(`^cannot use ${file} as the Confab data file: `))
    expect(message).toMatch(/corrupt|malformed/)
    expect(message).not.toContain('\n')
    expect(message.length).toBeLessThan(400)
  })

  it("rejects another application's SQLite file and leaves it untouched", async () => {
    const db = new Sqlite(file)
    db.exec('CREATE TABLE notes (body TEXT)')
    db.close()
    const before = readFileSync(file)
    expect(await rejection(backend())).toBe(
      `cannot use ${file} as the Confab data file: it is a SQLite database of another application, not a Confab data file`,
    )
    expect(readFileSync(file)).toEqual(before)
  })

  it('rejects a file written by a newer Confab', async () => {
    await (await backend()).close()
    const db = new Sqlite(file)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expect(await rejection(backend())).toBe(
      `cannot use ${file} as the Confab data file: it was written by a newer Confab (schema ${SCHEMA_VERSION + 1}; this relay knows up to ${SCHEMA_VERSION})`,
    )
  })

  it('upgrades a file at schema 2 (the conversation index) to the moderation tables of schema 3, keeping its data', async () => {
    expect(SCHEMA_VERSION).toBe(4)
    const first = await backend()
    await first.store.append(draft('lobby'))
    const entry = await first.store.updateConversation(conversationId('v1'), { visitor: { id: 'v1', name: 'Vi' } })
    expect(entry).not.toBeNull()
    await first.close()
    // What a relay of schema 2 left: no moderation tables yet.
    const db = new Sqlite(file)
    db.exec(UNDO_4)
    db.exec('DROP TABLE bans; DROP TABLE webhook_queue; DROP TABLE webhook_dead; DROP INDEX messages_by_sender')
    db.pragma('user_version = 2')
    db.close()
    const upgraded = await backend()
    const { store } = upgraded
    expect((await store.before('lobby', 10, 10)).map((m) => m.text)).toEqual([`hello ${seq}`])
    expect(await store.conversation(conversationId('v1'))).toEqual(entry)
    await store.addBan({ id: 'b1', user: 'u1', mute: false, createdAt: 1 })
    expect((await store.bans(2)).map((b) => b.id)).toEqual(['b1'])
    await upgraded.close()
    const reopened = new Sqlite(file, { readonly: true, fileMustExist: true })
    try {
      expect(reopened.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    } finally {
      reopened.close()
    }
  })

  it('upgrades a file at schema 3 to the message lifecycle of schema 4, keeping its messages and ids', async () => {
    const first = await backend()
    const sent = await first.store.append(draft('lobby', { id: 'kept', meta: { k: 1 } }))
    await first.close()
    // What a relay of schema 3 left: no change columns, no read positions.
    const db = new Sqlite(file)
    db.exec(UNDO_4)
    db.pragma('user_version = 3')
    db.close()
    const upgraded = await backend()
    const { store } = upgraded
    expect(await store.after('lobby', 0, 10)).toEqual([sent.message])
    expect((await store.append(draft('lobby', { id: 'kept', meta: { k: 1 } }))).duplicate).toBe(true)
    const changed = await store.change({
      room: 'lobby',
      id: 'e1',
      from,
      action: 'edit',
      target: 1,
      text: 'edited',
      ownOnly: true,
      editWindow: 0,
      maxReactions: 20,
    })
    expect(changed.update).toMatchObject({ offset: 2, message: { text: 'edited', meta: { k: 1 } } })
    expect(await store.readState('lobby', 'u2')).toEqual({ read: 0, unread: 1, reads: [] })
    expect(await store.markRead('lobby', 'u2', 2)).toBe(2)
    expect(await store.readState('lobby', 'u2')).toEqual({ read: 2, unread: 0, reads: [] })
    await upgraded.close()
  })

  it('rejects a second relay on the same file', async () => {
    await backend()
    expect(await rejection(backend())).toBe(
      `cannot use ${file} as the Confab data file: database is locked (SQLITE_BUSY; another process holds it: is a second relay running on this file?)`,
    )
  })

  it('rejects a path in a folder that does not exist', async () => {
    const missing = join(dir, 'nope', 'confab.db')
    expect(await rejection(backend(missing))).toBe(
      `cannot use ${missing} as the Confab data file: Cannot open database because the directory does not exist`,
    )
  })

  it('rejects a file whose write-ahead log cannot be written', async () => {
    await (await backend()).close()
    // Works as root too, unlike a read-only mode: the -wal path is taken by a folder.
    mkdirSync(`${file}-wal`)
    const message = await rejection(backend())
    expect(message).toMatch(new RegExp(`^cannot use ${file} as the Confab data file: .*\\(SQLITE_[A-Z_]+; .+\\)$`))
  })

  it.runIf(process.getuid?.() !== 0)('rejects a read-only file', async () => {
    await (await backend()).close()
    const { chmodSync } = await import('node:fs')
    chmodSync(file, 0o444)
    expect(await rejection(backend())).toMatch(/readonly|read-only|unable to open/i)
  })
})
