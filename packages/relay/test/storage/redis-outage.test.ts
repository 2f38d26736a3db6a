import type { Member } from '@confab/sdk/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BrokerEvent } from '../../src/broker/types'
import { createRedisBackend, type RedisBackend } from '../../src/redis/backend'
import { StoreUnavailableError } from '../../src/store/types'
import { FAST_PRESENCE } from './backends'
import { Inbox } from './inbox'
import { freePort, RedisServer, redisServerMissing } from './redis-server'

const missing = redisServerMissing()
const from: Member = { id: 'ada', name: 'Ada' }
const draft = (id: string) => ({ room: 'r', id, from, text: id })

describe.skipIf(missing !== null)('redis backend while Redis is down', () => {
  let server: RedisServer
  let node: RedisBackend
  beforeEach(async () => {
    server = await RedisServer.start()
    node = await createRedisBackend(server.url, {
      historyLimit: 100,
      idempotencyWindow: 60_000,
      commandTimeout: 500,
      maxReconnectDelay: 200,
      ...FAST_PRESENCE,
      onError: () => {}, // the outage is the point of these tests
    })
  })
  afterEach(async () => {
    await node.close()
    await server.stop()
  })

  it('rejects every call at once with StoreUnavailableError, then recovers without a restart', async () => {
    const events = new Inbox<[string, BrokerEvent]>()
    const gone = new Inbox<[string, Member[]]>()
    await node.broker.start((room, event) => events.push([room, event]))
    node.presence.watch((room, leaves) => gone.push([room, leaves]))
    await node.broker.subscribe('r')
    await node.presence.add('r', from)
    const first = await node.store.append(draft('one'))
    const { epoch } = await node.store.state('r')

    await server.kill('SIGKILL')
    await vi.waitFor(() => expect(node.store.ready).toBe(false), { timeout: 5000, interval: 20 })
    expect(node.broker.ready).toBe(false)
    const started = Date.now()
    const calls: Promise<unknown>[] = [
      node.store.append(draft('two')),
      node.store.state('r'),
      node.store.after('r', 0, 10),
      node.store.before('r', 10, 10),
      node.broker.publish('r', { type: 'typing', user: from, active: true }),
      node.broker.subscribe('elsewhere'),
      node.presence.add('elsewhere', from),
      node.presence.list('r'),
    ]
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(Date.now() - started).toBeLessThan(400) // no waiting for a timeout: the offline queue is off
    // A leave while Redis is down is queued, and reported once Redis is back.
    expect(await node.presence.remove('r', from)).toBe(false)

    await server.restart()
    await vi.waitFor(() => expect(node.store.ready && node.broker.ready).toBe(true), { timeout: 5000, interval: 20 })
    const second = await node.store.append(draft('two'))
    expect(second.message.offset).toBe(2)
    expect(await node.store.state('r')).toEqual({ epoch, head: 2, first: 1 })
    expect(await node.store.after('r', 0, 10)).toEqual([first.message, second.message])
    expect(await gone.next(([room]) => room === 'r', 5000, 'the queued leave')).toEqual(['r', [from]])
    expect(await node.presence.list('r')).toEqual([])
    // Nobody published offset 2 on the broker: the resubscribe re-delivered the room's head (offset 1) to catch up.
    await events.next(([, e]) => e.type === 'message' && e.message.offset === 1, 5000, 'the head after resubscribe')
  })

  it('answers unavailable after the command timeout when Redis stops answering', async () => {
    await node.store.append(draft('one'))
    await server.kill('SIGSTOP')
    try {
      const started = Date.now()
      await expect(node.store.append(draft('two'))).rejects.toBeInstanceOf(StoreUnavailableError)
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    } finally {
      await server.kill('SIGCONT')
    }
    // The append may or may not have reached Redis; a resend with the same id is stored at most once.
    await vi.waitFor(() => expect(node.store.ready).toBe(true), { timeout: 5000, interval: 20 })
    const resent = await node.store.append(draft('two'))
    expect(resent.message.offset).toBe(2)
    expect((await node.store.state('r')).head).toBe(2)
  })
})

describe.skipIf(missing !== null)('redis backend start-up', () => {
  it('fails with a readable error when Redis cannot be reached', async () => {
    const port = await freePort()
    await expect(
      createRedisBackend(`redis://:secret@127.0.0.1:${port}`, { historyLimit: 10, idempotencyWindow: 1000 }),
    ).rejects.toThrow(new RegExp(`^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/?: .*ECONNREFUSED`))
  })
})
