// Property: whatever sequence of sends, edits, deletes, reactions, dropped links and relay restarts happens, every
// SDK client's view (built only from its `message`, `update` and `reset` events) ends equal to the room's history
// as the relay serves it to that client (current state, `mine` included). Real relay on a SQLite file (a restart
// keeps the log), each client behind its own fault proxy so one link can drop while the others stay; and on two
// relay processes over Redis, where a "restart" SIGKILLs one node mid-sequence and its clients move to the other.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Relay } from '@confab/relay'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../../test/support/env'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { RelayNode } from '../../../relay/test/scale/relay-node'
import type { Client } from '../../src/client'
import type { Message } from '../../src/protocol'
import type { Room } from '../../src/room'
import { client, closeClients, joinedRoom, portOf, startRelay } from './support'

const EMOJI = ['👍', '🎉', '❤️']
const reconnect = { minDelay: 10, maxDelay: 100 }
let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-sdk-lifecycle-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

type Op =
  | { kind: 'send'; who: number }
  | { kind: 'edit' | 'delete'; who: number; pick: number }
  | { kind: 'react'; who: number; pick: number; emoji: number }
  | { kind: 'drop'; who: number }
  | { kind: 'restart' }

const who = fc.integer({ min: 0, max: 2 })
const pick = fc.nat(50)
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), who }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('edit' as const), who, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), who, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('react' as const), who, pick, emoji: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), who }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
)

/** Up to `max` ops with one restart (or node kill) among them, so that every run has one. */
const sequence = (max: number): fc.Arbitrary<Op[]> =>
  fc
    .tuple(fc.array(op, { minLength: 2, maxLength: max / 2 }), fc.array(op, { minLength: 1, maxLength: max / 2 }))
    .map(([before, after]) => [...before, { kind: 'restart' as const }, ...after])

/** A client's view: the messages by offset, from its events alone. */
function view(room: Room) {
  const byOffset = new Map<number, Message>()
  let delivered = 0
  const waiters: { offset: number; resolve: () => void }[] = []
  room.on('message', (m) => {
    byOffset.set(m.offset, m)
    delivered = m.offset
    for (const w of waiters.filter((w) => delivered >= w.offset)) w.resolve()
  })
  room.on('update', (m) => void byOffset.set(m.offset, m))
  room.on('reset', () => byOffset.clear())
  return {
    messages: () => [...byOffset.values()].sort((a, b) => a.offset - b.offset),
    /** Resolves once the message at `offset` was delivered (so everything before it, in log order). */
    reached(offset: number, ms = 15_000): Promise<void> {
      if (delivered >= offset) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${room.name}: at ${delivered}, wanted ${offset}`)), ms)
        waiters.push({
          offset,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/** Where the relays run: the ports of the three clients' first targets, a restart, and the end. */
interface Relays {
  ports(): number[]
  /** Takes a relay down and up again, moving the proxies as needed. */
  restart(proxies: FaultProxy[]): Promise<void>
  stop(): Promise<void>
}

/** One relay on a SQLite file, restarted in process (on a new port: the proxies follow). */
async function sqliteRelay(): Promise<Relays> {
  const data = join(dir, `${randomUUID()}.db`)
  let relay: Relay = await startRelay({ data })
  return {
    ports: () => [0, 1, 2].map(() => portOf(relay)),
    async restart(proxies) {
      for (const p of proxies) {
        p.refuse(true)
        p.cut()
      }
      await relay.stop()
      relay = await startRelay({ data })
      for (const p of proxies) {
        p.retarget({ port: portOf(relay) })
        p.refuse(false)
      }
    },
    stop: () => relay.stop(),
  }
}

/** Two relay processes over Redis: client 0 on the first, 1 and 2 on the second; a restart SIGKILLs one node. */
async function redisCluster(): Promise<Relays> {
  const nodes = [await RelayNode.start('a', REDIS_URL), await RelayNode.start('b', REDIS_URL)]
  let victim = 1
  return {
    ports: () => [nodes[0]?.port ?? 0, nodes[1]?.port ?? 0, nodes[1]?.port ?? 0],
    async restart(proxies) {
      const dead = nodes[victim] as RelayNode
      const alive = nodes[1 - victim] as RelayNode
      for (const p of proxies) p.retarget({ port: alive.port })
      await dead.kill()
      // Those on the dead node lost their link with it; the others are moved too, so that all end on one node.
      for (const p of proxies) p.cut()
      await dead.restart()
      victim = 1 - victim
    },
    async stop() {
      for (const n of nodes) await n.kill()
    },
  }
}

/** One run: fresh relays and room, three clients, the ops in order (each awaited: queued ones wait out a drop). */
async function run(relays: Relays, ops: Op[]): Promise<void> {
  const proxies: FaultProxy[] = []
  try {
    for (const port of relays.ports()) proxies.push(await startFaultProxy({ port }))
    const clients: Client[] = proxies.map((p, i) => client(p.url, { name: `user${i}`, reconnect }))
    const name = `prop-${randomUUID().slice(0, 8)}`
    const rooms = clients.map((c) => c.join(name))
    const views = rooms.map(view)
    await Promise.all(rooms.map((r) => joinedRoom(r)))
    const stored: number[] = []
    let serial = 0
    const target = (n: number): number => stored[n % stored.length] ?? 1

    for (const o of ops) {
      switch (o.kind) {
        case 'send': {
          const m = await (rooms[o.who] as Room).send(`m${++serial}`)
          stored.push(m.offset)
          break
        }
        case 'edit':
        case 'delete':
        case 'react': {
          if (!stored.length) break
          const room = rooms[o.who] as Room
          const offset = target(o.pick)
          const done =
            o.kind === 'react'
              ? room.react(offset, EMOJI[o.emoji] as string)
              : o.kind === 'edit'
                ? room.edit(offset, `e${++serial}`)
                : room.delete(offset)
          // Another's message (forbidden) or a deleted one (not_found) is refused: the views must still agree.
          await done.catch((e: { code: string }) => expect(['forbidden', 'not_found']).toContain(e.code))
          break
        }
        case 'drop':
          ;(proxies[o.who] as FaultProxy).cut()
          break
        case 'restart':
          await relays.restart(proxies)
          break
      }
    }
    // A last message: once every client delivered it, each has seen the whole log.
    const last = await (rooms[0] as Room).send('end')
    await Promise.all(views.map((v) => v.reached(last.offset)))
    for (const [i, room] of rooms.entries()) {
      const history = await room.history({ limit: 1_000 })
      expect((views[i] as ReturnType<typeof view>).messages(), `client ${i}`).toEqual(history)
    }
  } finally {
    closeClients()
    for (const p of proxies) await p.close()
    await relays.stop()
  }
}

it('every client ends with the history, through drops and relay restarts (SQLite)', async () => {
  const property = fc.asyncProperty(sequence(24), async (ops) => run(await sqliteRelay(), ops))
  await fc.assert(property, { numRuns: 8, endOnFailure: true })
}, 60_000)

const redisAbsent = await redisMissing(REDIS_URL)

describe.skipIf(redisAbsent !== null)('on two nodes over Redis', () => {
  it('every client ends with the history, through drops and a node killed mid-sequence', async () => {
    const property = fc.asyncProperty(sequence(16), async (ops) => run(await redisCluster(), ops))
    await fc.assert(property, { numRuns: 2, endOnFailure: true })
  }, 60_000)
})
