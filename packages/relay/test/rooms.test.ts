import type { Broker, BrokerEvent, BrokerHandler } from '@confab/relay'
import { describe, expect, it, vi } from 'vitest'
import { MemoryBroker } from '../src/broker/memory'
import { Metrics } from '../src/metrics'
import { MemoryPresence } from '../src/presence/memory'
import { Rooms, type Subscriber } from '../src/rooms'
import { MemoryStore } from '../src/store/memory'
import type { SharedFrame } from '../src/writer'
import { perTest, TestStore } from './helpers'

const { relayWith, client, joinedPair } = perTest()

type Msg = { offset: number; text: string; id: string }
const texts = (frame: Record<string, unknown>) => (frame.messages as Msg[]).map((m) => m.text)

describe('history', () => {
  it('pages back with before and limit, oldest first, saying whether more is retained', async () => {
    const relay = await relayWith()
    const c = await client(relay)
    await c.join('paged')
    for (let i = 1; i <= 10; i++) await c.publish('paged', `m${i}`)
    c.send({ type: 'history', ref: 'h1', room: 'paged', before: 8, limit: 3 })
    const page = await c.next((f) => f.ref === 'h1')
    expect(page).toMatchObject({ type: 'history', room: 'paged', more: true })
    expect(texts(page)).toEqual(['m5', 'm6', 'm7'])
    c.send({ type: 'history', ref: 'h2', room: 'paged', before: 3, limit: 5 })
    const first = await c.next((f) => f.ref === 'h2')
    expect(texts(first)).toEqual(['m1', 'm2'])
    expect(first.more).toBe(false)
    c.send({ type: 'history', ref: 'h3', room: 'paged', limit: 2 })
    expect(texts(await c.next((f) => f.ref === 'h3'))).toEqual(['m9', 'm10'])
  })

  it('caps history on join at the retained history', async () => {
    const relay = await relayWith({ history: { limit: 5 } })
    const c = await client(relay)
    await c.join('capped')
    for (let i = 1; i <= 8; i++) await c.publish('capped', `m${i}`)
    const other = await client(relay)
    const joined = await other.join('capped', { history: 100 })
    expect(texts(joined)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8'])
  })
})

describe('idempotent publish', () => {
  it('answers a repeated id with the original ack and neither stores nor broadcasts it again', async () => {
    const relay = await relayWith()
    const [alice, bob] = await joinedPair(relay, 'idem')
    const first = await alice.publish('idem', 'once', { id: 'same-id' })
    const again = await alice.publish('idem', 'once', { id: 'same-id' })
    expect(again).toMatchObject({ type: 'ack', id: 'same-id', offset: first.offset, ts: first.ts })
    await alice.publish('idem', 'next', { id: 'other-id' })
    await bob.next((f) => f.type === 'message' && f.id === 'other-id')
    expect(bob.frames.filter((f) => f.type === 'message').map((f) => f.offset)).toEqual([1, 2])
  })
})

describe('resume', () => {
  it('replays every message after the given position', async () => {
    const relay = await relayWith()
    const alice = await client(relay)
    const joined = await alice.join('resume')
    for (const text of ['a', 'b', 'c']) await alice.publish('resume', text)
    const bob = await client(relay)
    const again = await bob.join('resume', { since: { epoch: joined.epoch, offset: 1 }, history: 50 })
    expect(again).toMatchObject({ recovered: true, head: 3, epoch: joined.epoch })
    expect(texts(again)).toEqual(['b', 'c'])
  })

  it('says recovered: false with recent history when the epoch differs', async () => {
    const relay = await relayWith()
    const alice = await client(relay)
    await alice.join('epoch')
    for (const text of ['a', 'b', 'c']) await alice.publish('epoch', text)
    const bob = await client(relay)
    const again = await bob.join('epoch', { since: { epoch: 'some-other-epoch', offset: 1 }, history: 1 })
    expect(again).toMatchObject({ recovered: false, head: 3 })
    expect(texts(again)).toEqual(['c'])
  })

  it('says recovered: false when the position fell out of retained history', async () => {
    const relay = await relayWith({ history: { limit: 3 } })
    const alice = await client(relay)
    const joined = await alice.join('trimmed')
    for (let i = 1; i <= 6; i++) await alice.publish('trimmed', `m${i}`)
    const bob = await client(relay)
    const again = await bob.join('trimmed', { since: { epoch: joined.epoch, offset: 1 }, history: 2 })
    expect(again).toMatchObject({ recovered: false })
    expect(texts(again)).toEqual(['m5', 'm6'])
    // The oldest retained offset is 4, so resuming from 3 is still gap-free.
    const carol = await client(relay)
    expect(await carol.join('trimmed', { since: { epoch: joined.epoch, offset: 3 } })).toMatchObject({
      recovered: true,
    })
  })
})

describe('rooms', () => {
  it('refuses a publish to a room the connection has not joined', async () => {
    const relay = await relayWith()
    const c = await client(relay)
    expect(await c.publish('elsewhere', 'hi')).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'join the room first',
      room: 'elsewhere',
    })
  })

  it('refuses joining the same room twice on one connection', async () => {
    const relay = await relayWith()
    const c = await client(relay)
    await c.join('twice')
    expect(await c.join('twice')).toMatchObject({ type: 'error', code: 'bad_request', message: 'already in this room' })
  })

  it('limits rooms per connection with limit_exceeded', async () => {
    const relay = await relayWith({ limits: { maxRooms: 2 } })
    const c = await client(relay)
    await c.join('r1')
    await c.join('r2')
    expect(await c.join('r3')).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
      message: 'at most 2 rooms per connection',
    })
    c.send({ type: 'leave', room: 'r1' })
    expect(await c.join('r3')).toMatchObject({ type: 'joined' })
  })

  it('keeps rooms apart', async () => {
    const relay = await relayWith()
    const a = await client(relay)
    const b = await client(relay)
    await a.join('left-room')
    await b.join('right-room')
    await a.publish('left-room', 'only here')
    await b.publish('right-room', 'only there')
    expect(await b.nextOf('message')).toMatchObject({ text: 'only there' })
    expect(b.frames.some((f) => f.type === 'message' && f.text === 'only here')).toBe(false)
  })
})

/** A broker that loses every third message and swaps every fifth with the one after it, as Redis pub/sub may. */
class LossyBroker implements Broker {
  readonly inner = new MemoryBroker()
  #held: [string, BrokerEvent] | null = null
  get ready() {
    return true
  }
  start(handler: BrokerHandler) {
    return this.inner.start(handler)
  }
  subscribe(room: string) {
    return this.inner.subscribe(room)
  }
  unsubscribe(room: string) {
    return this.inner.unsubscribe(room)
  }
  async publish(room: string, event: BrokerEvent) {
    if (event.type !== 'message') return this.inner.publish(room, event)
    const { offset } = event.message
    if (offset % 3 === 0) return
    if (offset % 5 === 0) {
      this.#held = [room, event]
      return
    }
    await this.inner.publish(room, event)
    const held = this.#held
    this.#held = null
    if (held) await this.inner.publish(...held)
  }
  close() {
    return this.inner.close()
  }
}

describe('delivery order', () => {
  it('delivers every message once, in offset order, when the broker loses and reorders events', async () => {
    const relay = await relayWith({
      broker: new LossyBroker(),
      store: new MemoryStore(),
      limits: { publishBurst: 100 },
    })
    const [sender, reader] = await joinedPair(relay, 'lossy')
    for (let i = 1; i <= 22; i++) await sender.publish('lossy', `m${i}`, { id: `id-${i}` })
    await reader.next((f) => f.type === 'message' && f.offset === 22)
    const offsets = reader.frames.filter((f) => f.type === 'message').map((f) => f.offset)
    expect(offsets).toEqual(Array.from({ length: 22 }, (_, i) => i + 1))
  })
})

/** A memory store that can lose everything, as a restarted memory backend would (new epochs). */
describe('history lost under a node', () => {
  it("closes the room's connections with 4200 when the epoch changes, so they resume", async () => {
    const store = new TestStore()
    const relay = await relayWith({ store })
    const old = await client(relay)
    await old.join('reset')
    await old.publish('reset', 'before the loss')
    store.reset()
    const fresh = await client(relay)
    const joined = await fresh.join('reset')
    expect(joined).toMatchObject({ type: 'joined', head: 0 })
    expect(await old.closedWith()).toEqual({ code: 4200, reason: 'resync required' })
    // The new epoch's first message reaches the connection that joined after the loss.
    await fresh.publish('reset', 'after')
    expect(await fresh.nextOf('message')).toMatchObject({ offset: 1, text: 'after' })
  })
})

describe('history lost under a node, noticed by a message', () => {
  it('closes with 4200 when a message arrives with an offset from a new epoch', async () => {
    const store = new TestStore()
    const relay = await relayWith({ store })
    const [reader, writer] = await joinedPair(relay, 'restart')
    await writer.publish('restart', 'one')
    await writer.publish('restart', 'two')
    store.reset()
    expect(await writer.publish('restart', 'one again')).toMatchObject({ type: 'ack', offset: 1 })
    expect((await reader.closedWith()).code).toBe(4200)
  })

  it('closes with 4200 when a new epoch has reached offsets beyond what was delivered here', async () => {
    const store = new TestStore()
    const relay = await relayWith({ store })
    const [reader, writer] = await joinedPair(relay, 'moved')
    await writer.publish('moved', 'old 1')
    await writer.publish('moved', 'old 2')
    await reader.next((f) => f.type === 'message' && f.offset === 2)
    store.reset()
    // Written meanwhile through another node whose fan-out never reached this one.
    for (const text of ['new 1', 'new 2', 'new 3']) {
      await store.append({ room: 'moved', id: text, from: { id: 'other', name: 'Other' }, text })
    }
    expect(await writer.publish('moved', 'new 4')).toMatchObject({ type: 'ack', offset: 4 })
    expect(await reader.closedWith()).toEqual({ code: 4200, reason: 'resync required' })
    // Offsets 3 and 4 of the new epoch were never passed off as the old epoch's continuation.
    expect(reader.frames.filter((f) => f.type === 'message').map((f) => f.text)).toEqual(['old 1', 'old 2'])
  })

  it('closes with 4200 when the history went back under the same epoch', async () => {
    const store = new TestStore()
    const relay = await relayWith({ store })
    const [reader, writer] = await joinedPair(relay, 'rewound')
    for (const text of ['one', 'two', 'three']) await writer.publish('rewound', text)
    await reader.next((f) => f.type === 'message' && f.offset === 3)
    await store.forget()
    expect(await writer.publish('rewound', 'one again')).toMatchObject({ type: 'ack', offset: 1 })
    expect(await reader.closedWith()).toEqual({ code: 4200, reason: 'resync required' })
  })
})

describe('fan-out that fails after the ack', () => {
  /** A memory broker whose next `failures` message publishes fail; with `doom`, every retry of the next one fails too. */
  class FailingBroker extends MemoryBroker {
    failures = 0
    doom = false
    readonly #doomed = new WeakSet<BrokerEvent>()
    override async publish(room: string, event: BrokerEvent): Promise<void> {
      if (event.type === 'message' && this.doom) {
        this.doom = false
        this.#doomed.add(event)
      }
      if (this.#doomed.has(event)) throw new Error('PUBLISH timed out')
      if (event.type === 'message' && this.failures > 0) {
        this.failures--
        throw new Error('PUBLISH timed out')
      }
      return super.publish(room, event)
    }
  }

  it('retries the publish, so the message arrives without waiting for the next one', async () => {
    const broker = new FailingBroker()
    const relay = await relayWith({ broker })
    const [a, b] = await joinedPair(relay, 'q')
    broker.failures = 2
    expect(await a.publish('q', 'important')).toMatchObject({ type: 'ack', offset: 1 })
    expect(await b.nextOf('message')).toMatchObject({ offset: 1, text: 'important' })
    expect(broker.failures).toBe(0)
  })

  it('fans a resend out again, so a client that got no ack repairs the fan-out', async () => {
    const broker = new FailingBroker()
    const relay = await relayWith({ broker })
    const [a, b] = await joinedPair(relay, 'q')
    broker.doom = true
    const ack = await a.publish('q', 'important', { id: 'x1' })
    const again = await a.publish('q', 'important', { id: 'x1' })
    expect(again).toMatchObject({ type: 'ack', offset: ack.offset })
    expect(await b.nextOf('message')).toMatchObject({ offset: 1, text: 'important' })
    await a.publish('q', 'next')
    await b.next((f) => f.type === 'message' && f.text === 'next')
    expect(b.frames.filter((f) => f.type === 'message').map((f) => f.offset)).toEqual([1, 2])
  })
})

describe('hot path', () => {
  it('serializes a broadcast once, however many subscribers the room has', async () => {
    const relay = await relayWith()
    const readers = await Promise.all(Array.from({ length: 30 }, () => client(relay)))
    for (const reader of readers) await reader.join('fan')
    const writer = await client(relay)
    await writer.join('fan')
    const stringify = vi.spyOn(JSON, 'stringify')
    try {
      writer.send('{"type":"publish","ref":"once","room":"fan","id":"x1","text":"to everyone"}')
      await Promise.all(readers.map((r) => r.nextOf('message')))
      // One for the ack, one for the message: not one per subscriber.
      expect(stringify.mock.calls.length).toBeLessThanOrEqual(2)
    } finally {
      stringify.mockRestore()
    }
  })
})

/** A subscriber that records every write: `send` gets one string, `deliver` one shared frame (maybe several messages). */
class Recorder implements Subscriber {
  readonly writes: string[][] = []
  constructor(readonly user: { id: string; name: string }) {}
  send(data: string): void {
    this.writes.push([data])
  }
  deliver(frame: SharedFrame): void {
    this.writes.push(frame.payloads.map((p) => p.toString()))
  }
  resync(): void {}
  /** The frame types of each write, e.g. [['joined'], ['message', 'message']]. */
  get shape(): string[][] {
    return this.writes.map((w) => w.map((d) => JSON.parse(d).type))
  }
}

async function registry(broker: Broker = new MemoryBroker()): Promise<Rooms> {
  const rooms = new Rooms({
    store: new MemoryStore(),
    broker,
    presence: new MemoryPresence(),
    metrics: new Metrics(),
    logger: { error: () => {} },
    historyLimit: 100,
    typingTimeout: 5000,
  })
  await rooms.start()
  return rooms
}

const turnEnd = () => new Promise((resolve) => setImmediate(resolve))
/** Past the flush of the batch the current turn started: a batch flushed by an immediate queued during this turn runs before the second. */
const flushed = async () => {
  await turnEnd()
  await turnEnd()
}

/** Recorders `ids` (named in capitals) joined to the room 'batch', with what their joins wrote cleared. */
async function members<Ids extends string[]>(rooms: Rooms, ...ids: Ids): Promise<{ [K in keyof Ids]: Recorder }> {
  const recorders = ids.map((id) => new Recorder({ id, name: id.toUpperCase() }))
  for (const r of recorders) await rooms.join(r, 'batch', { ref: `j${r.user.id}` })
  await flushed()
  for (const r of recorders) r.writes.length = 0
  return recorders as { [K in keyof Ids]: Recorder }
}

describe('batching', () => {
  const publish = (rooms: Rooms, text: string) =>
    rooms.publish({ room: 'batch', id: text, from: { id: 'w', name: 'W' }, text }, () => {})

  it('writes the messages one turn produced to each subscriber in one write, in offset order', async () => {
    const rooms = await registry()
    const [a, b] = await members(rooms, 'a', 'b')
    await Promise.all(['m1', 'm2', 'm3', 'm4'].map((text) => publish(rooms, text)))
    await turnEnd()
    for (const sub of [a, b]) {
      expect(sub.writes).toHaveLength(1)
      expect(sub.writes[0]?.map((d) => JSON.parse(d).offset)).toEqual([1, 2, 3, 4])
    }
    // A message of a later turn is a write of its own, with no wait beyond that turn.
    await publish(rooms, 'm5')
    await turnEnd()
    expect(a.writes.map((w) => w.length)).toEqual([4, 1])
    rooms.stop()
  })

  it("writes pending messages before a presence event, in the same write, and never before a joiner's joined", async () => {
    const rooms = await registry()
    const [a] = await members(rooms, 'a')
    const late = new Recorder({ id: 'late', name: 'Late' })
    // One turn: two messages delivered (still in the outbox), then a join, which announces the new member to `a`.
    await Promise.all([publish(rooms, 'm1'), publish(rooms, 'm2')])
    await rooms.join(late, 'batch', { ref: 'jl' })
    await flushed()
    expect(a.shape).toEqual([['message', 'message', 'presence']])
    // The joiner gets its `joined` (which lists both messages as history) and nothing from before it.
    expect(late.shape).toEqual([['joined']])
    expect(JSON.parse(late.writes[0]?.[0] ?? '{}').head).toBe(2)
    rooms.stop()
  })

  it('writes pending messages before a typing event of the same turn', async () => {
    const rooms = await registry()
    const [a, b] = await members(rooms, 'a', 'b')
    await publish(rooms, 'm1')
    expect(rooms.typing(a, 'batch', true)).toBe(true)
    await turnEnd()
    expect(b.shape).toEqual([['message'], ['typing']])
    rooms.stop()
  })

  it('flushes a room early once a batch reaches 64 KiB', async () => {
    const rooms = await registry()
    const [a] = await members(rooms, 'a')
    const big = 'x'.repeat(3000)
    await Promise.all(Array.from({ length: 30 }, (_, i) => publish(rooms, `${i}${big}`)))
    await turnEnd()
    // 30 messages of about 3 KB: at least two writes, none much past 64 KiB, every message once and in order.
    expect(a.writes.length).toBeGreaterThanOrEqual(2)
    for (const write of a.writes) expect(write.join('').length).toBeLessThan(64 * 1024 + 4000)
    expect(a.writes.flat().map((d) => JSON.parse(d).offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    rooms.stop()
  })
})

describe('presence batching', () => {
  const frames = (sub: Recorder) => sub.writes.flat().map((d) => JSON.parse(d) as Record<string, unknown>)
  const user = (id: string) => ({ id, name: id.toUpperCase() })

  it('announces 50 joins of one turn to each member in one presence frame, in one write', async () => {
    const rooms = await registry()
    const [a, b] = await members(rooms, 'a', 'b')
    const joiners = Array.from({ length: 50 }, (_, i) => new Recorder(user(`u${i}`)))
    await Promise.all(joiners.map((r) => rooms.join(r, 'batch', { ref: `j${r.user.id}` })))
    await flushed()
    for (const sub of [a, b]) {
      expect(sub.shape).toEqual([['presence']])
      expect(frames(sub)[0]).toEqual({
        type: 'presence',
        room: 'batch',
        joins: joiners.map((r) => r.user),
        leaves: [],
      })
    }
    // Each joiner got its `joined` first; the members that joined after it reach it in the same one frame.
    for (const r of joiners) {
      expect(r.shape[0]).toEqual(['joined'])
      expect(r.shape.slice(1)).toEqual([['presence']])
    }
    const last = joiners[49] as Recorder
    const listed = (JSON.parse(last.writes[0]?.[0] ?? '{}').members as { id: string }[]).map((m) => m.id)
    expect(listed).toHaveLength(52)
    rooms.stop()
  })

  it('announces nothing for a user who joined and left in the same turn, nor one who left and came back', async () => {
    const rooms = await registry()
    const [a, stays] = await members(rooms, 'a', 'stays')
    const brief = new Recorder(user('brief'))
    await rooms.join(brief, 'batch', { ref: 'jb' })
    rooms.leave(brief, 'batch')
    rooms.leave(stays, 'batch')
    const back = new Recorder(user('stays'))
    await rooms.join(back, 'batch', { ref: 'js' })
    await flushed()
    expect(a.writes).toEqual([])
    rooms.stop()
  })

  it('merges joins and leaves of one turn, local and from the broker, into one frame', async () => {
    const broker = new MemoryBroker()
    const rooms = await registry(broker)
    const [a, gone] = await members(rooms, 'a', 'gone')
    const c = new Recorder(user('c'))
    await rooms.join(c, 'batch', { ref: 'jc' })
    rooms.leave(gone, 'batch')
    await broker.publish('batch', { type: 'presence', joins: [user('x1'), user('x2')], leaves: [user('y')] })
    await flushed()
    expect(a.shape).toEqual([['presence']])
    const frame = frames(a)[0] as { leaves: { id: string }[] }
    // The local leave waits for presence to confirm it, so it may land after the broker's.
    frame.leaves.sort((p, q) => p.id.localeCompare(q.id))
    expect(frame).toEqual({
      type: 'presence',
      room: 'batch',
      joins: [user('c'), user('x1'), user('x2')],
      leaves: [user('gone'), user('y')],
    })
    rooms.stop()
  })

  it('announces a joiner before the messages it sends in the same turn, and after the earlier ones', async () => {
    const rooms = await registry()
    const [a] = await members(rooms, 'a')
    await rooms.publish({ room: 'batch', id: 'before', from: user('a'), text: 'before' }, () => {})
    const late = new Recorder(user('late'))
    await rooms.join(late, 'batch', { ref: 'jl' })
    await rooms.publish({ room: 'batch', id: 'hello', from: late.user, text: 'hello' }, () => {})
    await flushed()
    expect(a.shape).toEqual([['message', 'presence', 'message']])
    expect(frames(a).map((f) => f.text ?? f.joins)).toEqual(['before', [late.user], 'hello'])
    // The joiner: `joined` (with the earlier message as history), then only what came after it, without its own join.
    expect(late.shape).toEqual([['joined'], ['message']])
    expect(JSON.parse(late.writes[0]?.[0] ?? '{}').head).toBe(1)
    expect(frames(late)[1]).toMatchObject({ type: 'message', text: 'hello' })
    rooms.stop()
  })

  it('tells a member who joined mid-turn about a join and leave that straddle its joined', async () => {
    const rooms = await registry()
    const [a] = await members(rooms, 'a')
    const x = new Recorder(user('x'))
    const j = new Recorder(user('j'))
    await rooms.join(x, 'batch', { ref: 'jx' })
    await rooms.join(j, 'batch', { ref: 'jj' })
    // `j` was told x is here in its `joined`; x leaves in the same turn.
    expect((JSON.parse(j.writes[0]?.[0] ?? '{}').members as { id: string }[]).map((m) => m.id)).toContain('x')
    rooms.leave(x, 'batch')
    await flushed()
    // To `a` the turn changed nothing but j's arrival; `j` must hear that x left.
    expect(frames(a)).toEqual([{ type: 'presence', room: 'batch', joins: [j.user], leaves: [] }])
    expect(frames(j).slice(1)).toEqual([{ type: 'presence', room: 'batch', joins: [j.user], leaves: [x.user] }])
    rooms.stop()
  })
})
