import { randomUUID } from 'node:crypto'
import { type Client, connect, type Message, type Room } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Balancer } from '../../../../test/support/balancer'
import { Inbox } from '../storage/inbox'
import { RedisServer, redisServerMissing } from '../storage/redis-server'
import { RelayNode } from './relay-node'
import { ResumingListener } from './resuming-listener'
import { Tally } from './tally'

const missing = redisServerMissing()
const KILLS = 5
/** Below the relay's default 10 publishes per second per connection. */
const SEND_EVERY = 125 // ms

describe.skipIf(missing !== null)('failover behind a load balancer', () => {
  let redis: RedisServer
  let nodes: RelayNode[]
  let balancer: Balancer
  const clients: Client[] = []

  beforeAll(async () => {
    redis = await RedisServer.start()
    nodes = await Promise.all([RelayNode.start('one', redis.url), RelayNode.start('two', redis.url)])
    balancer = await Balancer.start(nodes.map((node) => node.port))
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await balancer?.close()
    await Promise.all((nodes ?? []).map((node) => node.kill('SIGTERM')))
    await redis?.stop()
  })

  it(`delivers every acked message to every listener exactly once, in order, across ${KILLS} node kills`, async () => {
    const room = `failover-${randomUUID()}`
    const tally = new Tally()
    const opened = new Inbox<{ client: string; at: number }>()
    const resets: unknown[] = []
    const join = async (name: string): Promise<Room> => {
      const client = connect(`ws://127.0.0.1:${balancer.port}/ws`, {
        WebSocket: WebSocket as never,
        name,
        reconnect: { minDelay: 50, maxDelay: 500 },
      })
      clients.push(client)
      client.on('status', (status) => status === 'open' && opened.push({ client: name, at: Date.now() }))
      const joined = client.join(room)
      joined.on('reset', (info) => resets.push(info))
      await opened.next((o) => o.client === name, 5000, `${name} open`)
      return joined
    }
    const listeners = await Promise.all(['listener-1', 'listener-2'].map(join))
    const deliveries = new Inbox<Message>()
    for (const [i, listener] of listeners.entries()) {
      const record = tally.listener(`listener-${i + 1}`)
      listener.on('message', (message) => {
        record(message)
        deliveries.push(message)
      })
    }
    // A third listener without the SDK: its own resume logic, and counts of what the relay sent twice.
    const wire = new ResumingListener(`ws://127.0.0.1:${balancer.port}/ws`, room, 'wire-listener', (message) => {
      record(message)
      deliveries.push(message)
    })
    const record = tally.listener('wire-listener')
    wire.onJoined = () => opened.push({ client: 'wire-listener', at: Date.now() })
    await wire.start()
    const publisher = await join('publisher')
    const acks = new Inbox<Message>()
    const sends: Promise<unknown>[] = []
    let sent = 0
    const timer = setInterval(() => {
      const send = publisher.send(`m${++sent}`).then((message) => {
        tally.ack(message)
        acks.push(message)
      })
      sends.push(send)
    }, SEND_EVERY)

    const reconnects: number[] = []
    try {
      for (let k = 0; k < KILLS; k++) {
        // Messages flow before each kill: a few more acks than we had.
        const target = acks.items.length + 3
        await acks.next(() => acks.items.length >= target, 10_000, `${target} acks`)
        const victim = nodes[k % nodes.length] as RelayNode
        const affected = balancer.connections().get(victim.port) ?? 0
        const before = opened.items.length
        const killedAt = Date.now()
        await victim.kill('SIGKILL')
        // Every client that was on the victim comes back, through the balancer, on the other node.
        await opened.next(() => opened.items.length >= before + affected, 10_000, `${affected} reconnects`)
        reconnects.push((opened.items.at(-1)?.at ?? killedAt) - killedAt)
        await victim.restart()
      }
      const target = acks.items.length + 3
      await acks.next(() => acks.items.length >= target, 10_000, `${target} acks after the last kill`)
    } finally {
      clearInterval(timer)
    }
    const settled = await Promise.allSettled(sends)
    const failed = settled.filter((s) => s.status === 'rejected')
    // A timeout here is reported by the verdicts below, with the counts.
    const complete = await deliveries
      .next(() => tally.complete(), 10_000)
      .then(
        () => true,
        () => false,
      )

    wire.stop()
    const verdicts = tally.verdicts()
    const sum = (key: 'lost' | 'duplicates' | 'outOfOrder' | 'gaps') => verdicts.reduce((n, v) => n + v[key], 0)
    console.log(
      `failover: ${KILLS} SIGKILLs, ${sent} sent, ${tally.acked.size} acked, ${failed.length} rejected; ` +
        `lost=${sum('lost')} duplicates=${sum('duplicates')} out-of-order=${sum('outOfOrder')} gaps=${sum('gaps')}; ` +
        `reconnect ms per kill: ${reconnects.join(', ')} (max ${Math.max(...reconnects)}); ` +
        `wire listener: ${wire.stats.reconnects} reconnects, ${wire.stats.duplicates} duplicate frames, ` +
        `${wire.stats.gaps} gaps, ${wire.stats.unrecovered} unrecovered joins`,
    )
    expect(verdicts.map(({ lost, duplicates, outOfOrder, gaps }) => ({ lost, duplicates, outOfOrder, gaps }))).toEqual(
      verdicts.map(() => ({ lost: 0, duplicates: 0, outOfOrder: 0, gaps: 0 })),
    )
    expect(complete).toBe(true)
    expect(wire.stats).toMatchObject({ gaps: 0, unrecovered: 0 })
    expect(wire.stats.reconnects).toBeGreaterThanOrEqual(KILLS - 1)
    expect(resets).toEqual([])
    expect(failed).toEqual([])
    expect(tally.acked.size).toBeGreaterThan(KILLS * 3)
  }, 90_000)
})
