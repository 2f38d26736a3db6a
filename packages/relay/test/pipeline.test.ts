// Pipelined publishes (connection.ts, pipeline.ts): a connection's next store append is issued
// before the previous one's round trip ends, yet offsets, acks and refusals keep the order sent,
// a resend waits for its first, and any other frame sees every publish before it.
import type { Relay, RelayOptions } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type LatencyProxy, startLatencyProxy } from '../../../bench/lib/latency-proxy.mjs'
import { REDIS_URL, redisMissing } from '../../../test/support/env'
import { MAX_IN_FLIGHT } from '../src/connection'
import { MemoryStore } from '../src/store/memory'
import type { AppendResult, Draft } from '../src/store/types'
import { perTest, type TestClient } from './helpers'
import { type Backend, memoryBackend, redisBackend, sqliteBackend } from './storage/backends'

/** No rate limit in the way of a burst (100,000 is the largest the relay accepts). */
const UNLIMITED = { publishRate: 100_000, publishBurst: 100_000, rateAbuse: 100_000 }

type Frame = TestClient['frames'][number]

/** The ids of the messages a `joined` or `history` frame carries. */
const idsIn = (frame: Frame | undefined): string[] => ((frame?.messages ?? []) as { id: string }[]).map((m) => m.id)

/** Sends `count` publishes at once, room chosen by `roomOf(i)`; returns their refs in send order. */
function burst(client: TestClient, count: number, roomOf: (i: number) => string, tag = 'p'): string[] {
  const refs: string[] = []
  for (let i = 0; i < count; i++) {
    const ref = `${tag}${i}`
    refs.push(ref)
    client.send({ type: 'publish', ref, room: roomOf(i), id: `${tag}-id-${i}`, text: `${tag} ${i}` })
  }
  return refs
}

/** Waits for the answer to the last ref, then returns the answers to all of `refs`, in arrival order. */
async function answers(client: TestClient, refs: string[], timeout = 10_000): Promise<Frame[]> {
  const last = refs.at(-1)
  await client.next((f) => f.ref === last, timeout)
  const wanted = new Set(refs)
  return client.frames.filter((f) => typeof f.ref === 'string' && wanted.has(f.ref))
}

/** Checks that each room's offsets follow the send order, one apart; returns the first offset per room. */
function expectSendOrder(acks: Frame[], roomOf: (i: number) => string): void {
  const last = new Map<string, number>()
  acks.forEach((ack, i) => {
    expect(ack).toMatchObject({ type: 'ack', room: roomOf(i) })
    const before = last.get(ack.room as string)
    if (before !== undefined) expect(ack.offset).toBe(before + 1)
    last.set(ack.room as string, ack.offset as number)
  })
}

/** A memory store whose appends wait until `release()`: shows how many a connection issued meanwhile. */
class HeldStore extends MemoryStore {
  held = 0
  #open: () => void = () => {}
  readonly #released = new Promise<void>((resolve) => {
    this.#open = resolve
  })
  override async append(draft: Draft): Promise<AppendResult> {
    this.held++
    await this.#released
    return super.append(draft)
  }
  release(): void {
    this.#open()
  }
}

/** Sends a ping and waits for the pong: the relay has read every frame sent before it. */
async function roundTrip(client: TestClient): Promise<void> {
  client.send({ type: 'ping', ref: 'sync' })
  await client.next((f) => f.type === 'pong' && f.ref === 'sync')
}

const backends: Backend[] = [memoryBackend(), sqliteBackend(), await redisBackend()]
const roomOf = (i: number) => (i % 3 === 0 ? 'b' : 'a')

describe.each(backends.filter((b) => b.missing === null))('pipelined publishes over the $name store', (backend) => {
  const t = perTest()
  afterEach(() => backend.cleanup())

  async function relayOn(options: RelayOptions = {}): Promise<Relay> {
    const { store, broker, presence } = await backend.node()
    return t.relayWith({ store, broker, presence, limits: UNLIMITED, ...options })
  }

  it('stores and acks a burst in the order sent: offsets one apart per room, acks in send order', async () => {
    const relay = await relayOn()
    const client = await t.client(relay)
    await client.join('a')
    await client.join('b')
    const refs = burst(client, 150, roomOf)
    const got = await answers(client, refs)
    expect(got.map((f) => f.ref)).toEqual(refs)
    expectSendOrder(got, roomOf)

    const reader = await t.client(relay)
    const joined = await reader.join('a', { history: 1000 })
    const sentToA = refs.flatMap((_, i) => (roomOf(i) === 'a' ? [`p-id-${i}`] : []))
    expect(idsIn(joined)).toEqual(sentToA)
  })

  it('keeps the send order when a beforePublish hook answers after random delays, refusals in their place', async () => {
    const relay = await relayOn({
      async beforePublish(context) {
        // The hook's own latency, as an HTTP hook has: later messages often pass it first.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4))
        return context.message.text.endsWith('7')
          ? { action: 'reject', code: 'forbidden', message: 'no sevens' }
          : { action: 'modify', text: `${context.message.text}!` }
      },
    })
    const client = await t.client(relay)
    await client.join('a')
    await client.join('b')
    const refs = burst(client, 60, roomOf)
    const got = await answers(client, refs)
    expect(got.map((f) => f.ref)).toEqual(refs)
    const refused = got.filter((f) => f.type === 'error')
    expect(refused.map((f) => f.ref)).toEqual(['p7', 'p17', 'p27', 'p37', 'p47', 'p57'])
    for (const error of refused) expect(error).toMatchObject({ code: 'forbidden', message: 'no sevens' })
    const kept = refs.flatMap((_, i) => (i % 10 === 7 ? [] : [i]))
    expectSendOrder(
      got.filter((f) => f.type === 'ack'),
      (n) => roomOf(kept[n] as number),
    )
    const joined = await (await t.client(relay)).join('b', { history: 100 })
    const texts = (joined.messages as { text: string }[]).map((m) => m.text)
    expect(texts).toEqual(kept.filter((i) => roomOf(i) === 'b').map((i) => `p ${i}!`))
  })

  it('answers a resend of an id still in flight with the first one’s offset, calling the hook once', async () => {
    const asked: string[] = []
    const relay = await relayOn({
      async beforePublish(context) {
        asked.push(context.message.id)
        await new Promise((resolve) => setTimeout(resolve, 5))
        return { action: 'accept' }
      },
    })
    const client = await t.client(relay)
    await client.join('a')
    const publish = (ref: string, id: string) => client.send({ type: 'publish', ref, room: 'a', id, text: id })
    publish('first', 'x')
    publish('again', 'x')
    publish('other', 'y')
    publish('third', 'x')
    const got = await answers(client, ['first', 'again', 'other', 'third'])
    expect(got.map((f) => [f.ref, f.type, f.id, f.offset])).toEqual([
      ['first', 'ack', 'x', 1],
      ['again', 'ack', 'x', 1],
      ['other', 'ack', 'y', 2],
      ['third', 'ack', 'x', 1],
    ])
    expect(asked).toEqual(['x', 'y'])
  })

  it('fans out bursts of four connections in offset order: the room never refills a gap from the store', async () => {
    const { store, broker, presence } = await backend.node()
    const relay = await t.relayWith({ store, broker, presence, limits: UNLIMITED })
    const senders = await Promise.all([1, 2, 3, 4].map(() => t.client(relay)))
    for (const sender of senders) await sender.join('a')
    // A gap (or a late duplicate) costs the room a store read: `after` to refill it, `state` to check the epoch.
    let reads = 0
    for (const method of ['after', 'state'] as const) {
      const read = store[method].bind(store) as (...args: unknown[]) => Promise<never>
      store[method] = (...args: unknown[]) => {
        reads++
        return read(...args)
      }
    }
    const refs = senders.map((sender, s) => burst(sender, 50, () => 'a', `s${s}-`))
    for (const [s, sender] of senders.entries()) await answers(sender, refs[s] as string[])
    const reader = senders[0] as TestClient
    await reader.next((f) => f.type === 'message' && f.offset === 200)
    const offsets = reader.frames.filter((f) => f.type === 'message').map((f) => f.offset)
    expect(offsets).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    expect(reads).toBe(0)
  })

  it('lets a history request, a leave and a join right after a burst see every publish of it', async () => {
    const relay = await relayOn()
    const client = await t.client(relay)
    await client.join('a')
    const refs = burst(client, 40, () => 'a')
    client.send({ type: 'history', ref: 'h', room: 'a', limit: 100 })
    client.send({ type: 'leave', ref: 'l', room: 'a' })
    client.send({ type: 'join', ref: 'j', room: 'a', history: 100 })
    const got = await answers(client, [...refs, 'h', 'l', 'j'])
    expect(got.map((f) => f.ref)).toEqual([...refs, 'h', 'l', 'j'])
    const ids = refs.map((_, i) => `p-id-${i}`)
    expect(idsIn(got.at(-3))).toEqual(ids)
    expect(idsIn(got.at(-1))).toEqual(ids)
  })
})

describe('the publish pipeline of one connection', () => {
  const t = perTest()

  it(`issues up to ${MAX_IN_FLIGHT} appends before the first completes, and no more`, async () => {
    const store = new HeldStore()
    const relay = await t.relayWith({ store, limits: UNLIMITED })
    const client = await t.client(relay)
    await client.join('a')
    const refs = burst(client, MAX_IN_FLIGHT + 8, () => 'a')
    await roundTrip(client)
    expect(store.held).toBe(MAX_IN_FLIGHT)
    store.release()
    const got = await answers(client, refs)
    expect(got.map((f) => [f.ref, f.offset])).toEqual(refs.map((ref, i) => [ref, i + 1]))
    expect(store.held).toBe(MAX_IN_FLIGHT + 8)
  })

  it('holds a history request until the publishes before it are stored', async () => {
    const store = new HeldStore()
    const relay = await t.relayWith({ store, limits: UNLIMITED })
    const client = await t.client(relay)
    await client.join('a')
    const refs = burst(client, 5, () => 'a')
    client.send({ type: 'history', ref: 'h', room: 'a', limit: 100 })
    await roundTrip(client)
    expect(store.held).toBe(5)
    expect(client.frames.some((f) => f.ref === 'h')).toBe(false)
    store.release()
    const got = await answers(client, [...refs, 'h'])
    expect(got.map((f) => f.ref)).toEqual([...refs, 'h'])
    expect(idsIn(got.at(-1))).toEqual(refs.map((_, i) => `p-id-${i}`))
  })

  it('answers refusals in their place among the acks (join first, then the rest)', async () => {
    const store = new HeldStore()
    const relay = await t.relayWith({ store, limits: UNLIMITED })
    const client = await t.client(relay)
    await client.join('a')
    const refs = burst(client, 6, (i) => (i === 2 ? 'elsewhere' : 'a'))
    await roundTrip(client)
    // The refusal is known at once, but waits for the two acks before it.
    expect(client.frames.some((f) => f.ref === 'p2')).toBe(false)
    store.release()
    const got = await answers(client, refs)
    expect(got.map((f) => [f.ref, f.type, f.offset ?? f.code])).toEqual([
      ['p0', 'ack', 1],
      ['p1', 'ack', 2],
      ['p2', 'error', 'bad_request'],
      ['p3', 'ack', 3],
      ['p4', 'ack', 4],
      ['p5', 'ack', 5],
    ])
  })
})

const redisDown = await redisMissing(REDIS_URL)

describe.skipIf(redisDown !== null)('publishes to a Redis 10 ms away (a proxy adding 5 ms each way)', () => {
  const t = perTest()
  let proxy: LatencyProxy
  let backend: Backend
  beforeAll(async () => {
    const { hostname, port } = new URL(REDIS_URL)
    proxy = await startLatencyProxy({ host: hostname, port: Number(port || 6379), delay: 5 })
    backend = await redisBackend(`redis://127.0.0.1:${proxy.port}`)
  })
  afterAll(async () => {
    await backend?.cleanup()
    await proxy?.close()
  })

  it('acks 200 publishes of one connection in order within half a round trip each', async () => {
    const { store, broker, presence } = await backend.node()
    const relay = await t.relayWith({ store, broker, presence, limits: UNLIMITED })
    const client = await t.client(relay)
    await client.join('a')
    const started = performance.now()
    const refs = burst(client, 200, () => 'a')
    const got = await answers(client, refs, 30_000)
    const elapsed = performance.now() - started
    expect(got.map((f) => [f.ref, f.offset])).toEqual(refs.map((ref, i) => [ref, i + 1]))
    // One at a time, each publish waits a round trip for its append and one for its fan-out: 4 s at the least.
    expect(elapsed).toBeLessThan(200 * 5)
  })
})
