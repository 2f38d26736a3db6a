import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSqliteBackend, type SqliteBackend, type SqliteBackendOptions } from '../../src/sqlite'
import type { Draft } from '../../src/store/types'

const DAY = 86_400_000
const from = { id: 'u1', name: 'Ada' }
let seq = 0
const draft = (room: string, text = `hello ${seq}`): Draft => ({ room, id: `m${++seq}`, from, text })

let dir: string
let file: string
let now: number
let backend: SqliteBackend | undefined

async function open(extra: Partial<SqliteBackendOptions> = {}): Promise<SqliteBackend> {
  backend = await createSqliteBackend(file, {
    historyLimit: 1000,
    idempotencyWindow: 600_000,
    now: () => now,
    sweepInterval: 3_600_000, // the tests sweep by hand
    ...extra,
  })
  return backend
}

/** Row counts, read after the backend closed (it holds the file exclusively while open). */
async function rows(): Promise<{ messages: number; ids: number; rooms: number }> {
  await backend?.close()
  const db = new Sqlite(file, { readonly: true })
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    return { messages: count('messages'), ids: count('ids'), rooms: count('rooms') }
  } finally {
    db.close()
  }
}

/** The bytes the data lives in: the file and its write-ahead log. */
function bytes(): number {
  const size = (path: string) => {
    try {
      return statSync(path).size
    } catch {
      return 0 // no -wal file (yet)
    }
  }
  return size(file) + size(`${file}-wal`)
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-sqlite-'))
  file = join(dir, 'confab.db')
  now = Date.UTC(2026, 0, 1)
})

afterEach(async () => {
  await backend?.close()
  backend = undefined
  await rm(dir, { recursive: true, force: true })
})

describe('retention by count', () => {
  it('keeps exactly the limit per room, in the append transaction', async () => {
    const { store } = await open({ historyLimit: 50 })
    for (let i = 0; i < 2000; i++) await store.append(draft(i % 4 === 0 ? 'quiet' : 'busy'))
    expect(await store.state('busy')).toMatchObject({ head: 1500, first: 1451 })
    expect(await store.state('quiet')).toMatchObject({ head: 500, first: 451 })
    expect((await rows()).messages).toBe(100)
  })

  it('keeps the file from growing once the history is full and the windows have passed', async () => {
    const { store, sweep } = await open({ historyLimit: 100, idempotencyWindow: 1000 })
    const text = 'x'.repeat(200)
    const fill = async (count: number) => {
      for (let i = 0; i < count; i++) {
        now += 10 // 100 messages a second
        await store.append(draft('r', text))
        if (i % 1000 === 999) await sweep()
      }
    }
    await fill(5000)
    const settled = bytes()
    await fill(20_000)
    // 20,000 more messages (about 5 MB of text) later the file holds the same 100 messages and no more ids.
    expect(bytes()).toBeLessThanOrEqual(settled * 1.1)
    expect(statSync(file).size).toBeLessThan(512 * 1024)
    // The log is checkpointed into the file every 4,000 pages (16 MB) and then written from the start again.
    expect(statSync(`${file}-wal`).size).toBeLessThan(16.5 * 1024 * 1024)
    const counts = await rows()
    expect(counts.messages).toBe(100)
    expect(counts.ids).toBeLessThanOrEqual(200) // the window's worth: 1 s at 100 a second, plus one sweep period
  })
})

describe('retention by age', () => {
  it('removes messages older than retentionDays, in batches, and moves first past them', async () => {
    const { store, sweep } = await open({ retentionDays: 1 })
    for (let i = 0; i < 1200; i++) await store.append(draft(`room-${i % 3}`))
    now += DAY / 2
    const young = await store.append(draft('room-0', 'young'))
    now += DAY / 2 + 1
    // 1,200 messages are more than one batch (500): the sweep loops until none is left.
    expect(await sweep()).toBeGreaterThanOrEqual(1200)
    expect(await store.state('room-0')).toMatchObject({ head: 401, first: 401 })
    expect(await store.state('room-1')).toMatchObject({ head: 400, first: 401 })
    expect(await store.after('room-0', 0, 10)).toEqual([young.message])
    expect(await store.after('room-1', 0, 10)).toEqual([])
    const next = await store.append(draft('room-1'))
    expect(next.message.offset).toBe(401)
    expect((await rows()).messages).toBe(2)
  })

  it('removes changes older than retentionDays like messages, and the state of a removed message with it', async () => {
    const { store, sweep } = await open({ retentionDays: 1 })
    const change = { ownOnly: false, editWindow: 0, maxReactions: 20, from }
    await store.append(draft('r', 'old'))
    await store.change({ ...change, room: 'r', id: 'x1', action: 'react', target: 1, emoji: '👍' })
    now += DAY / 2
    await store.append(draft('r', 'young'))
    await store.change({ ...change, room: 'r', id: 'x2', action: 'react', target: 3, emoji: '👍' })
    await store.change({ ...change, room: 'r', id: 'x3', action: 'react', target: 1, emoji: '🎉' })
    now += DAY / 2 + 1
    expect(await sweep()).toBe(2)
    expect(await store.state('r')).toMatchObject({ head: 5, first: 3 })
    const log = await store.after('r', 0, 10)
    expect(log.map((e) => e.offset)).toEqual([3, 4, 5])
    // The change to the removed message stays in the log, its target gone.
    expect(log[2]).toMatchObject({ action: 'react', target: 1, message: null })
    expect(log[1]).toMatchObject({ target: 3, message: { text: 'young', reactions: { '👍': { count: 1 } } } })
    expect((await rows()).messages).toBe(3)
  })

  it('lets the event loop run between batches', async () => {
    const { store, sweep } = await open({ retentionDays: 1 })
    for (let i = 0; i < 3000; i++) await store.append(draft(`room-${i % 10}`))
    now += DAY + 1
    let finished = false
    const sweeping = sweep().then((removed) => {
      finished = true
      return removed
    })
    // 3,000 old messages are six batches: other callbacks get their turn before the sweep is done.
    let turns = 0
    while (!finished) {
      await new Promise((resolve) => setImmediate(resolve))
      turns++
    }
    expect(turns).toBeGreaterThanOrEqual(5)
    expect(await sweeping).toBeGreaterThanOrEqual(3000)
    expect((await rows()).messages).toBe(0)
  })

  it('sweeps by itself every sweepInterval', async () => {
    const { store } = await open({ retentionDays: 1, sweepInterval: 20 })
    await store.append(draft('r'))
    now += DAY + 1
    await vi.waitFor(async () => expect(await store.state('r')).toMatchObject({ head: 1, first: 2 }), { timeout: 5000 })
  })

  it('keeps everything without retentionDays', async () => {
    const { store, sweep } = await open()
    for (let i = 0; i < 10; i++) await store.append(draft('r'))
    now += 365 * DAY
    await sweep()
    expect(await store.state('r')).toMatchObject({ head: 10, first: 1 })
  })

  it('keeps a room gap-free when a clock step made a newer message look older', async () => {
    const { store, sweep } = await open({ retentionDays: 1 })
    await store.append(draft('r'))
    now -= DAY / 2 // the clock stepped back
    await store.append(draft('r'))
    now += DAY / 2
    const kept = await store.append(draft('r'))
    now += DAY + 1 - DAY / 4
    // Only the second message is past the age, but the first is older in offset: both go, never a hole.
    await sweep()
    expect(await store.state('r')).toMatchObject({ head: 3, first: 3 })
    expect(await store.after('r', 0, 10)).toEqual([kept.message])
  })
})

describe('the idempotency window', () => {
  it('forgets the ids of trimmed messages once their window passed and a sweep ran', async () => {
    const { store, sweep } = await open({ historyLimit: 1, idempotencyWindow: 60_000 })
    for (let i = 0; i < 10; i++) await store.append(draft('r'))
    now += 60_001
    await store.append(draft('r'))
    // Nine were trimmed inside their window and kept as ids; the tenth was trimmed after it, so never kept.
    expect(await sweep()).toBe(9)
    expect(await rows()).toEqual({ messages: 1, ids: 0, rooms: 1 })
  })
})
