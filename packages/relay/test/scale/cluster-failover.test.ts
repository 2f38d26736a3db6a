// Two relay processes on a real Redis Cluster (three masters, a replica each,
// a second replica for the master that is killed): publishers on rooms in the
// three masters' slots, the master of one room's slot SIGKILLed under load.
import { randomUUID } from 'node:crypto'
import type { Client } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Balancer } from '../../../../test/support/balancer'
import { createRedisBackend } from '../../src/redis/backend'
import { RedisKeys } from '../../src/redis/keys'
import { keySlot } from '../../src/redis/slot'
import { Inbox } from '../storage/inbox'
import { redisServerMissing } from '../storage/redis-server'
import { type ClusterNode, RedisClusterSet } from './cluster-redis'
import { type Acked, Listeners, Publisher } from './publisher'
import { RelayNode } from './relay-node'
import { Tally } from './tally'
import { WireClient } from './wire-client'

const missing = redisServerMissing()
const keys = new RedisKeys('confab:', true)

/** The longest time between two acks of `room`, in ms. */
function longestPause(acks: { at: number; room: string }[], room: string): number {
  const times = acks.filter((ack) => ack.room === room).map((ack) => ack.at)
  return Math.max(0, ...times.slice(1).map((at, i) => at - (times[i] as number)))
}

describe.skipIf(missing !== null)('a Redis Cluster failover under two relay nodes', () => {
  let cluster: RedisClusterSet
  let nodes: RelayNode[] = []
  let balancer: Balancer
  /** One room in each master's slots; the first one's master is killed. */
  const rooms: string[] = []
  let victim: ClusterNode
  const clients: Client[] = []

  beforeAll(async () => {
    cluster = await RedisClusterSet.start()
    const masters = new Set<number>()
    while (rooms.length < 3) {
      const room = `cluster-${randomUUID()}`
      const master = await cluster.masterOf(keys.meta(room))
      if (masters.has(master.port)) continue
      masters.add(master.port)
      rooms.push(room)
    }
    victim = await cluster.masterOf(keys.meta(rooms[0] as string))
    // The promoted replica keeps one of its own, so writes (min-replicas-to-write 1, WAIT 1) go on at once.
    await cluster.addReplica(victim)
    nodes = await Promise.all([RelayNode.start('one', cluster.args), RelayNode.start('two', cluster.args)])
    balancer = await Balancer.start(nodes.map((node) => node.port))
  }, 60_000)
  afterAll(async () => {
    for (const client of clients) client.close()
    await balancer?.close()
    await Promise.all(nodes.map((node) => node.kill('SIGTERM')))
    await cluster?.stop()
  })

  it('computes key slots as Redis does, and keeps each room in one slot', async () => {
    const admin = (cluster.nodes[0] as ClusterNode).admin
    const room = rooms[0] as string
    const samples = ['foo', '{user1000}.following', 'a{}b', '{}{x}', 'héllo', 'x{y', keys.stream(room)]
    for (const key of samples) expect(keySlot(key)).toBe(Number(await admin.call('CLUSTER', 'KEYSLOT', key)))
    const roomKeys = [keys.meta(room), keys.stream(room), keys.id(room, 'a', 'b'), keys.channel(room)]
    expect(new Set(roomKeys.map(keySlot)).size).toBe(1)
  })

  it('stores, reads and fans out through the backend on every master', async () => {
    const target = { cluster: cluster.addresses.map((a) => ({ host: '127.0.0.1', port: Number(a.split(':')[1]) })) }
    const prefix = `confab-smoke-${randomUUID().slice(0, 8)}:`
    const a = await createRedisBackend(target, { prefix, onError: () => {} })
    const b = await createRedisBackend(target, { prefix, onError: () => {} })
    try {
      const heard = new Inbox<string>()
      await b.broker.start((room, event) => {
        if (event.type === 'message') heard.push(`${room} ${event.message.offset}`)
      })
      for (const room of rooms) {
        await b.broker.subscribe(room)
        const { message } = await a.store.append({ room, id: 'one', from: { id: 'u', name: 'U' }, text: 'hi' })
        expect(message.offset).toBe(1)
        await a.broker.publish(room, { type: 'message', message })
        await heard.next((item) => item === `${room} 1`, 5000, `${room} fanned out`)
        expect((await b.store.after(room, 0, 10)).map((entry) => entry.offset)).toEqual([1])
        expect(await b.presence.add(room, { id: 'u', name: 'U' })).toBe(true)
        expect(await a.presence.count(room)).toBe(1)
      }
      // Erasure scans every master.
      const erased = await a.store.eraseUser('u')
      expect(erased.map((e) => e.room).sort()).toEqual([...rooms].sort())
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 30_000)

  it('waits for a replica of the master that holds the room before it acks a write', async () => {
    const target = { cluster: cluster.addresses.map((a) => ({ host: '127.0.0.1', port: Number(a.split(':')[1]) })) }
    const backend = await createRedisBackend(target, {
      prefix: `confab-wait-${randomUUID().slice(0, 8)}:`,
      onError: () => {},
    })
    const room = rooms[1] as string
    const master = await cluster.masterOf(keys.meta(room))
    const [replica] = await cluster.replicasOf(master)
    const waits = async (node: ClusterNode): Promise<number> =>
      Number(/cmdstat_wait:calls=(\d+)/.exec(await node.info('commandstats'))?.[1] ?? 0)
    const masters = [
      await cluster.masterOf(keys.meta(rooms[0] as string)),
      master,
      await cluster.masterOf(keys.meta(rooms[2] as string)),
    ]
    try {
      const draft = { room, id: randomUUID(), from: { id: 'u', name: 'U' }, text: 'kept' }
      const before = await Promise.all(masters.map(waits))
      ;(replica as ClusterNode).signal('SIGSTOP')
      let refused: unknown
      try {
        refused = await backend.store.append(draft).then(
          () => null,
          (error: unknown) => error,
        )
      } finally {
        ;(replica as ClusterNode).signal('SIGCONT')
      }
      expect((refused as Error).message).toBe('Redis write confirmed by 0 of 1 replicas within 1000 ms')
      // The resend finds the message the master kept, and is acked once the replica has it.
      await expect(backend.store.append(draft)).resolves.toMatchObject({ duplicate: true, message: { offset: 1 } })
      // Only the room's master was asked to WAIT.
      const after = await Promise.all(masters.map(waits))
      expect(after.map((n, i) => n > (before[i] as number))).toEqual([false, true, false])
    } finally {
      await backend.close()
    }
    await cluster.settled(20_000)
  }, 30_000)

  const readyz = async (node: RelayNode): Promise<number> => (await fetch(`${node.http}/readyz`)).status

  it('loses no acked message when a master is killed, answers at most unavailable, and recovers alone', async () => {
    // One tally per room: each listener is in one room.
    const tallies = new Map(rooms.map((r) => [r, new Tally()]))
    const tallyOf = (r: string) => tallies.get(r) as Tally
    const listeners = new Listeners()
    const { deliveries } = listeners
    for (const room of rooms) {
      const name = `listener-${rooms.indexOf(room)}`
      clients.push(await listeners.add(`ws://127.0.0.1:${balancer.port}/ws`, name, room, tallyOf(room)))
    }
    // Each room has a publisher on each node, so both relays write through the failover.
    const acks = new Inbox<Acked>()
    const publishers: Publisher[] = []
    for (const room of rooms) {
      for (const node of nodes) {
        const client = await WireClient.open(node.url, `publisher-${node.name}`)
        await client.join(room)
        publishers.push(new Publisher(client, room, tallyOf(room), acks))
      }
    }
    const room = rooms[0] as string
    const all = [...tallies.values()]
    const count = () => acks.items.filter((ack) => ack.room === room).length
    let killedAt = 0
    let failover = { promotedAfter: 0, healedAfter: 0 }
    const readyAt: number[] = []
    try {
      for (const publisher of publishers) publisher.start()
      await acks.next(() => count() >= 10, 10_000, '10 acks in the room whose master dies')
      const replicas = await cluster.replicasOf(victim)
      killedAt = Date.now()
      failover = await cluster.failover(victim, replicas)
      for (const node of nodes) {
        await vi.waitFor(async () => expect(await readyz(node)).toBe(200), { timeout: 15_000, interval: 20 })
        readyAt.push(Date.now())
      }
      // Both publishers of the room get acks again: the relays follow the new master without a restart.
      const target = count() + 20
      await acks.next(() => count() >= target, 40_000, '20 acks after the failover')
    } catch (error) {
      console.log(
        `failed ${Date.now() - killedAt} ms after the kill with ${count()} acks; ` +
          `${await cluster.diagnostics()}\n${nodes.map((n) => n.log).join('\n')}`,
      )
      throw error
    } finally {
      await Promise.all(publishers.map((publisher) => publisher.stop()))
    }
    const complete = await deliveries
      .next(() => all.every((tally) => tally.complete()), 10_000)
      .then(
        () => true,
        () => false,
      )
    const refusals = publishers.flatMap((p) => p.refusals)
    const others = publishers.filter((p) => p.room !== room).flatMap((p) => p.refused)
    const verdicts = all.flatMap((tally) => tally.verdicts())
    const acked = all.reduce((sum, tally) => sum + tally.acked.size, 0)
    console.log(
      `redis cluster failover: replica promoted ${failover.promotedAfter} ms after the SIGKILL ` +
        `(cluster-node-timeout 2000 ms), cluster whole at ${failover.healedAfter} ms, ` +
        `relays ready at ${readyAt.map((at) => at - killedAt).join(', ')} ms; ` +
        `longest pause between acks: room on the killed master ${longestPause(acks.items, room)} ms, ` +
        `other rooms ${rooms
          .slice(1)
          .map((r) => longestPause(acks.items, r))
          .join(', ')} ms; ` +
        `longest publish-to-ack ${Math.max(...publishers.map((p) => p.longest))} ms; ` +
        `${acked} acked; refusals ${refusals.length} (${[...new Set(refusals)].join(', ') || 'none'}; ` +
        `${others.length} in rooms on other masters: ${others.map((r) => `${r.at - killedAt} ms ${r.message}`).join(', ')}), unanswered ${publishers.map((p) => p.unanswered).join('+')}; ` +
        verdicts.map((v) => `${v.listener}: lost=${v.lost} dup=${v.duplicates} gaps=${v.gaps}`).join('; '),
    )
    // Nothing lost, doubled or reordered, no reset, no error, and no socket dropped.
    listeners.expectUndisturbed(
      verdicts,
      complete,
      rooms.map((_, i) => `listener-${i}`),
    )
    expect(new Set(refusals)).toEqual(new Set(refusals.length > 0 ? ['unavailable'] : []))
    expect(publishers.map((p) => p.unanswered)).toEqual(publishers.map(() => 0))

    // The new master holds every acked message once, at its acked offset, read afresh through a relay.
    const reader = await WireClient.open((nodes[0] as RelayNode).url, 'reader')
    try {
      for (const r of rooms) {
        const { messages } = await reader.join(r, { history: 1000 })
        const stored = messages.map((m) => m.id)
        expect(new Set(stored).size).toBe(stored.length)
        for (const [id, offset] of tallyOf(r).acked) expect(messages.find((m) => m.id === id)?.offset).toBe(offset)
      }
    } finally {
      reader.close()
      for (const publisher of publishers) publisher.client.close()
    }
  }, 120_000)
})
