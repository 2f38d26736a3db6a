// room.send end to end inside the SDK: outbox, acks, resends, timeouts, pacing, room names (sender.ts + outbox.ts, through client.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConnectOptions } from '../src/client'
import { ConfabError } from '../src/errors'
import type { PublishFrame, RelayFrame } from '../src/protocol'
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
  /** The newest publish on the newest socket. */
  const lastPublish = () => FakeSocket.last.sentOf('publish').at(-1)
  return { ...t, room, open, ack, lastPublish }
}

/**
 * Plays the relay's store on the newest socket: every publish is answered in a microtask, by
 * `answer` when it returns a frame, otherwise stored (texts in `stored`, offsets from 1) and acked.
 */
function store(answer: (p: PublishFrame) => RelayFrame | undefined = () => undefined) {
  const ws = FakeSocket.last
  const stored: string[] = []
  const send = ws.send.bind(ws)
  ws.send = (data: string) => {
    send(data)
    const p = JSON.parse(data) as PublishFrame
    if (p.type !== 'publish') return
    queueMicrotask(() => {
      const frame = answer(p)
      if (frame) return ws.receive(frame)
      stored.push(p.text)
      ws.receive({ type: 'ack', ref: p.ref, room: p.room, id: p.id, offset: stored.length, ts: 42 })
    })
  }
  return stored
}

describe('send', () => {
  it('publishes at once when joined and resolves with the stored message from the ack', async () => {
    const { room, open, ack } = lobby()
    open()
    const sent = room.send('Hi humans!', { meta: { lang: 'en' } })
    const p = FakeSocket.last.sentOf('publish')[0]
    expect(p).toMatchObject({ type: 'publish', room: 'lobby', text: 'Hi humans!', meta: { lang: 'en' } })
    expect(p?.ref).toMatch(/^#\d+$/) // the SDK's own ref, not the message id
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

  it('queues while offline and flushes in order after welcome and joined, one on the wire at a time', async () => {
    const { room, ack, lastPublish } = lobby()
    const a = room.send('one')
    const b = room.send('two')
    const c = room.send('three')
    expect(FakeSocket.last.sent).toEqual([])
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('publish')).toEqual([]) // not before joined
    FakeSocket.last.receive(joined())
    const texts = () => FakeSocket.last.sentOf('publish').map((p) => p.text)
    expect(texts()).toEqual(['one'])
    ack(lastPublish(), 1)
    expect(texts()).toEqual(['one', 'two'])
    ack(lastPublish(), 2)
    expect(texts()).toEqual(['one', 'two', 'three'])
    ack(lastPublish(), 3)
    expect((await Promise.all([a, b, c])).map((m) => m.offset)).toEqual([1, 2, 3])
  })

  it('keeps one publish per room on the wire, without holding up other rooms', () => {
    const { client, room, open } = lobby()
    open()
    const other = client.join('other')
    FakeSocket.last.receive(joined({ ref: 'other', room: 'other' }))
    void room.send('l1')
    void room.send('l2')
    void other.send('o1')
    expect(FakeSocket.last.sentOf('publish').map((p) => `${p.room}:${p.text}`)).toEqual(['lobby:l1', 'other:o1'])
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
      message: 'outbox full: 2 waiting',
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
      ref: 'lobby',
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
      ref: 'lobby',
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

  it('gives every message its own id', async () => {
    const { room, open } = lobby()
    open()
    const stored = store()
    for (let i = 0; i < 50; i++) void room.send(`m${i}`)
    await vi.advanceTimersByTimeAsync(5_000) // 50 messages at 10 per second after a burst of 20
    expect(stored).toHaveLength(50)
    const ids = FakeSocket.last.sentOf('publish').map((p) => p.id)
    expect(new Set(ids).size).toBe(50)
  })

  it('never mistakes an app id for one of its own refs: an answer to a history request stays with it', async () => {
    const { room, open, ack } = lobby()
    open()
    // Before refs and ids were apart, the publish of id '#1' had ref '#1', like the first history request.
    const sent = room.send('looks like a ref', { id: '#1' })
    const page = room.history()
    const asked = FakeSocket.last.sentOf('history')[0]
    const p = FakeSocket.last.sentOf('publish')[0]
    expect(p?.ref).not.toBe(asked?.ref)
    FakeSocket.last.receive({
      type: 'error',
      ref: asked?.ref,
      room: 'lobby',
      code: 'not_found',
      message: 'no such page',
    })
    await expect(page).rejects.toMatchObject({ code: 'not_found', message: 'no such page' })
    ack(p, 5)
    await expect(sent).resolves.toMatchObject({ id: '#1', offset: 5, text: 'looks like a ref' })
  })

  it("never mistakes an app id for a join's ref: a refused join still fails all the room's messages", async () => {
    const { room, errors } = lobby()
    // Before refs and ids were apart, this message's publish had the join's ref, and took the refusal for its own.
    const a = room.send('one', { id: 'lobby' }).catch((e: unknown) => e)
    const b = room.send('two').catch((e: unknown) => e)
    FakeSocket.last.welcome()
    FakeSocket.last.receive({ type: 'error', ref: 'lobby', room: 'lobby', code: 'forbidden', message: 'not here' })
    expect(await a).toMatchObject({ code: 'forbidden', message: 'not here', id: 'lobby' })
    expect(await b).toMatchObject({ code: 'forbidden', message: 'not here' })
    expect(errors.map((e) => e.code)).toEqual(['forbidden'])
  })
})

describe('a message or room the relay cannot serve', () => {
  it('fails the publish on the wire when an error without a ref names its room, and sends the next one', async () => {
    const { room, open, ack, lastPublish, errors } = lobby()
    open()
    const bad = room.send('hi', { meta: { card: { prototype: 'x' } } })
    const next = room.send('second')
    // What a relay that could not parse the frame, so could not read its ref, answers.
    FakeSocket.last.receive({
      type: 'error',
      room: 'lobby',
      code: 'bad_request',
      message: 'key "prototype" is not allowed',
    })
    await expect(bad).rejects.toMatchObject({ code: 'bad_request', message: 'key "prototype" is not allowed' })
    expect(lastPublish()?.text).toBe('second')
    ack(lastPublish(), 1)
    await expect(next).resolves.toMatchObject({ offset: 1, text: 'second' })
    expect(errors).toEqual([])
  })

  it('times out a message the relay keeps answering unavailable at sendTimeout; it stays queued and is stored once later', async () => {
    const { room, open } = lobby({ sendTimeout: 1_000 })
    open()
    let down = true
    const stored = store((p) =>
      down
        ? { type: 'error', ref: p.ref, room: 'lobby', code: 'unavailable', message: 'store down', retryAfter: 300 }
        : undefined,
    )
    const failed = room.send('patient').catch((e: unknown) => e as ConfabError)
    await vi.advanceTimersByTimeAsync(999)
    expect(FakeSocket.last.sentOf('publish').length).toBeGreaterThan(1) // retried meanwhile, same deadline
    await vi.advanceTimersByTimeAsync(1)
    const error = await failed
    expect(error).toMatchObject({ code: 'timeout', message: 'no ack within 1000 ms' })
    const again = room.send('patient', { id: error.id })
    down = false
    await vi.advanceTimersByTimeAsync(300)
    await expect(again).resolves.toMatchObject({ id: error.id, offset: 1, text: 'patient' })
    expect(stored).toEqual(['patient'])
  })

  it.each(['limit_exceeded', 'forbidden'] as const)(
    'after a join refused with %s, rejects sends and history requests at once until a join succeeds',
    async (code) => {
      const { room, errors } = lobby()
      FakeSocket.last.welcome()
      const refusal = { type: 'error', ref: 'lobby', room: 'lobby', code, message: 'no' } as const
      FakeSocket.last.receive(refusal)
      expect(errors.map((e) => e.code)).toEqual([code])
      await expect(room.send('hello?')).rejects.toMatchObject({ code, message: 'no' })
      await expect(room.history()).rejects.toMatchObject({ code, message: 'no' })
      expect(FakeSocket.last.sentOf('join')).toHaveLength(1) // not asked again on this socket
      FakeSocket.last.drop()
      await vi.advanceTimersByTimeAsync(500)
      FakeSocket.last.welcome() // a new connection joins again
      void room.send('now?')
      FakeSocket.last.receive(joined())
      expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['now?'])
    },
  )
})

describe('room names', () => {
  const NAME_RULE = 'invalid room name'

  it.each([
    ['an empty name', ''],
    ['a 10,000-character name', 'x'.repeat(10_000)],
    ['a name with a control character', 'lob\u0007by'],
    ['a 65-character name', 'a'.repeat(65)],
    ['a name with a space', 'the lobby'],
  ])(
    'refuses %s at once: bad_request on error, send and history reject, nothing goes to the relay',
    async (_, name) => {
      const { client, errors } = setup()
      const room = client.join(name)
      expect(errors.map((e) => [e.code, e.message])).toEqual([['bad_request', NAME_RULE]])
      expect(errors[0]).toBeInstanceOf(ConfabError)
      FakeSocket.last.welcome()
      await expect(room.send('hello?')).rejects.toMatchObject({ code: 'bad_request', message: NAME_RULE })
      await expect(room.history()).rejects.toMatchObject({ code: 'bad_request', message: NAME_RULE })
      // Not after a reconnect either, and joining the name again returns the same refused room without a second error.
      FakeSocket.last.drop()
      await vi.advanceTimersByTimeAsync(500)
      FakeSocket.last.welcome()
      expect(client.join(name)).toBe(room)
      room.leave()
      expect(FakeSocket.all.flatMap((s) => s.sent).filter((f) => f.type !== 'hello')).toEqual([])
      expect(errors).toHaveLength(1)
    },
  )

  it('accepts every character the relay does, up to 64 of them', () => {
    setup().client.join('Az09_.:@-')
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('join').map((j) => j.room)).toEqual(['Az09_.:@-'])
  })

  it('matches a join refusal by its ref when the error names no room', async () => {
    const { room, errors } = lobby()
    const waiting = room.send('hi').catch((e: unknown) => e)
    FakeSocket.last.welcome()
    // What a relay answers when it cannot accept the join's room field: the ref, and no room.
    FakeSocket.last.receive({ type: 'error', ref: 'lobby', code: 'bad_request', message: 'bad room' })
    expect(await waiting).toMatchObject({ code: 'bad_request', message: 'bad room' })
    await expect(room.history()).rejects.toMatchObject({ code: 'bad_request' })
    expect(errors.map((e) => e.code)).toEqual(['bad_request'])
  })

  it("gives a 64-character room a join ref within the relay's 64 characters, and matches its answers by it", async () => {
    const { client, errors } = setup()
    const name = 'r'.repeat(64)
    const room = client.join(name)
    const waiting = room.send('hi').catch((e: unknown) => e)
    FakeSocket.last.welcome()
    const [join] = FakeSocket.last.sentOf('join')
    expect(join?.room).toBe(name)
    expect(join?.ref.length).toBeLessThanOrEqual(64)
    FakeSocket.last.receive({ type: 'error', ref: join?.ref, code: 'forbidden', message: 'not you' })
    expect(await waiting).toMatchObject({ code: 'forbidden', message: 'not you' })
    expect(errors.map((e) => e.code)).toEqual(['forbidden'])
  })

  it('does not take an error for another ref as a refusal of the join', async () => {
    const { room, errors } = lobby()
    FakeSocket.last.welcome()
    FakeSocket.last.receive({ type: 'error', ref: 'other', code: 'forbidden', message: 'not there' })
    FakeSocket.last.receive(joined())
    const sent = room.send('still fine')
    const [p] = FakeSocket.last.sentOf('publish')
    FakeSocket.last.receive({ type: 'ack', ref: p?.ref ?? '', room: 'lobby', id: p?.id ?? '', offset: 1, ts: 42 })
    await expect(sent).resolves.toMatchObject({ offset: 1 })
    expect(errors.map((e) => e.code)).toEqual(['forbidden'])
  })
})

describe('pacing', () => {
  it("paces a flushed outbox to the relay's publish rate instead of being refused", async () => {
    const { room } = lobby()
    for (let i = 0; i < 5; i++) void room.send(`m${i}`)
    FakeSocket.last.welcome({ limits: { ...WELCOME.limits, publishRate: 10, publishBurst: 2 } })
    store()
    FakeSocket.last.receive(joined())
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1'])
    await vi.advanceTimersByTimeAsync(99)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1'])
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1', 'm2'])
    await vi.advanceTimersByTimeAsync(200)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it('a live send waits behind queued ones, so order holds', async () => {
    const { room } = lobby()
    FakeSocket.last.welcome({ limits: { ...WELCOME.limits, publishRate: 1, publishBurst: 1 } })
    const stored = store()
    FakeSocket.last.receive(joined())
    void room.send('first')
    void room.send('second')
    void room.send('third')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['first', 'second', 'third'])
    expect(stored).toEqual(['first', 'second', 'third'])
  })

  it.each(['unavailable', 'rate_limited'] as const)(
    'keeps the order when the relay answers the first message %s and would take the next ones',
    async (code) => {
      const { room, open } = lobby()
      open()
      let refused = false
      const stored = store((p) => {
        if (p.text !== 'A' || refused) return undefined
        refused = true
        return { type: 'error', ref: p.ref, room: 'lobby', code, message: 'not now', retryAfter: 500 }
      })
      const sends = ['A', 'B', 'C'].map((t) => room.send(t))
      await vi.advanceTimersByTimeAsync(499)
      expect(stored).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(stored).toEqual(['A', 'B', 'C'])
      expect((await Promise.all(sends)).map((m) => `${m.offset}:${m.text}`)).toEqual(['1:A', '2:B', '3:C'])
      expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['A', 'A', 'B', 'C'])
    },
  )

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
    expect(p).toMatchObject({ id: 'app-1', text: 'mine', meta: { v: 2 } })
    expect(p?.ref).toMatch(/^#\d+$/)
    ack(p, 4)
    await expect(sent).resolves.toMatchObject({ id: 'app-1', offset: 4, meta: { v: 2 } })
  })

  it("a rejected send's error carries the message id; sending again with it reuses the id", async () => {
    const { room, open, ack } = lobby()
    open()
    const sent = room.send('refused', { id: 'r1' })
    const first = FakeSocket.last.sentOf('publish')[0]
    FakeSocket.last.receive({ type: 'error', ref: first?.ref, room: 'lobby', code: 'internal', message: 'oops' })
    const error = (await sent.catch((e: unknown) => e)) as ConfabError
    expect(error).toBeInstanceOf(ConfabError)
    expect(error).toMatchObject({ code: 'internal', message: 'oops', id: 'r1' })
    const again = room.send('refused', { id: error.id })
    const second = FakeSocket.last.sentOf('publish')[1]
    expect(second?.id).toBe('r1')
    ack(second, 3)
    await expect(again).resolves.toMatchObject({ id: 'r1', offset: 3, text: 'refused' })
  })

  it('carries the id on every kind of rejection: relay code, closed', async () => {
    const { client, room, open } = lobby()
    open()
    const refused = room.send('x', { id: 'r1' })
    const ref = FakeSocket.last.sentOf('publish')[0]?.ref
    FakeSocket.last.receive({ type: 'error', ref, room: 'lobby', code: 'too_large', message: 'too long' })
    await expect(refused).rejects.toMatchObject({ code: 'too_large', message: 'too long', id: 'r1' })
    FakeSocket.last.drop()
    const waiting = room.send('y', { id: 'c1' })
    client.close()
    await expect(waiting).rejects.toMatchObject({ code: 'closed', message: 'client closed', id: 'c1' })
  })

  it('a second send with the id of a message still waiting waits for that message: one frame, both settle', async () => {
    const { room, open, ack } = lobby({ outbox: 1 })
    const first = room.send('one', { id: 'dup' })
    const second = room.send('one', { id: 'dup' }) // attached, so it takes no outbox slot
    open()
    const pubs = FakeSocket.last.sentOf('publish')
    expect(pubs.map((p) => p.text)).toEqual(['one'])
    ack(pubs[0], 1)
    await expect(first).resolves.toMatchObject({ id: 'dup', offset: 1, text: 'one' })
    await expect(second).resolves.toMatchObject({ id: 'dup', offset: 1, text: 'one' })
  })

  it('the same id in another room is another message', () => {
    const { client, room, open } = lobby()
    open()
    const other = client.join('other')
    FakeSocket.last.receive(joined({ ref: 'other', room: 'other' }))
    void room.send('here', { id: 'same' })
    void other.send('there', { id: 'same' })
    expect(FakeSocket.last.sentOf('publish').map((p) => `${p.room}:${p.text}`)).toEqual(['lobby:here', 'other:there'])
  })
})

describe('a lost ack', () => {
  /** The defaults: a 10 s ack deadline, the heartbeat from `welcome` (30 s here). */
  const SEND_TIMEOUT = 10_000

  it('probes the link when an ack is overdue, drops it when the probe goes unanswered, and resends the same id', async () => {
    const { room, open, lastPublish, statuses } = lobby()
    open()
    const failed = room.send('lost ack').catch((e: unknown) => e as ConfabError)
    const first = lastPublish()
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT - 1)
    expect(FakeSocket.last.sentOf('ping')).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    const error = await failed
    expect(error).toMatchObject({ code: 'timeout', message: `no ack within ${SEND_TIMEOUT} ms`, id: first?.id })
    // The probe goes at once, not at half the 30 s heartbeat.
    expect(FakeSocket.last.sentOf('ping')).toHaveLength(1)
    // The app retries at once with error.id: that waits for the queued message instead of sending another.
    const again = room.send('lost ack', { id: error.id })
    const dead = FakeSocket.last
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT / 2 - 1)
    expect(dead.closedByClient).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(dead.closedByClient).toBe(true)
    expect(statuses.at(-1)).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(500)
    expect(dead.sentOf('publish')).toHaveLength(1)
    open()
    // Still queued: resent once, with its id.
    const pubs = FakeSocket.last.sentOf('publish')
    expect(pubs).toHaveLength(1)
    expect(pubs[0]?.id).toBe(first?.id)
    FakeSocket.last.receive({
      type: 'ack',
      ref: pubs[0]?.ref ?? '',
      room: 'lobby',
      id: first?.id ?? '',
      offset: 1,
      ts: 42,
    })
    await expect(again).resolves.toMatchObject({ id: first?.id, offset: 1, text: 'lost ack' })
  })

  it('keeps a timed-out message queued on a live link, and a retry with its id settles with the late ack', async () => {
    const { room, open, ack, lastPublish, errors } = lobby()
    open()
    const failed = room.send('slow').catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT)
    const error = (await failed) as ConfabError
    expect(error.code).toBe('timeout')
    FakeSocket.last.receive({ type: 'pong' }) // the probe is answered: the link is fine, the relay slow
    await vi.advanceTimersByTimeAsync(5_000)
    expect(FakeSocket.last.closedByClient).toBe(false)
    const again = room.send('slow', { id: error.id })
    expect(FakeSocket.last.sentOf('publish')).toHaveLength(1)
    ack(lastPublish(), 4)
    await expect(again).resolves.toMatchObject({ id: error.id, offset: 4 })
    expect(errors).toEqual([])
  })

  it('gives a message waiting behind an unanswered one its own deadline, so no send hangs on a live link', async () => {
    const { room, open, ack, lastPublish } = lobby()
    open()
    const a = room.send('A').catch((e: unknown) => e)
    let bSettled = false
    const b = room.send('B').catch((e: unknown) => {
      bSettled = true
      return e
    })
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT)
    expect(await a).toMatchObject({ code: 'timeout' })
    FakeSocket.last.receive({ type: 'pong' })
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT - 1)
    expect(bSettled).toBe(false)
    FakeSocket.last.receive({ type: 'pong' })
    await vi.advanceTimersByTimeAsync(1)
    expect(bSettled).toBe(true)
    expect(await b).toMatchObject({ code: 'timeout', message: `no ack within ${SEND_TIMEOUT} ms` })
    // Both are still queued, in order: the late ack of A lets B go.
    ack(lastPublish(), 1)
    expect(FakeSocket.last.sentOf('publish').map((p) => p.text)).toEqual(['A', 'B'])
  })

  it('tells the error event, not the settled promise, when a timed-out message is dropped by leave()', async () => {
    const { room, open, errors } = lobby()
    open()
    const failed = room.send('x', { id: 'gone' }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT)
    expect(await failed).toMatchObject({ code: 'timeout', id: 'gone' })
    expect(errors).toEqual([]) // a timeout is not final: the message is still on its way
    room.leave()
    expect(errors).toMatchObject([{ code: 'closed', message: 'left room lobby', id: 'gone' }])
  })

  it('reports a timed-out message the relay later refuses on the error event, with its id', async () => {
    const { room, open, errors } = lobby()
    open()
    const failed = room.send('x', { id: 'late' }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT)
    expect(await failed).toMatchObject({ code: 'timeout', id: 'late' })
    const ref = FakeSocket.last.sentOf('publish')[0]?.ref
    FakeSocket.last.receive({ type: 'error', ref, room: 'lobby', code: 'forbidden', message: 'muted' })
    expect(errors).toMatchObject([{ code: 'forbidden', message: 'muted', id: 'late' }])
  })
})
