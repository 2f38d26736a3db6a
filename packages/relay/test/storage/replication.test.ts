import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createRedisBackend, type RedisBackend } from '../../src/redis/backend'
import { StoreUnavailableError } from '../../src/store/types'
import { RedisServer, redisServerMissing } from './redis-server'

const missing = redisServerMissing()
const from = { id: 'u1', name: 'Ada' }

describe.skipIf(missing !== null)('waiting for replicas before a write resolves (redis.waitReplicas)', () => {
  let master: RedisServer
  let replica: RedisServer
  let admin: Redis
  const backends: RedisBackend[] = []

  beforeAll(async () => {
    master = await RedisServer.start()
    replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)])
    admin = new Redis(master.port, '127.0.0.1')
    await vi.waitFor(async () => expect(await admin.info('replication')).toMatch(/slave0:.*state=online/), {
      timeout: 10_000,
      interval: 50,
    })
  })
  afterAll(async () => {
    await Promise.all(backends.map((backend) => backend.close()))
    admin?.disconnect()
    await replica?.stop()
    await master?.stop()
  })

  const open = async (waitReplicas: number): Promise<RedisBackend> => {
    const backend = await createRedisBackend(master.url, {
      waitReplicas,
      prefix: `${randomUUID()}:`,
      onError: () => {},
    })
    backends.push(backend)
    return backend
  }
  const waits = async (): Promise<number> =>
    Number(/cmdstat_wait:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0)

  it('answers unavailable while the replica cannot confirm, then acks the resend once it can', async () => {
    const { store } = await open(1)
    const draft = { room: 'lobby', id: randomUUID(), from, text: 'kept' }
    await replica.kill('SIGSTOP')
    try {
      const started = Date.now()
      const refused = await store.append(draft).then(
        () => null,
        (error: unknown) => error,
      )
      expect(refused).toBeInstanceOf(StoreUnavailableError)
      expect((refused as Error).message).toBe('Redis write confirmed by 0 of 1 replicas within 1000 ms')
      expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    } finally {
      await replica.kill('SIGCONT')
    }
    // The resend finds the message the master kept, and is acked once the replica has it.
    const acked = await store.append(draft)
    expect(acked).toMatchObject({ duplicate: true, message: { offset: 1, text: 'kept' } })
  })

  it('acks at once without waiting when waitReplicas is 0, replica or not', async () => {
    const { store } = await open(0)
    await replica.kill('SIGSTOP')
    try {
      const before = await waits()
      await expect(store.append({ room: 'lobby', id: randomUUID(), from, text: 'fast' })).resolves.toMatchObject({
        duplicate: false,
      })
      expect(await waits()).toBe(before)
    } finally {
      await replica.kill('SIGCONT')
    }
  })

  it('covers many concurrent writes with a few WAITs', async () => {
    const { store } = await open(1)
    const before = await waits()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.append({ room: `room-${i % 5}`, id: randomUUID(), from, text: `${i}` }),
      ),
    )
    expect(results.every((result) => !result.duplicate)).toBe(true)
    const used = (await waits()) - before
    expect(used).toBeGreaterThanOrEqual(1)
    expect(used).toBeLessThanOrEqual(10)
  })
})
