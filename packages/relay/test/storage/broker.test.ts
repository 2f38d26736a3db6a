import type { Member, Message } from '@confab/sdk/protocol'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { REDIS_URL } from '../../../../test/support/env'
import type { BrokerEvent } from '../../src/broker/types'
import {
  type Backend,
  memoryBackend,
  redisBackend,
  redisClusterBackend,
  type StorageNode,
  sqliteBackend,
  TRICKY_ROOMS,
} from './backends'
import { Inbox } from './inbox'

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]
const user: Member = { id: 'u1', name: 'Ada' }
const typing = (active: boolean): BrokerEvent => ({ type: 'typing', user, active })
const presence = (name: string): BrokerEvent => ({ type: 'presence', joins: [{ id: name, name }], leaves: [] })

/** A node whose broker delivers into an inbox of `[room, event]`. */
async function listening(backend: Backend) {
  const node = await backend.node()
  const inbox = new Inbox<[string, BrokerEvent]>()
  await node.broker.start((room, event) => inbox.push([room, event]))
  return { node, inbox }
}

describe.each(backends.filter((b) => b.missing === null))('$name broker', (backend) => {
  afterEach(() => backend.cleanup())

  it('delivers an event published in a subscribed room to the handler, this node included', async () => {
    const { node, inbox } = await listening(backend)
    await node.broker.subscribe('r')
    await node.broker.publish('r', typing(true))
    expect(await inbox.next(([room]) => room === 'r')).toEqual(['r', typing(true)])
    expect(node.broker.ready).toBe(true)
  })

  it('delivers nothing of rooms not subscribed, or unsubscribed', async () => {
    const { node, inbox } = await listening(backend)
    await node.broker.subscribe('gone')
    await node.broker.subscribe('marker')
    await node.broker.unsubscribe('gone')
    await node.broker.publish('never', presence('a'))
    await node.broker.publish('gone', presence('b'))
    await node.broker.publish('marker', presence('c'))
    // One publisher, one subscriber connection: anything published before the marker arrives before it.
    await inbox.next(([room]) => room === 'marker')
    expect(inbox.items.map(([room]) => room)).toEqual(['marker'])
  })

  it('keeps rooms whose names look like key or pattern syntax apart', async () => {
    const { node, inbox } = await listening(backend)
    for (const room of TRICKY_ROOMS) await node.broker.subscribe(room)
    for (const room of TRICKY_ROOMS) await node.broker.publish(room, presence(room))
    await inbox.next(([room]) => room === TRICKY_ROOMS.at(-1))
    expect(inbox.items).toEqual(TRICKY_ROOMS.map((room) => [room, presence(room)]))
  })

  it("delivers one publisher's events in publish order", async () => {
    const { node, inbox } = await listening(backend)
    await node.broker.subscribe('r')
    const names = Array.from({ length: 200 }, (_, i) => `n${i}`)
    await Promise.all(names.map((name) => node.broker.publish('r', presence(name))))
    await inbox.next(([, event]) => event.type === 'presence' && event.joins[0]?.id === 'n199')
    expect(inbox.items.map(([, event]) => event.type === 'presence' && event.joins[0]?.id)).toEqual(names)
  })

  it.runIf(backend.shared)('delivers events published on another node', async () => {
    const a = await listening(backend)
    const b = await listening(backend)
    await a.node.broker.subscribe('r')
    await b.node.broker.subscribe('r')
    await b.node.broker.publish('r', typing(false))
    expect(await a.inbox.next(([room]) => room === 'r')).toEqual(['r', typing(false)])
    expect(await b.inbox.next(([room]) => room === 'r')).toEqual(['r', typing(false)])
  })
})

describe.skipIf(backends[1]?.missing !== null)('redis broker after a pub/sub drop', () => {
  const backend = backends[1] as Backend
  afterEach(() => backend.cleanup())

  /** Kills the node's subscriber connection (found by its name), as `CLIENT KILL TYPE pubsub` would. */
  async function killSubscriber(node: StorageNode): Promise<void> {
    const admin = new Redis(REDIS_URL)
    try {
      const nodeId = (node.presence as unknown as { nodeId: string }).nodeId
      const line = ((await admin.call('CLIENT', 'LIST')) as string)
        .split('\n')
        .find((l) => l.includes(`name=confab-${nodeId}-subscriber`))
      const id = line?.match(/^id=(\d+)/)?.[1]
      expect(id).toBeDefined()
      await admin.client('KILL', 'ID', id as string)
    } finally {
      admin.disconnect()
    }
  }

  const isMessage =
    (offset: number) =>
    ([, event]: [string, BrokerEvent]) =>
      event.type === 'message' && event.message.offset === offset

  it("resubscribes and re-delivers each room's newest message, covering what it missed", async () => {
    const { node: a, inbox } = await listening(backend)
    const b = await backend.node()
    await a.broker.subscribe('r')
    const publish = async (text: string): Promise<Message> => {
      const { message } = await b.store.append({ room: 'r', id: text, from: user, text })
      await b.broker.publish('r', { type: 'message', message })
      return message
    }
    await publish('before')
    await inbox.next(isMessage(1))
    await killSubscriber(a)
    // Redis closed the connection already and ioredis waits at least 50 ms to reconnect: this one is lost to pub/sub.
    const missed = await publish('while away')
    const [, redelivered] = await inbox.next(isMessage(2), 5000, 'the missed message re-delivered')
    expect(redelivered).toEqual({ type: 'message', message: missed })
    await publish('after')
    await inbox.next(isMessage(3), 5000, 'live delivery after the resubscribe')
    expect(a.broker.ready).toBe(true)
  })

  it('re-delivers a change when it is the newest entry of the log (an edit missed while away)', async () => {
    const { node: a, inbox } = await listening(backend)
    const b = await backend.node()
    await a.broker.subscribe('r')
    const { message } = await b.store.append({ room: 'r', id: 'm', from: user, text: 'typo' })
    await b.broker.publish('r', { type: 'message', message })
    await inbox.next(isMessage(1))
    await killSubscriber(a)
    const { update } = await b.store.change({
      room: 'r',
      id: 'e',
      from: user,
      action: 'edit',
      target: 1,
      text: 'fixed',
      ownOnly: true,
      editWindow: 0,
      maxReactions: 20,
    })
    await b.broker.publish('r', { type: 'update', update })
    const [, redelivered] = await inbox.next(
      ([, event]) => event.type === 'update' && event.update.offset === 2,
      5000,
      'the missed edit re-delivered',
    )
    expect(redelivered).toMatchObject({
      type: 'update',
      update: { offset: 2, action: 'edit', target: 1, message: { offset: 1, text: 'fixed' } },
    })
  })
})
