import { randomUUID } from 'node:crypto'
import type { Client } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Balancer } from '../../../../test/support/balancer'
import { createRedisBackend } from '../../src/redis/backend'
import { Inbox } from '../storage/inbox'
import { freePort, redisServerMissing } from '../storage/redis-server'
import { type Acked, Listeners, Publisher } from './publisher'
import { RelayNode } from './relay-node'
import { SentinelSet } from './sentinel-set'
import { Tally } from './tally'
import { WireClient } from './wire-client'

const missing = redisServerMissing()

describe.skipIf(missing !== null)('Redis Sentinel', () => {
  it('refuses to start with a readable error when no Sentinel answers', async () => {
    const port = await freePort()
    const target = { sentinels: [{ host: '127.0.0.1', port }], name: 'nowhere' }
    await expect(createRedisBackend(target, { connectTimeout: 500, onError: () => {} })).rejects.toThrow(
      `cannot reach Redis master "nowhere" through Sentinels 127.0.0.1:${port}: All sentinels are unreachable.`,
    )
  })
})

describe.skipIf(missing !== null)('a Sentinel failover under two relay nodes', () => {
  let group: SentinelSet
  let nodes: RelayNode[]
  let balancer: Balancer
  const clients: Client[] = []

  beforeAll(async () => {
    group = await SentinelSet.start()
    nodes = await Promise.all([RelayNode.start('one', group.args), RelayNode.start('two', group.args)])
    balancer = await Balancer.start(nodes.map((node) => node.port))
  }, 60_000)
  afterAll(async () => {
    for (const client of clients) client.close()
    await balancer?.close()
    await Promise.all((nodes ?? []).map((node) => node.kill('SIGTERM')))
    await group?.stop()
  })

  const readyz = async (node: RelayNode): Promise<number> => (await fetch(`${node.http}/readyz`)).status

  it('loses no acked message when the master is killed, answers at most unavailable, and recovers alone', async () => {
    const room = `sentinel-${randomUUID()}`
    const tally = new Tally()
    const listeners = new Listeners()
    const { statuses, deliveries } = listeners
    for (const name of ['listener-1', 'listener-2']) {
      clients.push(await listeners.add(`ws://127.0.0.1:${balancer.port}/ws`, name, room, tally))
    }
    // One publisher on each node, so both relays write through the failover.
    const acks = new Inbox<Acked>()
    const publishers: Publisher[] = []
    for (const node of nodes) {
      const client = await WireClient.open(node.url, `publisher-${node.name}`)
      await client.join(room)
      publishers.push(new Publisher(client, room, tally, acks))
    }
    let killedAt = 0
    let promotedAfter = 0
    const readyAt: number[] = []
    try {
      for (const publisher of publishers) publisher.start()
      await acks.next(() => acks.items.length >= 10, 10_000, '10 acks')
      killedAt = Date.now()
      // The old master stays down: the relays must carry on with one replica behind the new master.
      promotedAfter = (await group.failover({ rejoin: false })).promotedAfter
      for (const node of nodes) {
        await vi.waitFor(async () => expect(await readyz(node)).toBe(200), { timeout: 15_000, interval: 20 })
        readyAt.push(Date.now())
      }
      // Both publishers get acks again: the relays found the new master without a restart. Normally
      // within a second or two of ready; the bound leaves room for a second failover in a row, after
      // which Sentinel turns the demoted master into a replica only about 8 s later.
      const target = acks.items.length + 20
      await acks.next(() => acks.items.length >= target, 40_000, '20 acks after the failover')
    } catch (error) {
      console.log(
        `failed ${Date.now() - killedAt} ms after the kill with ${acks.items.length} acks; ` +
          `${await group.diagnostics()}\n${nodes.map((n) => n.log).join('\n')}`,
      )
      throw error
    } finally {
      await Promise.all(publishers.map((publisher) => publisher.stop()))
    }
    const complete = await deliveries
      .next(() => tally.complete(), 10_000)
      .then(
        () => true,
        () => false,
      )
    const times = acks.items.map((ack) => ack.at)
    const pause = Math.max(...times.slice(1).map((at, i) => at - (times[i] as number)))
    const refusals = publishers.flatMap((p) => p.refusals)
    const verdicts = tally.verdicts()
    console.log(
      `sentinel failover: promoted ${promotedAfter} ms after the SIGKILL, ` +
        `relays ready at ${readyAt.map((at) => at - killedAt).join(', ')} ms; ` +
        `longest pause between acks ${pause} ms; longest publish-to-ack ${Math.max(...publishers.map((p) => p.longest))} ms; ` +
        `${tally.acked.size} acked; refusals ${refusals.length} (${[...new Set(refusals)].join(', ') || 'none'}), unanswered ${publishers.map((p) => p.unanswered).join('+')}; ` +
        `listener statuses ${JSON.stringify(statuses)}; ` +
        verdicts.map((v) => `${v.listener}: lost=${v.lost} dup=${v.duplicates} gaps=${v.gaps}`).join('; '),
    )
    // Nothing lost, doubled or reordered, no reset, no error, and no socket dropped.
    listeners.expectUndisturbed(verdicts, complete, ['listener-1', 'listener-2'])
    expect(new Set(refusals)).toEqual(new Set(refusals.length > 0 ? ['unavailable'] : []))
    expect(publishers.map((p) => p.unanswered)).toEqual([0, 0])

    // The new master holds every acked message once, at its acked offset, read afresh through a relay.
    const reader = await WireClient.open((nodes[0] as RelayNode).url, 'reader')
    try {
      const { messages } = await reader.join(room, { history: 1000 })
      const stored = messages.map((m) => m.id)
      expect(new Set(stored).size).toBe(stored.length)
      for (const [id, offset] of tally.acked) expect(messages.find((m) => m.id === id)?.offset).toBe(offset)
    } finally {
      reader.close()
      for (const publisher of publishers) publisher.client.close()
    }
  }, 120_000)
})
