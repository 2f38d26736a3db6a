import type { Member } from '@confab/sdk/protocol'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { REDIS_URL } from '../../../../test/support/env'
import { RedisKeys } from '../../src/redis/keys'
import { RedisPresence } from '../../src/redis/presence'
import {
  type Backend,
  FAST_PRESENCE,
  memoryBackend,
  redisBackend,
  redisClusterBackend,
  sqliteBackend,
  TRICKY_ROOMS,
} from './backends'
import { Inbox } from './inbox'

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]
const ada: Member = { id: 'ada', name: 'Ada' }
const bob: Member = { id: 'bob', name: 'Bob' }
const cy: Member = { id: 'c/y*', name: 'Cy' }
const byId = (members: Member[]) => [...members].sort((x, y) => x.id.localeCompare(y.id))

describe.each(backends.filter((b) => b.missing === null))('$name presence', (backend) => {
  afterEach(() => backend.cleanup())

  it('adds a member once: true when new to the room, false when already in it', async () => {
    const { presence } = await backend.node()
    expect(await presence.add('r', ada)).toBe(true)
    expect(await presence.add('r', ada)).toBe(false)
    expect(await presence.add('r', bob)).toBe(true)
    expect(byId(await presence.list('r'))).toEqual([ada, bob])
  })

  it('removes a member: true when it was there, false for anyone unknown', async () => {
    const { presence } = await backend.node()
    await presence.add('r', ada)
    expect(await presence.remove('r', bob)).toBe(false)
    expect(await presence.remove('r', ada)).toBe(true)
    expect(await presence.remove('r', ada)).toBe(false)
    expect(await presence.list('r')).toEqual([])
  })

  it('keeps rooms whose names look like key or pattern syntax apart', async () => {
    const { presence } = await backend.node()
    for (const [i, room] of TRICKY_ROOMS.entries()) await presence.add(room, { id: `u${i}`, name: room })
    await presence.add('a', cy)
    for (const [i, room] of TRICKY_ROOMS.entries()) {
      const extra = room === 'a' ? [cy] : []
      expect(byId(await presence.list(room))).toEqual(byId([{ id: `u${i}`, name: room }, ...extra]))
    }
  })

  it('counts distinct users through adds and removes', async () => {
    const { presence } = await backend.node()
    expect(await presence.count('r')).toBe(0)
    await presence.add('r', ada)
    await presence.add('r', ada)
    await presence.add('r', bob)
    await presence.add('other', cy)
    expect(await presence.count('r')).toBe(2)
    await presence.remove('r', ada)
    expect(await presence.count('r')).toBe(1)
    await presence.remove('r', bob)
    expect(await presence.count('r')).toBe(0)
  })

  it('pages through members by user id, each once, while others come and go', async () => {
    const { presence } = await backend.node()
    const users = Array.from({ length: 25 }, (_, i) => ({ id: `u${String(i).padStart(2, '0')}`, name: `U${i}` }))
    for (const user of [...users].reverse()) await presence.add('r', user)
    const first = await presence.page('r', undefined, 10)
    expect(first.members).toEqual(users.slice(0, 10))
    expect(first.cursor).toBe('u09')
    // A user added before the cursor and one removed after it: the rest still come once each.
    await presence.add('r', { id: 'a-new', name: 'New' })
    await presence.remove('r', users[15] as Member)
    const seen = [...first.members]
    let cursor = first.cursor
    while (cursor !== null) {
      const page = await presence.page('r', cursor, 10)
      seen.push(...page.members)
      cursor = page.cursor
    }
    expect(seen).toEqual(users.filter((_, i) => i !== 15))
    expect(await presence.page('r', undefined, 100)).toEqual({
      members: [{ id: 'a-new', name: 'New' }, ...users.filter((_, i) => i !== 15)],
      cursor: null,
    })
    expect(await presence.page('empty', undefined, 10)).toEqual({ members: [], cursor: null })
  })

  it.runIf(backend.shared)('counts and pages a user present through two nodes once, on every node', async () => {
    const a = await backend.node()
    const b = await backend.node()
    await a.presence.add('r', ada)
    await b.presence.add('r', ada)
    await b.presence.add('r', bob)
    for (const node of [a, b]) {
      expect(await node.presence.count('r')).toBe(2)
      expect(await node.presence.page('r', undefined, 10)).toEqual({ members: [ada, bob], cursor: null })
    }
    await a.presence.remove('r', ada)
    expect(await b.presence.count('r')).toBe(2)
    await b.presence.remove('r', ada)
    expect(await a.presence.count('r')).toBe(1)
  })

  it.runIf(backend.shared)("is true only on the user's first node to add and last node to remove", async () => {
    const a = await backend.node()
    const b = await backend.node()
    expect(await a.presence.add('r', ada)).toBe(true)
    expect(await b.presence.add('r', ada)).toBe(false)
    expect(await a.presence.remove('r', ada)).toBe(false)
    expect(await b.presence.list('r')).toEqual([ada])
    expect(await b.presence.remove('r', ada)).toBe(true)
    expect(await a.presence.list('r')).toEqual([])
  })

  it.runIf(backend.shared)('lists a user present through two nodes once, on every node', async () => {
    const a = await backend.node()
    const b = await backend.node()
    await a.presence.add('r', ada)
    await b.presence.add('r', ada)
    await b.presence.add('r', cy)
    expect(byId(await a.presence.list('r'))).toEqual([ada, cy])
    expect(byId(await b.presence.list('r'))).toEqual([ada, cy])
  })
})

describe.skipIf(backends[1]?.missing !== null)('redis presence when a node dies', () => {
  const backend = backends[1] as Backend
  const connections: Redis[] = []
  afterEach(async () => {
    for (const redis of connections.splice(0)) redis.disconnect()
    await backend.cleanup()
  })

  /** A presence node on its own connection, which a test can cut to play a SIGKILLed relay. */
  async function crashable() {
    const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true })
    connections.push(redis)
    await redis.connect()
    const presence = new RedisPresence(redis, { keys: new RedisKeys(backend.prefix), ...FAST_PRESENCE })
    await presence.start()
    return {
      presence,
      async crash() {
        redis.disconnect()
        await presence.close() // stops its timers only: no link left to delete the liveness key through
      },
    }
  }

  it('sweeps the members of a node that stopped heartbeating and reports each leave once', async () => {
    const a = await backend.node()
    const c = await backend.node()
    const gone = new Inbox<[string, Member[]]>()
    a.presence.watch((room, leaves) => gone.push([room, leaves]))
    c.presence.watch((room, leaves) => gone.push([room, leaves]))
    const dead = await crashable()
    await a.presence.add('r', ada)
    await dead.presence.add('r', ada)
    await dead.presence.add('r', bob)
    await dead.presence.add('other', cy)
    await dead.crash()
    const started = Date.now()
    await gone.next(() => gone.items.length >= 2, 5000, 'leaves of bob and cy')
    const elapsed = Date.now() - started
    // A later sweep finds nothing more to report: one report per leave across all nodes.
    await (a.presence as RedisPresence).sweep()
    await (c.presence as RedisPresence).sweep()
    expect(gone.items.sort()).toEqual([
      ['other', [cy]],
      ['r', [bob]],
    ])
    expect(await c.presence.list('r')).toEqual([ada])
    expect(await c.presence.list('other')).toEqual([])
    expect(await c.presence.count('r')).toBe(1)
    expect(await c.presence.page('r', undefined, 10)).toEqual({ members: [ada], cursor: null })
    expect(elapsed).toBeLessThan(FAST_PRESENCE.nodeTtl + 10 * FAST_PRESENCE.sweepInterval)
  })

  it('lists no members of a node whose liveness expired, even before the sweep', async () => {
    const a = await backend.node()
    const dead = await crashable()
    await dead.presence.add('r', bob)
    expect(await a.presence.list('r')).toEqual([bob])
    const admin = new Redis(REDIS_URL)
    connections.push(admin)
    await dead.crash()
    await admin.del(new RedisKeys(backend.prefix).alive(dead.presence.nodeId))
    expect(await a.presence.list('r')).toEqual([])
  })

  it('re-registers its members on the next heartbeat after they were swept', async () => {
    const a = await backend.node()
    const b = await crashable()
    const gone = new Inbox<[string, Member[]]>()
    a.presence.watch((room, leaves) => gone.push([room, leaves]))
    await b.presence.add('r', bob)
    const admin = new Redis(REDIS_URL)
    connections.push(admin)
    // As if b had been cut off for longer than the TTL.
    await admin.del(new RedisKeys(backend.prefix).alive(b.presence.nodeId))
    await (a.presence as RedisPresence).sweep()
    expect(gone.items).toEqual([['r', [bob]]])
    await b.presence.heartbeat()
    expect(await a.presence.list('r')).toEqual([bob])
    expect(await b.presence.remove('r', bob)).toBe(true)
    await b.crash()
  })
})
