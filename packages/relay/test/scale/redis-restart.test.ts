import { randomUUID } from 'node:crypto'
import { type Client, connect, type Message, type Room } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { Inbox } from '../storage/inbox'
import { RedisServer, redisServerMissing } from '../storage/redis-server'
import { RelayNode } from './relay-node'
import { Tally } from './tally'
import { WireClient } from './wire-client'

const missing = redisServerMissing()
const SEND_EVERY = 125 // ms, below the default publish rate limit

describe.skipIf(missing !== null)('Redis restarted under two relay nodes', () => {
  let redis: RedisServer
  let nodes: RelayNode[]
  const clients: Client[] = []

  beforeAll(async () => {
    redis = await RedisServer.start()
    nodes = await Promise.all([RelayNode.start('one', redis.url), RelayNode.start('two', redis.url)])
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await Promise.all((nodes ?? []).map((node) => node.kill('SIGTERM')))
    await redis?.stop()
  })

  const readyz = async (node: RelayNode): Promise<number> => (await fetch(`${node.http}/readyz`)).status

  it('loses no acked message, reports not ready meanwhile, and lets clients carry on', async () => {
    const room = `redis-restart-${randomUUID()}`
    const tally = new Tally()
    const join = async (node: RelayNode, name: string): Promise<Room> => {
      const client = connect(node.url, {
        WebSocket: WebSocket as never,
        name,
        reconnect: { minDelay: 50, maxDelay: 500 },
      })
      clients.push(client)
      const opened = new Inbox<string>()
      client.on('status', opened.push)
      const joined = client.join(room)
      await opened.next((status) => status === 'open', 5000, `${name} open`)
      return joined
    }
    const listener = await join(nodes[1] as RelayNode, 'listener')
    const deliveries = new Inbox<Message>()
    const record = tally.listener('listener')
    listener.on('message', (message) => {
      record(message)
      deliveries.push(message)
    })
    const resets: unknown[] = []
    listener.on('reset', (info) => resets.push(info))
    const publisher = await join(nodes[0] as RelayNode, 'publisher')

    const acks = new Inbox<Message>()
    const attempts = new Inbox<number>()
    const sends: Promise<unknown>[] = []
    const rejected: unknown[] = []
    let sent = 0
    const timer = setInterval(() => {
      attempts.push(++sent)
      sends.push(
        publisher.send(`m${sent}`).then(
          (message) => {
            tally.ack(message)
            acks.push(message)
          },
          // The SDK waits out `unavailable` (retryAfter) and resends, so none should end here.
          (error: unknown) => rejected.push(error),
        ),
      )
    }, SEND_EVERY)
    let downFor = 0
    try {
      await acks.next(() => acks.items.length >= 5, 10_000, '5 acks')
      const killedAt = Date.now()
      await redis.kill('SIGKILL')
      for (const node of nodes) await vi.waitFor(async () => expect(await readyz(node)).toBe(503), { timeout: 5000 })
      // Publishes keep coming while Redis is down.
      const during = sent + 3
      await attempts.next((n) => n >= during, 5000, 'sends during the outage')
      await redis.restart()
      for (const node of nodes) await vi.waitFor(async () => expect(await readyz(node)).toBe(200), { timeout: 10_000 })
      downFor = Date.now() - killedAt
      const target = acks.items.length + 5
      await acks.next(() => acks.items.length >= target, 15_000, '5 more acks after Redis came back')
    } finally {
      clearInterval(timer)
    }
    await Promise.all(sends)
    const complete = await deliveries
      .next(() => tally.complete(), 10_000)
      .then(
        () => true,
        () => false,
      )
    const [verdict] = tally.verdicts()
    console.log(
      `redis restart: down ${downFor} ms, ${sent} sent, ${tally.acked.size} acked, ${rejected.length} rejected; ` +
        `lost=${verdict?.lost} ` +
        `duplicates=${verdict?.duplicates} out-of-order=${verdict?.outOfOrder} gaps=${verdict?.gaps}`,
    )
    expect(rejected).toEqual([])
    expect(tally.acked.size).toBe(sent)
    expect(complete).toBe(true)
    expect(verdict).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0, gaps: 0 })
    expect(resets).toEqual([])

    // The stored history, read afresh through the other node, holds each acked message once.
    const reader = await WireClient.open((nodes[0] as RelayNode).url, 'reader')
    try {
      const { messages } = await reader.join(room, { history: 1000 })
      const stored = messages.map((m) => m.id)
      expect(new Set(stored).size).toBe(stored.length)
      for (const [id, offset] of tally.acked) expect(messages.find((m) => m.id === id)?.offset).toBe(offset)
    } finally {
      reader.close()
    }
  }, 60_000)
})
