// room.send end to end inside the SDK: outbox, acks, resends, timeouts (client.ts + outbox.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConnectOptions } from '../src/client'
import { ConfabError } from '../src/errors'
import type { PublishFrame } from '../src/protocol'
import { ALICE, FakeSocket, WELCOME } from './support/fake-socket'
import { joined, setup } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function lobby(options: ConnectOptions = {}) {
  const t = setup(options)
  const room = t.client.join('lobby')
  const open = () => {
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined())
  }
  const ack = (p: PublishFrame | undefined, offset: number) =>
    FakeSocket.last.receive({ type: 'ack', ref: p?.ref ?? '', room: 'lobby', id: p?.id ?? '', offset, ts: 42 })
  return { ...t, room, open, ack }
}

describe('send', () => {
  it('publishes at once when joined and resolves with the stored message from the ack', async () => {
    const { room, open, ack } = lobby()
    open()
    const sent = room.send('Hi humans!', { meta: { lang: 'en' } })
    const p = FakeSocket.last.sentOf('publish')[0]
    expect(p).toMatchObject({ type: 'publish', room: 'lobby', text: 'Hi humans!', meta: { lang: 'en' } })
    expect(p?.ref).toBe(p?.id)
    ack(p, 7)
    await expect(sent).resolves.toEqual({
      room: 'lobby',
      offset: 7,
      id: p?.id,
      from: ALICE,
      text: 'Hi humans!',
      meta: { lang: 'en' },
      ts: 42,
    })
  })

  it('queues while offline and flushes in order after welcome and joined', async () => {
    const { room, ack } = lobby()
    const a = room.send('one')
    const b = room.send('two')
    const c = room.send('three')
    expect(FakeSocket.last.sent).toEqual([])
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('publish')).toEqual([]) // not before joined
    FakeSocket.last.receive(joined())
    const pubs = FakeSocket.last.sentOf('publish')
    expect(pubs.map((p) => p.text)).toEqual(['one', 'two', 'three'])
    for (const [i, p] of pubs.entries()) ack(p, i + 1)
    expect((await Promise.all([a, b, c])).map((m) => m.offset)).toEqual([1, 2, 3])
  })

  it('resends an unacked message with the same id after a reconnect', async () => {
    const { room, open, ack } = lobby()
    open()
    const sent = room.send('lost ack')
    const first = FakeSocket.last.sentOf('publish')[0]
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500)
    open()
    const again = FakeSocket.last.sentOf('publish')
    expect(again).toHaveLength(1)
    expect(again[0]?.id).toBe(first?.id)
    ack(again[0], 3)
    await expect(sent).resolves.toMatchObject({ offset: 3, id: first?.id })
  })

  it('waits in the outbox beyond sendTimeout while offline, then times out once on the wire', async () => {
    const { room, open } = lobby({ sendTimeout: 1_000 })
    const sent = room.send('patient')
    let settled = false
    sent.then(
      () => {},
      () => {
        settled = true
      },
    )
    await vi.advanceTimersByTimeAsync(5_000)
    expect(settled).toBe(false)
    open()
    await vi.advanceTimersByTimeAsync(999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(sent).rejects.toMatchObject({ code: 'timeout', message: 'no ack within 1000 ms' })
  })

  it('rejects with the relay code when the relay refuses the publish', async () => {
    const { room, open } = lobby()
    open()
    const sent = room.send('x'.repeat(5_000))
    const ref = FakeSocket.last.sentOf('publish')[0]?.ref
    FakeSocket.last.receive({ type: 'error', ref, room: 'lobby', code: 'too_large', message: 'text over 4000' })
    const error = await sent.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfabError)
    expect(error).toMatchObject({ code: 'too_large', message: 'text over 4000' })
  })

  it('rejects with limit_exceeded when the outbox is full', async () => {
    const { room } = lobby({ outbox: 2 })
    void room.send('1')
    void room.send('2')
    await expect(room.send('3')).rejects.toMatchObject({
      code: 'limit_exceeded',
      message: 'outbox full: 2 messages already wait for the relay',
    })
  })

  it('rejects waiting and new sends with closed after close()', async () => {
    const { client, room } = lobby()
    const waiting = room.send('queued')
    client.close()
    await expect(waiting).rejects.toMatchObject({ code: 'closed', message: 'client closed' })
    await expect(room.send('late')).rejects.toMatchObject({ code: 'closed' })
  })

  it("rejects the room's waiting messages with the relay code when the join is refused", async () => {
    const { room, errors } = lobby()
    const waiting = room.send('hello?')
    FakeSocket.last.welcome()
    FakeSocket.last.receive({
      type: 'error',
      ref: 'join:lobby',
      room: 'lobby',
      code: 'forbidden',
      message: 'not allowed in this room',
    })
    await expect(waiting).rejects.toMatchObject({ code: 'forbidden', message: 'not allowed in this room' })
    expect(errors.map((e) => e.code)).toEqual(['forbidden'])
  })

  it('retries a join the relay could not serve (unavailable) after retryAfter, then flushes', () => {
    const { room, errors } = lobby()
    void room.send('patient')
    FakeSocket.last.welcome()
    const error = {
      type: 'error',
      ref: 'join:lobby',
      room: 'lobby',
      code: 'unavailable',
      message: 'store down',
    } as const
    FakeSocket.last.receive({ ...error, retryAfter: 2_000 })
    expect(errors.map((e) => e.code)).toEqual(['unavailable'])
    vi.advanceTimersByTime(1_999)
    expect(FakeSocket.last.sentOf('join')).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.last.sentOf('join')).toHaveLength(2)
    FakeSocket.last.receive(joined())
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['patient'])
  })

  it('rejects a send on a room that was left with closed, instead of waiting forever', async () => {
    const { room, open } = lobby()
    open()
    room.leave()
    await expect(room.send('too late')).rejects.toMatchObject({ code: 'closed', message: 'left room lobby' })
    expect(FakeSocket.last.sentOf('publish')).toEqual([])
  })

  it('gives every message its own id', () => {
    const { room, open } = lobby()
    open()
    for (let i = 0; i < 50; i++) void room.send(`m${i}`)
    vi.advanceTimersByTime(5_000) // 50 messages at 10 per second after a burst of 20
    const ids = FakeSocket.last.sentOf('publish').map((p) => p.id)
    expect(new Set(ids).size).toBe(50)
  })
})

describe('pacing', () => {
  it("paces a flushed outbox to the relay's publish rate instead of being refused", () => {
    const { room } = lobby()
    for (let i = 0; i < 5; i++) void room.send(`m${i}`)
    FakeSocket.last.welcome({ limits: { ...WELCOME.limits, publishRate: 10, publishBurst: 2 } })
    FakeSocket.last.receive(joined())
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1'])
    vi.advanceTimersByTime(100)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1', 'm2'])
    vi.advanceTimersByTime(200)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it('a live send waits behind queued ones, so order holds', () => {
    const { room } = lobby()
    FakeSocket.last.welcome({ limits: { ...WELCOME.limits, publishRate: 1, publishBurst: 1 } })
    FakeSocket.last.receive(joined())
    void room.send('first')
    void room.send('second')
    void room.send('third')
    vi.advanceTimersByTime(2_000)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['first', 'second', 'third'])
  })

  it.each(['rate_limited', 'unavailable'] as const)(
    'resends a publish refused with %s after retryAfter, same id',
    async (code) => {
      const { room, open, ack } = lobby()
      open()
      const sent = room.send('again')
      const first = FakeSocket.last.sentOf('publish')[0]
      FakeSocket.last.receive({
        type: 'error',
        ref: first?.ref,
        room: 'lobby',
        code,
        message: 'not now',
        retryAfter: 300,
      })
      vi.advanceTimersByTime(299)
      expect(FakeSocket.last.sentOf('publish')).toHaveLength(1)
      vi.advanceTimersByTime(1)
      const again = FakeSocket.last.sentOf('publish')
      expect(again).toHaveLength(2)
      expect(again[1]?.id).toBe(first?.id)
      ack(again[1], 9)
      await expect(sent).resolves.toMatchObject({ offset: 9, text: 'again' })
    },
  )
})

describe('retry with the same id', () => {
  it('publishes with the id the app gives', async () => {
    const { room, open, ack } = lobby()
    open()
    const sent = room.send('mine', { id: 'app-1', meta: { v: 2 } })
    const p = FakeSocket.last.sentOf('publish')[0]
    expect(p).toMatchObject({ ref: 'app-1', id: 'app-1', text: 'mine', meta: { v: 2 } })
    ack(p, 4)
    await expect(sent).resolves.toMatchObject({ id: 'app-1', offset: 4, meta: { v: 2 } })
  })

  it("a rejected send's error carries the message id; sending again with it reuses the id", async () => {
    const { room, open, ack } = lobby({ sendTimeout: 1_000 })
    open()
    const sent = room.send('maybe stored')
    const first = FakeSocket.last.sentOf('publish')[0]
    vi.advanceTimersByTime(1_000)
    const error = (await sent.catch((e: unknown) => e)) as ConfabError
    expect(error).toBeInstanceOf(ConfabError)
    expect(error).toMatchObject({ code: 'timeout', message: 'no ack within 1000 ms', id: first?.id })
    const again = room.send('maybe stored', { id: error.id })
    const second = FakeSocket.last.sentOf('publish')[1]
    expect(second?.id).toBe(first?.id)
    // The relay had stored the first attempt: it answers with the original ack.
    ack(second, 3)
    await expect(again).resolves.toMatchObject({ id: first?.id, offset: 3, text: 'maybe stored' })
  })

  it('carries the id on every kind of rejection: relay code, closed', async () => {
    const { client, room, open } = lobby()
    open()
    const refused = room.send('x', { id: 'r1' })
    FakeSocket.last.receive({ type: 'error', ref: 'r1', room: 'lobby', code: 'too_large', message: 'too long' })
    await expect(refused).rejects.toMatchObject({ code: 'too_large', message: 'too long', id: 'r1' })
    FakeSocket.last.drop()
    const waiting = room.send('y', { id: 'c1' })
    client.close()
    await expect(waiting).rejects.toMatchObject({ code: 'closed', message: 'client closed', id: 'c1' })
  })

  it('refuses a second send with the id of a message still waiting, and the first still settles', async () => {
    const { room, open, ack } = lobby()
    const first = room.send('one', { id: 'dup' })
    await expect(room.send('two', { id: 'dup' })).rejects.toMatchObject({
      code: 'bad_request',
      message: 'message dup is already waiting for the relay',
    })
    open()
    const pubs = FakeSocket.last.sentOf('publish')
    expect(pubs.map((p) => p.text)).toEqual(['one'])
    ack(pubs[0], 1)
    await expect(first).resolves.toMatchObject({ id: 'dup', text: 'one' })
  })
})
