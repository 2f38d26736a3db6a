// Every Lua script the Redis store and presence run must touch the keys of one
// hash slot when they use cluster key names: Redis Cluster refuses a script
// whose KEYS span slots (CROSSSLOT). The store and presence run here on the
// shared single Redis behind a recorder that computes the slot of each call's
// KEYS (and of every multi-key command), so a cross-slot call fails this test
// without a cluster; the cluster tests then run the same code for real.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../../test/support/env'
import { RedisKeys } from '../../src/redis/keys'
import { RedisPresence } from '../../src/redis/presence'
import { keySlot } from '../../src/redis/slot'
import { RedisStore } from '../../src/redis/store'
import { conversationRoom } from '../../src/store/conversations'

const missing = await redisMissing()

/** Multi-key commands the code may send besides scripts, with where their keys are. */
const MULTI_KEY: Record<string, (args: unknown[]) => unknown[]> = {
  mget: (args) => args.flat(),
  exists: (args) => args,
  del: (args) => args,
}

interface Call {
  name: string
  /** The script's SHA (EVALSHA) or source (EVAL). */
  script?: string
  keys: string[]
  slots: number[]
}

/** The connection, recording the slots of each script call's KEYS and each multi-key command's keys. */
function recorder(redis: Redis, calls: Call[]): Redis {
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (property === 'nodes') return () => [target] // the store scans "every master": here, the one Redis
      if (typeof value !== 'function') return value
      if (property === 'evalsha' || property === 'eval') {
        return (script: string, count: number, ...rest: unknown[]) => {
          const keys = rest.slice(0, count).map(String)
          calls.push({ name: String(property), script, keys, slots: [...new Set(keys.map(keySlot))] })
          return value.call(target, script, count, ...rest)
        }
      }
      const multi = MULTI_KEY[String(property)]
      if (multi !== undefined) {
        return (...args: unknown[]) => {
          const keys = multi(args).map(String)
          calls.push({ name: String(property), keys, slots: [...new Set(keys.map(keySlot))] })
          return value.apply(target, args)
        }
      }
      return value.bind(target)
    },
  })
}

describe.skipIf(missing !== null)('Redis Cluster key slots', () => {
  let redis: Redis
  const prefix = `confab-slots-${randomUUID().slice(0, 8)}:`
  const keys = new RedisKeys(prefix, true)
  const calls: Call[] = []

  beforeAll(async () => {
    redis = new Redis(REDIS_URL)
  })
  afterAll(async () => {
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await redis.del(...found)
    } while (cursor !== '0')
    await redis.quit()
  })

  it('touches one slot in every script of the store and presence', async () => {
    const store = new RedisStore(recorder(redis, calls), { keys, untouchedEpoch: randomUUID() })
    const room = `room-${randomUUID()}`
    const alice = { id: 'alice', name: 'Alice' }
    const visitor = { id: `visitor-${randomUUID()}`, name: 'Vi' }
    const conv = conversationRoom(visitor.id)
    await store.state(room)
    const first = await store.append({ room, id: 'm1', from: alice, text: 'hello' })
    await store.append({ room, id: 'm1', from: alice, text: 'hello' }) // the duplicate path
    const target = first.message.offset
    const change = { room, from: alice, target, ownOnly: true, editWindow: 0, maxReactions: 20 }
    await store.change({ ...change, id: 'c1', action: 'edit', text: 'hi' })
    await store.change({ ...change, id: 'c2', action: 'react', emoji: '👍' })
    await store.change({ ...change, id: 'c1', action: 'edit', text: 'hi' }) // duplicate
    await store.after(room, 0, 10, 'alice')
    await store.before(room, 100, 10)
    await store.latest(room)
    await store.markRead(room, 'bob', 1)
    await store.readState(room, 'bob')
    await store.reads(room, 10)
    await store.find(room, 'alice', 'm1')
    // The room '' has an empty name: its hash tag must still keep its keys together.
    await store.append({ room: '', id: 'e1', from: alice, text: 'empty' })
    await store.after('', 0, 10)
    const appended = await store.append({
      room: conv,
      id: 'v1',
      from: visitor,
      text: 'help',
      conversation: { visitor, by: 'visitor' },
    })
    expect(appended.conversation?.unread.operators).toBe(1)
    await store.append({ room: conv, id: 'v1', from: visitor, text: 'help', conversation: { visitor, by: 'visitor' } })
    const id = appended.conversation?.id as string
    expect((await store.conversation(id))?.preview).toBe('help')
    await store.updateConversation(id, { status: 'closed' })
    expect((await store.conversations({})).items.map((c) => c.id)).toEqual([id])
    await store.addBan({ id: 'b1', user: 'mallory', mute: false, createdAt: Date.now() })
    await store.bans(Date.now())
    await store.removeBan('b1')
    const event = { id: 'e1', room, body: '{}', createdAt: Date.now(), attempts: 0, next: 0 }
    await store.pushEvent(event)
    await store.peekEvents(10)
    await store.retryEvent('e1', 1, Date.now())
    await store.finishEvent('e1', 'gone')
    await store.deadEvents(10)
    await store.lease('me', 1000)
    await store.eraseUser('alice')
    await store.expireBefore(Date.now() + 1000)
    await store.change({ ...change, id: 'c3', action: 'delete' }).catch(() => {}) // erased and expired: not_found

    const presence = new RedisPresence(recorder(redis, calls), { keys, nodeId: 'n1' })
    const dead = new RedisPresence(recorder(redis, calls), { keys, nodeId: 'n2' })
    await presence.start()
    await dead.start()
    await presence.add(room, alice)
    await dead.add(room, { id: 'bob', name: 'Bob' })
    await presence.list(room)
    await presence.count(room)
    await presence.page(room, undefined, 10)
    await presence.heartbeat()
    await redis.del(keys.alive('n2')) // as if n2 had died
    const gone: string[] = []
    presence.watch((_, members) => gone.push(...members.map((m) => m.id)))
    await presence.sweep()
    expect(gone).toEqual(['bob'])
    expect(await redis.sismember(keys.nodes(), 'n2')).toBe(0)
    await presence.remove(room, alice)
    expect(await redis.smembers(keys.nodeRooms('n1'))).toEqual([])
    await presence.close()
    await dead.close()
    await store.close()

    const scripts = calls.filter((call) => call.name === 'evalsha' || call.name === 'eval')
    // Every script: 14 of the store, 5 of presence (FORGET_LUA is replaced by two commands on a cluster).
    expect(new Set(scripts.map((call) => call.script)).size).toBe(19)
    expect(calls.filter((call) => call.slots.length !== 1)).toEqual([])
  }, 20_000)
})
