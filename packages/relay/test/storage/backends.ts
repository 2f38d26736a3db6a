// The implementations the behaviour suites run against. A "node" is what one
// relay process would hold; Redis nodes opened by one backend share a key
// prefix (one deployment), memory nodes share nothing (separate processes).
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../../test/support/env'
import { MemoryBroker } from '../../src/broker/memory'
import type { Broker } from '../../src/broker/types'
import { MemoryPresence } from '../../src/presence/memory'
import type { Presence } from '../../src/presence/types'
import { createRedisBackend } from '../../src/redis/backend'
import { createSqliteBackend } from '../../src/sqlite'
import type { SqliteStore } from '../../src/sqlite/store'
import { MemoryStore } from '../../src/store/memory'
import type { Store } from '../../src/store/types'
import { RedisClusterSet } from '../scale/cluster-redis'
import { redisServerMissing } from './redis-server'

/** Store options a test may set. */
export interface NodeOptions {
  historyLimit?: number
  idempotencyWindow?: number
  /** Clock for the memory store (Redis uses its own). */
  now?: () => number
}

/** One relay node's view of the storage layer. */
export interface StorageNode {
  store: Store
  broker: Broker
  presence: Presence
  close(): Promise<void>
}

/** An implementation under test. */
export interface Backend {
  name: string
  /** Key prefix of this deployment ('' in memory). */
  prefix: string
  /** Null when it can run; otherwise why it is skipped. */
  missing: string | null
  /** Several nodes see one history, one fan-out and one presence. */
  shared: boolean
  node(options?: NodeOptions): Promise<StorageNode>
  /** Makes every remembered client id of the room expire now (Redis: as the TTL would). */
  expireIds(room: string, advanceClock: () => void): Promise<void>
  /** How many rooms the node's backend holds any record of. */
  storedRooms(node: StorageNode): Promise<number>
  /** Deletes whatever the backend keeps outside the nodes. */
  cleanup(): Promise<void>
}

/** Presence timings short enough for tests: a dead node is swept within about half a second. */
export const FAST_PRESENCE = { heartbeatInterval: 100, nodeTtl: 400, sweepInterval: 50 }

export function memoryBackend(): Backend {
  return {
    name: 'memory',
    prefix: '',
    missing: null,
    shared: false,
    async node(options = {}) {
      const store = new MemoryStore(options)
      const broker = new MemoryBroker()
      const presence = new MemoryPresence()
      return {
        store,
        broker,
        presence,
        close: async () => {
          await Promise.all([store.close(), broker.close(), presence.close()])
        },
      }
    },
    async expireIds(_room, advanceClock) {
      advanceClock()
    },
    async storedRooms(node) {
      return (node.store as MemoryStore).size
    },
    async cleanup() {},
  }
}

/** SQLite nodes, each on a new temporary file: one process, one file, like memory nothing is shared. */
export function sqliteBackend(): Backend {
  const dirs: string[] = []
  const nodes = new Set<StorageNode>()
  return {
    name: 'sqlite',
    prefix: '',
    missing: null,
    shared: false,
    async node(options = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'confab-sqlite-'))
      dirs.push(dir)
      const backend = await createSqliteBackend(join(dir, 'confab.db'), {
        historyLimit: options.historyLimit ?? 1000,
        idempotencyWindow: options.idempotencyWindow ?? 600_000,
        now: options.now,
      })
      nodes.add(backend)
      return backend
    },
    async expireIds(_room, advanceClock) {
      advanceClock()
    },
    async storedRooms(node) {
      return (node.store as SqliteStore).size
    },
    async cleanup() {
      await Promise.all([...nodes].map((node) => node.close()))
      nodes.clear()
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
    },
  }
}

/** Redis nodes under a fresh prefix; never touches keys outside it. */
export async function redisBackend(url = REDIS_URL): Promise<Backend> {
  const prefix = `confab-test:${randomUUID()}:`
  const errors: unknown[] = []
  const nodes = new Set<StorageNode>()
  return {
    name: 'redis',
    prefix,
    missing: await redisMissing(url),
    shared: true,
    async node(options = {}) {
      const backend = await createRedisBackend(url, {
        historyLimit: options.historyLimit ?? 1000,
        idempotencyWindow: options.idempotencyWindow ?? 600_000,
        prefix,
        ...FAST_PRESENCE,
        onError: (error) => errors.push(error),
      })
      nodes.add(backend)
      return backend
    },
    async expireIds() {
      await deleteMatching(url, `${prefix}room:*:id:*`)
    },
    async storedRooms() {
      const redis = new Redis(url)
      try {
        const keys = await redis.keys(`${prefix}room:*`)
        return new Set(keys.map((key) => key.match(/\{(.*)\}/)?.[1])).size
      } finally {
        redis.disconnect()
      }
    },
    async cleanup() {
      await Promise.all([...nodes].map((node) => node.close()))
      await deleteMatching(url, `${prefix}*`)
    },
  }
}

/**
 * Redis Cluster nodes (three masters, a replica each: real redis-server processes on free ports) under a
 * fresh prefix. The cluster starts with the first node a test asks for and stops after the file.
 */
export function redisClusterBackend(): Backend {
  const prefix = `confab-test:${randomUUID()}:`
  const nodes = new Set<StorageNode>()
  let cluster: Promise<RedisClusterSet> | null = null
  const started = (): Promise<RedisClusterSet> => {
    cluster ??= RedisClusterSet.start()
    return cluster
  }
  afterAll(async () => {
    if (cluster !== null) await (await cluster).stop()
  })
  /** Every key matching `pattern` on every master, with the master holding it. */
  const matching = async (pattern: string): Promise<[Redis, string][]> => {
    const found: [Redis, string][] = []
    for (const node of (await started()).live) {
      if ((await node.role()) !== 'master') continue
      let cursor = '0'
      do {
        const [next, keys] = await node.admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        cursor = next
        for (const key of keys) found.push([node.admin, key])
      } while (cursor !== '0')
    }
    return found
  }
  return {
    name: 'redis-cluster',
    prefix,
    missing: redisServerMissing(),
    shared: true,
    async node(options = {}) {
      const set = await started()
      const target = { cluster: set.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) }
      const backend = await createRedisBackend(target, {
        historyLimit: options.historyLimit ?? 1000,
        idempotencyWindow: options.idempotencyWindow ?? 600_000,
        prefix,
        ...FAST_PRESENCE,
        onError: () => {},
      })
      nodes.add(backend)
      return backend
    },
    async expireIds() {
      for (const [redis, key] of await matching(`${prefix}room:*:id:*`)) await redis.del(key)
    },
    async storedRooms() {
      const keys = (await matching(`${prefix}room:*`)).map(([, key]) => key)
      return new Set(keys.map((key) => key.match(/\{(.*)\}/)?.[1])).size
    },
    async cleanup() {
      await Promise.all([...nodes].map((node) => node.close()))
      nodes.clear()
      for (const [redis, key] of await matching(`${prefix}*`)) await redis.del(key)
    },
  }
}

/** Deletes the keys matching a pattern made of our own prefix. */
export async function deleteMatching(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Room names that look like key or pattern syntax: each must stay its own room. */
export const TRICKY_ROOMS = ['a', 'a:log', 'a}:log', '{a}', '*', 'a*', '[ab]', 'ä', 'room with spaces', '']
