import { Redis } from 'ioredis'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL } from '../../../../test/support/env'
import { type Draft, type Entry, isUpdate } from '../../src/store/types'
import { type Backend, memoryBackend, redisBackend, redisClusterBackend, sqliteBackend, TRICKY_ROOMS } from './backends'

/** An entry's text; the logs here hold messages only, so a change shows up as a mismatch. */
const text = (entry: Entry): string => (isUpdate(entry) ? `change@${entry.offset}` : entry.text)

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]
const from = { id: 'u1', name: 'Ada' }
let seq = 0
const draft = (room: string, extra: Partial<Draft> = {}): Draft => ({
  room,
  id: `m${++seq}`,
  from,
  text: `hello ${seq}`,
  ...extra,
})

describe.each(backends.filter((b) => b.missing === null))('$name store', (backend) => {
  afterEach(() => backend.cleanup())

  it('gives a new room an epoch, head 0 and first 1, and keeps that epoch', async () => {
    const { store } = await backend.node()
    const state = await store.state('fresh')
    expect(state).toEqual({ epoch: expect.any(String), head: 0, first: 1 })
    expect(state.epoch.length).toBeGreaterThan(0)
    expect((await store.state('fresh')).epoch).toBe(state.epoch)
    expect(store.ready).toBe(true)
  })

  it('assigns offsets 1, 2, 3 in append order and stamps the time stored', async () => {
    const { store } = await backend.node()
    const before = Date.now()
    const results = []
    for (let i = 0; i < 3; i++) results.push(await store.append(draft('r')))
    expect(results.map((r) => [r.message.offset, r.duplicate])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ])
    for (const { message } of results) {
      expect(message.ts).toBeGreaterThanOrEqual(before - 1000)
      expect(message.ts).toBeLessThanOrEqual(Date.now() + 1000)
    }
    expect(await store.state('r')).toMatchObject({ head: 3, first: 1 })
  })

  it('returns stored messages exactly as appended, with meta only when given', async () => {
    const { store } = await backend.node()
    const plain = await store.append(draft('r', { id: 'p', text: 'plain' }))
    const rich = await store.append(draft('r', { id: 'm', text: 'rich', meta: { tags: [], n: 1, nested: { a: [1] } } }))
    expect(plain.message).toEqual({ room: 'r', offset: 1, id: 'p', from, text: 'plain', ts: plain.message.ts })
    expect('meta' in plain.message).toBe(false)
    expect(rich.message.meta).toEqual({ tags: [], n: 1, nested: { a: [1] } })
    expect(await store.after('r', 0, 10)).toEqual([plain.message, rich.message])
  })

  it('answers a known id with the original message and stores nothing', async () => {
    const { store } = await backend.node()
    const first = await store.append(draft('r', { id: 'same', text: 'original' }))
    const second = await store.append(draft('r'))
    const again = await store.append(draft('r', { id: 'same', text: 'original' }))
    expect(again).toEqual({ message: first.message, duplicate: true, epoch: first.epoch })
    expect((await store.state('r')).head).toBe(2)
    expect(await store.after('r', 0, 10)).toEqual([first.message, second.message])
  })

  it('scopes ids to the sender: the same id from someone else is another message', async () => {
    const { store } = await backend.node()
    const bot = { id: 'bot', name: 'Bot' }
    const squatter = { id: 'mallory', name: 'Mallory' }
    const first = await store.append(draft('r', { id: 'predictable', from: squatter, text: 'first!' }))
    const real = await store.append(draft('r', { id: 'predictable', from: bot, text: 'deploy done' }))
    expect(real).toMatchObject({ duplicate: false, message: { offset: 2, from: bot, text: 'deploy done' } })
    const resent = await store.append(draft('r', { id: 'predictable', from: bot, text: 'deploy done' }))
    expect(resent).toEqual({ message: real.message, duplicate: true, epoch: real.epoch })
    expect((await store.after('r', 0, 10)).map((m) => [m.from.id, text(m)])).toEqual([
      ['mallory', 'first!'],
      ['bot', 'deploy done'],
    ])
    expect(first.message.offset).toBe(1)
  })

  it('keeps sender ids that share a prefix apart', async () => {
    const { store } = await backend.node()
    await store.append(draft('r', { id: 'b:c', from: { id: 'a', name: 'A' } }))
    const other = await store.append(draft('r', { id: 'c', from: { id: 'a:b', name: 'AB' } }))
    expect(other).toMatchObject({ duplicate: false, message: { offset: 2 } })
  })

  it('reports the epoch an append counted its offset in', async () => {
    const { store } = await backend.node()
    const epoch = (await store.state('r')).epoch
    const stored = await store.append(draft('r', { id: 'e' }))
    expect(stored.epoch).toBe(epoch)
    expect((await store.append(draft('r', { id: 'e' }))).epoch).toBe(epoch)
    expect((await store.state('r')).epoch).toBe(epoch)
  })

  it('stores nothing for rooms that are only read', async () => {
    const node = await backend.node()
    const { store } = node
    const epoch = (await store.state('read-0')).epoch
    for (let i = 0; i < 50; i++) {
      expect(await store.state(`read-${i}`)).toEqual({ epoch, head: 0, first: 1 })
      expect(await store.after(`read-${i}`, 0, 10)).toEqual([])
      expect(await store.before(`read-${i}`, 5, 10)).toEqual([])
    }
    expect(await backend.storedRooms(node)).toBe(0)
    await store.append(draft('written'))
    expect(await backend.storedRooms(node)).toBe(1)
    expect((await store.state('written')).epoch).toBe(epoch)
  })

  it('treats the same id in another room as a new message', async () => {
    const { store } = await backend.node()
    await store.append(draft('one', { id: 'x' }))
    const other = await store.append(draft('two', { id: 'x' }))
    expect(other).toMatchObject({ duplicate: false, message: { room: 'two', offset: 1 } })
  })

  it('remembers an id while its message is retained, however old', async () => {
    let now = 1_000_000
    const { store } = await backend.node({ idempotencyWindow: 60_000, now: () => now })
    const first = await store.append(draft('r', { id: 'kept' }))
    await backend.expireIds('r', () => {
      now += 60_001
    })
    expect(await store.append(draft('r', { id: 'kept' }))).toEqual({
      message: first.message,
      duplicate: true,
      epoch: first.epoch,
    })
  })

  it('remembers an id for the window after its message was trimmed', async () => {
    const { store } = await backend.node({ historyLimit: 2 })
    const first = await store.append(draft('r', { id: 'old', text: 'old' }))
    for (let i = 0; i < 3; i++) await store.append(draft('r'))
    expect(await store.state('r')).toMatchObject({ first: 3, head: 4 })
    expect(await store.append(draft('r', { id: 'old', text: 'old' }))).toEqual({
      message: first.message,
      duplicate: true,
      epoch: first.epoch,
    })
    expect((await store.state('r')).head).toBe(4)
  })

  it('stores an id anew once its message was trimmed and the window has passed', async () => {
    let now = 1_000_000
    const { store } = await backend.node({ historyLimit: 1, idempotencyWindow: 60_000, now: () => now })
    await store.append(draft('r', { id: 'late' }))
    await store.append(draft('r'))
    await backend.expireIds('r', () => {
      now += 60_001
    })
    const again = await store.append(draft('r', { id: 'late' }))
    expect(again).toMatchObject({ duplicate: false, message: { offset: 3 } })
  })

  it('trims history to the limit and moves first forward', async () => {
    const { store } = await backend.node({ historyLimit: 3 })
    for (let i = 0; i < 5; i++) await store.append(draft('r'))
    expect(await store.state('r')).toMatchObject({ head: 5, first: 3 })
    expect((await store.after('r', 0, 10)).map((m) => m.offset)).toEqual([3, 4, 5])
    expect((await store.before('r', 100, 10)).map((m) => m.offset)).toEqual([3, 4, 5])
  })

  it('pages forward with after(): up to limit messages past an offset, oldest first', async () => {
    const { store } = await backend.node()
    for (let i = 0; i < 6; i++) await store.append(draft('r'))
    expect((await store.after('r', 2, 3)).map((m) => m.offset)).toEqual([3, 4, 5])
    expect((await store.after('r', 5, 10)).map((m) => m.offset)).toEqual([6])
    expect(await store.after('r', 6, 10)).toEqual([])
    expect(await store.after('r', 0, 0)).toEqual([])
    expect(await store.after('empty', 0, 10)).toEqual([])
  })

  it('pages back with before(): the newest messages under an offset, oldest first', async () => {
    const { store } = await backend.node()
    for (let i = 0; i < 6; i++) await store.append(draft('r'))
    expect((await store.before('r', 5, 2)).map((m) => m.offset)).toEqual([3, 4])
    expect((await store.before('r', 7, 3)).map((m) => m.offset)).toEqual([4, 5, 6])
    expect((await store.before('r', 3, 10)).map((m) => m.offset)).toEqual([1, 2])
    expect(await store.before('r', 1, 10)).toEqual([])
    expect(await store.before('r', 4, 0)).toEqual([])
  })

  it('keeps rooms whose names look like key or pattern syntax apart', async () => {
    const { store } = await backend.node()
    for (const room of TRICKY_ROOMS) await store.append(draft(room, { id: 'same-id', text: room }))
    for (const room of TRICKY_ROOMS) {
      expect(await store.state(room)).toMatchObject({ head: 1, first: 1 })
      expect((await store.after(room, 0, 10)).map((m) => [m.room, text(m)])).toEqual([[room, room]])
    }
  })

  it('hands out distinct, gap-free offsets to concurrent appends from two nodes', async () => {
    const a = await backend.node()
    const b = backend.shared ? await backend.node() : a
    const appends = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).store.append(draft('busy')))
    const offsets = (await Promise.all(appends)).map((r) => r.message.offset).sort((x, y) => x - y)
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect((await a.store.after('busy', 0, 1000)).map((m) => m.offset)).toEqual(offsets)
  })

  it.runIf(backend.shared)('answers a resend through another node with the original ack', async () => {
    const a = await backend.node()
    const b = await backend.node()
    const sent = await a.store.append(draft('r', { id: 'resend', text: 'once' }))
    const resent = await b.store.append(draft('r', { id: 'resend', text: 'once' }))
    expect(resent).toEqual({ message: sent.message, duplicate: true, epoch: sent.epoch })
    expect((await b.store.state('r')).head).toBe(1)
  })

  it.runIf(backend.shared)('keeps history and epoch for every node of the deployment', async () => {
    const a = await backend.node()
    await a.store.append(draft('r', { text: 'from a' }))
    const b = await backend.node()
    expect(await b.store.state('r')).toEqual(await a.store.state('r'))
    expect((await b.store.after('r', 0, 10)).map(text)).toEqual(['from a'])
  })

  it.runIf(!backend.shared)('gives every process its own history under a new epoch', async () => {
    const a = await backend.node()
    await a.store.append(draft('r'))
    const b = await backend.node()
    expect((await b.store.state('r')).epoch).not.toBe((await a.store.state('r')).epoch)
    expect(await b.store.state('r')).toMatchObject({ head: 0, first: 1 })
  })
})

describe.skipIf(backends[1]?.missing !== null)('redis store internals', () => {
  const backend = backends[1] as Backend
  let redis: Redis
  beforeAll(() => {
    redis = new Redis(REDIS_URL)
    return () => redis.disconnect()
  })
  afterEach(() => backend.cleanup())

  /** The one key of the deployment's prefix that matches a pattern. */
  async function key(pattern: string): Promise<string> {
    const keys = await redis.keys(`${backend.prefix}${pattern}`)
    expect(keys).toHaveLength(1)
    return keys[0] as string
  }

  it('changes the epoch when the stream is lost, and keeps counting offsets', async () => {
    const { store } = await backend.node()
    await store.append(draft('lost'))
    await store.append(draft('lost'))
    const before = await store.state('lost')
    await redis.del(await key('room:{*}:log'))
    const after = await store.state('lost')
    expect(after.epoch).not.toBe(before.epoch)
    expect(after).toMatchObject({ head: 2, first: 3 })
    expect((await store.state('lost')).epoch).toBe(after.epoch)
    const next = await store.append(draft('lost'))
    expect(next.message.offset).toBe(3)
    expect(await store.state('lost')).toEqual({ epoch: after.epoch, head: 3, first: 3 })
  })

  it('rebuilds a lost room record from the stream under a new epoch', async () => {
    const { store } = await backend.node()
    await store.append(draft('meta-lost'))
    await store.append(draft('meta-lost'))
    const before = await store.state('meta-lost')
    await redis.del(await key('room:{*}:meta'))
    const after = await store.state('meta-lost')
    expect(after.epoch).not.toBe(before.epoch)
    expect(after).toMatchObject({ head: 2, first: 1 })
    expect((await store.append(draft('meta-lost'))).message.offset).toBe(3)
  })

  it('remembers a client id for the idempotency window, as a TTL', async () => {
    const { store } = await backend.node({ idempotencyWindow: 90_000 })
    await store.append(draft('ttl', { id: 'client-id' }))
    const ttl = await redis.pttl(await key('room:{*}:id:*'))
    expect(ttl).toBeGreaterThan(80_000)
    expect(ttl).toBeLessThanOrEqual(90_000)
  })

  it("keeps changed messages' states in the room's state hash, trimmed with the stream and expired with it", async () => {
    const { store } = await backend.node({ historyLimit: 5 })
    const change = { ownOnly: false, editWindow: 0, maxReactions: 20, from, action: 'react' as const, emoji: '👍' }
    await store.append(draft('trim'))
    await store.append(draft('trim'))
    await store.change({ ...change, room: 'trim', id: 'x1', target: 1 })
    await store.change({ ...change, room: 'trim', id: 'x2', target: 2 })
    const state = await key('room:{*}:state')
    expect((await redis.hkeys(state)).sort()).toEqual(['1', '2'])
    // Un-reacting leaves no state behind.
    await store.change({ ...change, room: 'trim', id: 'x3', target: 2 })
    expect(await redis.hkeys(state)).toEqual(['1'])
    await store.append(draft('trim')) // trims offset 1
    expect(await redis.exists(state)).toBe(0)
    await store.change({ ...change, room: 'trim', id: 'x4', target: 6 })
    expect(await redis.hkeys(state)).toEqual(['6'])
    expect(await store.expireBefore?.(Date.now() + 60_000)).toBe(5)
    expect(await redis.exists(state)).toBe(0)
  })

  it("rewrites a deleted message's stream entry without its text and meta, keeping every entry's id", async () => {
    const { store } = await backend.node()
    await store.append(draft('scrub', { text: 'take this back', meta: { secret: 1 } }))
    await store.append(draft('scrub', { text: 'after' }))
    const change = { ownOnly: true, editWindow: 0, maxReactions: 20, from }
    await store.change({ ...change, room: 'scrub', id: 'x1', action: 'react', target: 2, emoji: '👍' })
    const before = await store.after('scrub', 0, 10)
    await store.change({ ...change, room: 'scrub', id: 'x2', action: 'delete', target: 1 })
    const stream = await key('room:{*}:log')
    const raw = JSON.stringify(await redis.xrange(stream, '-', '+'))
    expect(raw).not.toContain('take this back')
    expect(raw).not.toContain('secret')
    expect((await redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(['1-0', '2-0', '3-0', '4-0'])
    const after = await store.after('scrub', 0, 10)
    expect(after.slice(1, 3)).toEqual(before.slice(1, 3))
    expect(after[0]).toMatchObject({ offset: 1, text: '', deleted: true })
    expect(after[0]).not.toHaveProperty('meta')
    expect((await store.append(draft('scrub'))).message.offset).toBe(5)
  })

  it('keeps read positions in two sorted sets per room, by offset and by move', async () => {
    const { store } = await backend.node()
    await store.append(draft('pos'))
    await store.markRead('pos', 'u2', 1)
    expect(await redis.zrange(await key('room:{*}:reads'), '0', '-1', 'WITHSCORES')).toEqual(['u1', '1', 'u2', '1'])
    expect(await redis.zrange(await key('room:{*}:read-moves'), '0', '-1')).toEqual(['u1', 'u2'])
  })

  it('encodes room names so every key stays under the prefix, one room per hash tag', async () => {
    const { store } = await backend.node()
    for (const room of TRICKY_ROOMS) await store.append(draft(room))
    const ours = await redis.keys(`${backend.prefix}room:*`)
    for (const k of ours)
      expect(k.slice(backend.prefix.length)).toMatch(
        /^room:\{[A-Za-z0-9_-]*\}:(meta|log|ids|state|reads|read-moves|id:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/,
      )
    expect(new Set(ours.map((k) => k.match(/\{(.*)\}/)?.[1])).size).toBe(TRICKY_ROOMS.length)
  })
})

describe('memory store bounds', () => {
  it('forgets the oldest ids past idempotencyLimit, even inside the window, but never those of retained messages', async () => {
    const { MemoryStore } = await import('../../src/store/memory')
    const store = new MemoryStore({ historyLimit: 2, idempotencyLimit: 3, idempotencyWindow: 600_000 })
    for (let i = 1; i <= 8; i++) await store.append(draft('bounded', { id: `b${i}`, text: `text ${i}` }))
    // Retained: b7, b8. Remembered beyond them: the newest three trimmed ones, b4..b6.
    expect(await store.append(draft('bounded', { id: 'b4', text: 'text 4' }))).toMatchObject({
      duplicate: true,
      message: { offset: 4, id: 'b4', text: 'text 4' },
    })
    expect((await store.append(draft('bounded', { id: 'b3' }))).duplicate).toBe(false) // offset 9: b4 falls out
    expect((await store.append(draft('bounded', { id: 'b4' }))).duplicate).toBe(false)
    // b9 stays known while retained, whatever the count bound.
    expect((await store.append(draft('bounded', { id: 'b9' }))).duplicate).toBe(false)
    expect(await store.state('bounded')).toMatchObject({ head: 11, first: 10 })
    expect((await store.append(draft('bounded', { id: 'b9' }))).duplicate).toBe(true)
  })
})
