import { randomUUID } from 'node:crypto'
import type { AckFrame, PresenceFrame } from '@confab/sdk/protocol'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisServer, redisServerMissing } from '../storage/redis-server'
import { RelayNode } from './relay-node'
import { WireClient } from './wire-client'

const missing = redisServerMissing()

describe.skipIf(missing !== null)('two relay nodes over one Redis', () => {
  let redis: RedisServer
  let one: RelayNode
  let two: RelayNode
  const clients: WireClient[] = []
  const open = async (node: RelayNode, name: string, resume?: string) => {
    const client = await WireClient.open(node.url, name, resume)
    clients.push(client)
    return client
  }
  const acked = (answer: AckFrame | { type: string }): AckFrame => {
    expect(answer.type).toBe('ack')
    return answer as AckFrame
  }

  beforeAll(async () => {
    redis = await RedisServer.start()
    ;[one, two] = await Promise.all([RelayNode.start('one', redis.url), RelayNode.start('two', redis.url)])
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.close()
  })
  afterAll(async () => {
    await Promise.all([one?.kill('SIGTERM'), two?.kill('SIGTERM')])
    await redis?.stop()
  })

  it('carries messages and presence between clients on different nodes', async () => {
    const room = `cross-${randomUUID()}`
    const ada = await open(one, 'Ada')
    const bob = await open(two, 'Bob')
    await ada.join(room)
    const joined = await bob.join(room)
    expect(joined.members.map((m) => m.name).sort()).toEqual(['Ada', 'Bob'])
    const bobJoined = (f: { type: string }) =>
      f.type === 'presence' && (f as PresenceFrame).joins.some((m) => m.id === bob.user.id)
    expect(((await ada.frames.next(bobJoined)) as PresenceFrame).joins).toEqual([bob.user])

    const fromAda = acked(await ada.publish(room, 'hi from node one'))
    expect((await bob.waitMessages(room, 1))[0]).toMatchObject({ offset: fromAda.offset, text: 'hi from node one' })
    const fromBob = acked(await bob.publish(room, 'hi from node two'))
    expect(fromBob.offset).toBe(fromAda.offset + 1)
    expect((await ada.waitMessages(room, 2)).map((m) => m.text)).toEqual(['hi from node one', 'hi from node two'])

    bob.close()
    const leave = (await ada.frames.next((f) => f.type === 'presence' && f.leaves.length > 0)) as PresenceFrame
    expect(leave.leaves).toEqual([bob.user])
  })

  it('gives a late joiner on node two the history written through node one', async () => {
    const room = `late-${randomUUID()}`
    const writer = await open(one, 'Writer')
    await writer.join(room)
    for (let i = 1; i <= 5; i++) acked(await writer.publish(room, `m${i}`))
    const late = await open(two, 'Late')
    const joined = await late.join(room, { history: 10 })
    expect(joined.head).toBe(5)
    expect(joined.messages.map((m) => [m.offset, m.text])).toEqual([
      [1, 'm1'],
      [2, 'm2'],
      [3, 'm3'],
      [4, 'm4'],
      [5, 'm5'],
    ])
  })

  it('gives concurrent publishes through both nodes distinct, gap-free offsets', async () => {
    const room = `busy-${randomUUID()}`
    const listener = await open(two, 'Listener')
    await listener.join(room)
    // Ten publishers, ten messages each: within every connection's burst allowance.
    const publishers = await Promise.all(Array.from({ length: 10 }, (_, i) => open(i % 2 ? one : two, `P${i}`)))
    await Promise.all(publishers.map((p) => p.join(room)))
    const answers = await Promise.all(
      publishers.flatMap((p, i) => Array.from({ length: 10 }, (_, j) => p.publish(room, `p${i}-${j}`))),
    )
    const offsets = answers.map((a) => acked(a).offset).sort((x, y) => x - y)
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    const received = await listener.waitMessages(room, 100)
    expect(received.map((m) => m.offset)).toEqual(offsets)
  })

  it('stores a resend through the other node once and answers it with the original ack', async () => {
    const room = `resend-${randomUUID()}`
    const listener = await open(two, 'Listener')
    await listener.join(room)
    const first = await open(one, 'Ada')
    await first.join(room)
    const original = acked(await first.publish(room, 'only once', 'client-id-1'))
    // The same user, reconnected through the other node, resends with the same id.
    const again = await open(two, 'Ada', first.welcome.resume)
    expect(again.user).toEqual(first.user)
    await again.join(room)
    const resent = acked(await again.publish(room, 'only once', 'client-id-1'))
    expect(resent).toMatchObject({ id: 'client-id-1', offset: original.offset, ts: original.ts })
    const marker = acked(await again.publish(room, 'marker'))
    const received = await listener.waitMessages(room, 2)
    expect(received.map((m) => [m.offset, m.text])).toEqual([
      [original.offset, 'only once'],
      [marker.offset, 'marker'],
    ])
    const history = await (await open(one, 'Reader')).join(room, { history: 10 })
    expect(history.messages.map((m) => m.text)).toEqual(['only once', 'marker'])
  })

  it('still delivers every message to a listener whose pub/sub connection was killed', async () => {
    const room = `pubsub-${randomUUID()}`
    const listener = await open(two, 'Listener')
    await listener.join(room)
    const writer = await open(one, 'Writer')
    await writer.join(room)
    for (let i = 1; i <= 5; i++) acked(await writer.publish(room, `before ${i}`))
    await listener.waitMessages(room, 5)
    const admin = new Redis(redis.url)
    try {
      // Both nodes lose their subscriber connection; these messages go out while they reconnect.
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(2)
      for (let i = 1; i <= 5; i++) acked(await writer.publish(room, `during ${i}`))
    } finally {
      admin.disconnect()
    }
    // Nothing is published after the outage: only the resubscribe catch-up can deliver these.
    const received = await listener.waitMessages(room, 10)
    expect(received.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect((await writer.waitMessages(room, 10)).map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })
})
