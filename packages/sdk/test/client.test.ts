import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connect } from '../src/client'
import { ALICE, FakeSocket, WELCOME } from './support/fake-socket'
import { joined, setup } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('connecting', () => {
  it('opens one socket to the ws URL with the confab.v1 subprotocol and sends hello first', () => {
    const { client } = setup({ name: 'Alice', token: 'jwt' })
    expect(client.status).toBe('connecting')
    const s = FakeSocket.last
    expect(s.url).toBe('ws://relay.test/ws')
    expect(s.protocols).toBe('confab.v1')
    s.open()
    expect(s.sent).toEqual([{ type: 'hello', v: 1, token: 'jwt', name: 'Alice' }])
  })

  it('becomes open on welcome, emitting the new status string, and exposes the user', () => {
    const { client, statuses } = setup()
    FakeSocket.last.welcome()
    expect(client.status).toBe('open')
    expect(statuses).toEqual(['open'])
    expect(client.user).toEqual(ALICE)
  })

  it('emits each status change with the status before it', () => {
    const { client } = setup()
    const changes: [string, string][] = []
    client.on('status', (status, previous) => changes.push([status, previous]))
    FakeSocket.last.welcome()
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500)
    FakeSocket.last.welcome()
    client.close()
    expect(changes).toEqual([
      ['open', 'connecting'],
      ['reconnecting', 'open'],
      ['open', 'reconnecting'],
      ['closed', 'open'],
    ])
  })

  it("exposes the limits of the relay's last welcome, undefined before the first", () => {
    const { client } = setup()
    expect(client.limits).toBeUndefined()
    FakeSocket.last.welcome()
    expect(client.limits).toEqual(WELCOME.limits)
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500)
    expect(client.limits).toEqual(WELCOME.limits) // still the last known while reconnecting
    FakeSocket.last.welcome({ limits: { ...WELCOME.limits, maxText: 500 } })
    expect(client.limits?.maxText).toBe(500)
  })

  it('throws a TypeError that says what to pass when there is no WebSocket', () => {
    vi.stubGlobal('WebSocket', undefined)
    try {
      expect(() => connect('http://relay.test')).toThrow(
        "confab: no global WebSocket; pass one (in Node, from 'ws')",
      )
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('sends the resume string of the last welcome when it reconnects', () => {
    setup()
    FakeSocket.last.welcome({ resume: 'r-123' })
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500)
    FakeSocket.last.open()
    expect(FakeSocket.last.sentOf('hello')[0]).toMatchObject({ resume: 'r-123' })
  })
})

describe('state machine and backoff', () => {
  it('goes reconnecting on an unexpected drop and reconnects after the backoff delay', () => {
    const { client, statuses } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(1006)
    expect(client.status).toBe('reconnecting')
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(499)
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(2)
    FakeSocket.last.welcome()
    expect(statuses).toEqual(['open', 'reconnecting', 'open'])
  })

  it('doubles the delay per failed attempt up to maxDelay', () => {
    setup({ reconnect: { jitter: false, maxDelay: 3_000 } })
    const delays: number[] = []
    for (let i = 0; i < 5; i++) {
      const before = FakeSocket.all.length
      FakeSocket.last.drop()
      let waited = 0
      while (FakeSocket.all.length === before) {
        vi.advanceTimersByTime(100)
        waited += 100
      }
      delays.push(waited)
    }
    expect(delays).toEqual([500, 1_000, 2_000, 3_000, 3_000])
  })

  it('applies full jitter by default: the delay is a random share of the ceiling', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.25)
    FakeSocket.reset()
    connect('http://relay.test', { WebSocket: FakeSocket })
    FakeSocket.last.drop()
    vi.advanceTimersByTime(124)
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(2)
  })

  it('counts attempts from zero again only after the link stayed up 5 s', () => {
    setup()
    FakeSocket.last.drop() // attempt 0: 500 ms
    vi.advanceTimersByTime(500)
    FakeSocket.last.welcome()
    vi.advanceTimersByTime(4_000) // up, but not long enough
    FakeSocket.last.drop() // attempt 1: 1000 ms
    vi.advanceTimersByTime(999)
    expect(FakeSocket.all).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(3)
    FakeSocket.last.welcome()
    vi.advanceTimersByTime(5_000) // stable: attempts reset
    FakeSocket.last.drop() // attempt 0 again: 500 ms
    vi.advanceTimersByTime(500)
    expect(FakeSocket.all).toHaveLength(4)
  })

  it('close() ends in closed, closes the socket and never reconnects', () => {
    const { client, statuses } = setup()
    FakeSocket.last.welcome()
    client.close()
    expect(client.status).toBe('closed')
    expect(statuses).toEqual(['open', 'closed'])
    expect(FakeSocket.last.closedByClient).toBe(true)
    vi.advanceTimersByTime(120_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('with reconnect: false a drop ends in closed with a closed error', () => {
    const { client, errors } = setup({ reconnect: false })
    FakeSocket.last.welcome()
    FakeSocket.last.drop(1006)
    expect(client.status).toBe('closed')
    expect(errors.map((e) => [e.code, e.message])).toEqual([['closed', 'connection closed (code 1006)']])
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('ignores callbacks from a replaced socket and removes its listeners', () => {
    const { client } = setup({ heartbeat: 1_000 })
    const old = FakeSocket.last
    old.welcome()
    // Handlers a browser or `ws` may still hold and call after the SDK let go of the socket.
    const lateClose = old.onclose
    const lateMessage = old.onmessage
    vi.advanceTimersByTime(1_000) // dead: no frame for the heartbeat
    expect(old.closedByClient).toBe(true)
    expect([old.onopen, old.onmessage, old.onclose]).toEqual([null, null, null])
    vi.advanceTimersByTime(500)
    const fresh = FakeSocket.last
    expect(fresh).not.toBe(old)
    fresh.welcome()
    lateClose?.({ code: 4003 }) // would stop the client for good if it counted
    lateMessage?.({ data: JSON.stringify({ ...WELCOME, user: { id: 'u-ghost', name: 'Ghost' } }) })
    expect(client.status).toBe('open')
    expect(client.user).toEqual(ALICE)
    expect(FakeSocket.all).toHaveLength(2)
  })
})

describe('close codes', () => {
  it.each([
    [4001, 'unauthorized'],
    [4003, 'forbidden'],
    [4009, 'bad_request'],
    [1008, 'forbidden'],
    [1009, 'too_large'],
  ])('stops on %i with an error event coded %s', (code, errorCode) => {
    const { client, errors } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(code)
    expect(client.status).toBe('closed')
    expect(errors.map((e) => [e.code, e.message])).toEqual([[errorCode, `connection closed (code ${code})`]])
    vi.advanceTimersByTime(120_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('stops without an error on a normal close (1000)', () => {
    const { client, errors } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(1000)
    expect(client.status).toBe('closed')
    expect(errors).toEqual([])
  })

  it.each([4100, 4101, 4102, 1001, 1006, 1011])('backs off, then reconnects, on %i', (code) => {
    const { client } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(code)
    expect(client.status).toBe('reconnecting')
    vi.advanceTimersByTime(499)
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(2)
  })

  it.each([1012, 1013])('reconnects after a random delay of at most 5 s on %i', (code) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9)
    const { client } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(code)
    expect(client.status).toBe('reconnecting')
    vi.advanceTimersByTime(4_499)
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(2)
  })

  it('reconnects at once on 4200, but backs off when it repeats', () => {
    setup()
    FakeSocket.last.welcome()
    FakeSocket.last.drop(4200)
    vi.advanceTimersByTime(0)
    expect(FakeSocket.all).toHaveLength(2)
    FakeSocket.last.welcome()
    FakeSocket.last.drop(4200)
    vi.advanceTimersByTime(999)
    expect(FakeSocket.all).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.all).toHaveLength(3)
  })
})

describe('token', () => {
  it('calls a token function before every connect and sends what it resolves to', async () => {
    let n = 0
    setup({ token: async () => `t${++n}` })
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('hello')[0]?.token).toBe('t1')
    FakeSocket.last.drop()
    await vi.advanceTimersByTimeAsync(500)
    FakeSocket.last.open()
    expect(FakeSocket.last.sentOf('hello')[0]?.token).toBe('t2')
    expect(n).toBe(2)
  })

  it('after 4001 retries once at once with a fresh token, then stops with closed and an unauthorized error', async () => {
    const token = vi.fn(async () => 'expired')
    const { client, errors } = setup({ token })
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.open()
    FakeSocket.last.drop(4001)
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.all).toHaveLength(2)
    expect(client.status).toBe('reconnecting')
    FakeSocket.last.open()
    FakeSocket.last.drop(4001)
    expect(client.status).toBe('closed')
    expect(errors.map((e) => e.code)).toEqual(['unauthorized'])
    await vi.advanceTimersByTimeAsync(120_000)
    expect(FakeSocket.all).toHaveLength(2)
    expect(token).toHaveBeenCalledTimes(2)
  })

  it('a successful welcome re-arms the one retry for a later 4001', async () => {
    setup({ token: () => 'fresh' })
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.open()
    FakeSocket.last.drop(4001)
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.welcome()
    FakeSocket.last.drop(4001)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(FakeSocket.all).toHaveLength(3)
  })

  it('stops on the first 4001 when the token is a plain string', () => {
    const { client } = setup({ token: 'static' })
    FakeSocket.last.open()
    FakeSocket.last.drop(4001)
    expect(client.status).toBe('closed')
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('reports a throwing token function as unauthorized and backs off', async () => {
    let calls = 0
    const { client, errors } = setup({
      token: () => {
        calls++
        if (calls === 1) throw new Error('auth server down')
        return 'ok'
      },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.all).toHaveLength(0)
    expect(client.status).toBe('reconnecting')
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['unauthorized', 'the token function failed: auth server down'],
    ])
    await vi.advanceTimersByTimeAsync(500)
    expect(FakeSocket.all).toHaveLength(1)
  })
})

describe('liveness', () => {
  it('pings after half the welcome heartbeat and reconnects when nothing arrives within it', () => {
    const { client } = setup()
    const s = FakeSocket.last
    s.welcome({ heartbeat: 10_000 })
    vi.advanceTimersByTime(5_000)
    expect(s.sentOf('ping')).toHaveLength(1)
    vi.advanceTimersByTime(4_999)
    expect(client.status).toBe('open')
    vi.advanceTimersByTime(1)
    expect(client.status).toBe('reconnecting')
    expect(s.closedByClient).toBe(true)
  })

  it('stays open while pongs answer the pings', () => {
    const { client } = setup()
    const s = FakeSocket.last
    s.welcome({ heartbeat: 2_000 })
    for (let i = 0; i < 30; i++) {
      vi.advanceTimersByTime(1_000)
      if (s.sentOf('ping').length > i) s.receive({ type: 'pong' })
    }
    expect(client.status).toBe('open')
    expect(s.sentOf('ping').length).toBeGreaterThan(20)
  })

  it('the heartbeat option overrides the relay one', () => {
    const { client } = setup({ heartbeat: 1_000 })
    FakeSocket.last.welcome({ heartbeat: 60_000 })
    vi.advanceTimersByTime(1_000)
    expect(client.status).toBe('reconnecting')
  })

  it('gives up on a socket that never opens after the heartbeat', () => {
    const { client } = setup({ heartbeat: 3_000 })
    vi.advanceTimersByTime(3_000)
    expect(client.status).toBe('reconnecting')
    expect(FakeSocket.all[0]?.closedByClient).toBe(true)
  })
})

describe('relay errors', () => {
  it('emits an error frame that answers nothing as an error event with its code', () => {
    const { errors } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.receive({ type: 'error', code: 'bad_request', message: 'unknown frame type' })
    expect(errors.map((e) => [e.code, e.message])).toEqual([['bad_request', 'unknown frame type']])
  })

  it('reports a frame that is not JSON as bad_request and keeps the connection', () => {
    const { client, errors } = setup()
    FakeSocket.last.welcome()
    FakeSocket.last.onmessage?.({ data: '{oops' })
    expect(errors.map((e) => e.code)).toEqual(['bad_request'])
    expect(client.status).toBe('open')
  })
})

describe('join', () => {
  it('returns the same room for the same name and joins once', () => {
    const { client } = setup()
    FakeSocket.last.welcome()
    expect(client.join('lobby')).toBe(client.join('lobby'))
    expect(FakeSocket.last.sentOf('join')).toHaveLength(1)
  })

  it('re-joins every room after a reconnect', () => {
    const { client } = setup()
    client.join('a')
    client.join('b')
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined({ room: 'a', ref: 'a' }))
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500)
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('join').map((j) => j.room)).toEqual(['a', 'b'])
  })
})

describe('frame rate', () => {
  /** A relay that allows 3 join, leave, typing or history frames at once, then 10 per second. */
  const limits = { ...WELCOME.limits, frameRate: 10, frameBurst: 3 }
  const names = (frames: { room: string }[]) => frames.map((f) => f.room)

  it("paces joins and history requests to the relay's frameRate and frameBurst from welcome", async () => {
    const { client } = setup()
    const rooms = ['a', 'b', 'c', 'd'].map((name) => client.join(name))
    const pages = rooms.map((room) => room.history({ limit: 5 }))
    FakeSocket.last.welcome({ limits })
    expect(names(FakeSocket.last.sentOf('join'))).toEqual(['a', 'b', 'c'])
    await vi.advanceTimersByTimeAsync(99)
    expect(names(FakeSocket.last.sentOf('join'))).toEqual(['a', 'b', 'c'])
    await vi.advanceTimersByTimeAsync(1)
    expect(names(FakeSocket.last.sentOf('join'))).toEqual(['a', 'b', 'c', 'd'])
    for (const room of ['a', 'b', 'c', 'd']) FakeSocket.last.receive(joined({ room, ref: room }))
    expect(FakeSocket.last.sentOf('history')).toEqual([])
    await vi.advanceTimersByTimeAsync(400)
    const asked = FakeSocket.last.sentOf('history')
    expect(names(asked)).toEqual(['a', 'b', 'c', 'd'])
    for (const h of asked)
      FakeSocket.last.receive({ type: 'history', ref: h.ref, room: h.room, messages: [], more: false })
    await expect(Promise.all(pages)).resolves.toEqual([[], [], [], []])
  })

  it('resends a history request refused with rate_limited after retryAfter, paced, never all at once', async () => {
    const { client } = setup()
    const rooms = ['a', 'b', 'c'].map((name) => client.join(name))
    FakeSocket.last.welcome({ limits: { ...limits, frameRate: 2, frameBurst: 6 } })
    for (const room of ['a', 'b', 'c']) FakeSocket.last.receive(joined({ room, ref: room }))
    const pages = rooms.map((room) => room.history())
    const first = FakeSocket.last.sentOf('history')
    expect(names(first)).toEqual(['a', 'b', 'c'])
    for (const h of first) {
      FakeSocket.last.receive({
        type: 'error',
        ref: h.ref,
        room: h.room,
        code: 'rate_limited',
        message: 'slow down',
        retryAfter: 1_000,
      })
    }
    await vi.advanceTimersByTimeAsync(999)
    expect(FakeSocket.last.sentOf('history')).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(1)
    // The bucket, empty after 6 frames, holds 2 tokens again after the second: one frame per 500 ms after those.
    expect(FakeSocket.last.sentOf('history')).toHaveLength(5)
    await vi.advanceTimersByTimeAsync(499)
    expect(FakeSocket.last.sentOf('history')).toHaveLength(5)
    await vi.advanceTimersByTimeAsync(1)
    const again = FakeSocket.last.sentOf('history').slice(3)
    expect(names(again)).toEqual(['a', 'b', 'c'])
    for (const h of again)
      FakeSocket.last.receive({ type: 'history', ref: h.ref, room: h.room, messages: [], more: true })
    await expect(Promise.all(pages)).resolves.toEqual([[], [], []])
  })

  it('drops a typing frame that finds no token rather than queueing it', () => {
    const { client } = setup()
    const room = client.join('lobby')
    FakeSocket.last.welcome({ limits: { ...limits, frameBurst: 1 } })
    FakeSocket.last.receive(joined())
    room.typing()
    expect(FakeSocket.last.sentOf('typing')).toEqual([])
    vi.advanceTimersByTime(100)
    room.typing()
    expect(FakeSocket.last.sentOf('typing')).toEqual([{ type: 'typing', room: 'lobby', active: true }])
  })

  it('retries a join refused with rate_limited after retryAfter', () => {
    const { client } = setup()
    client.join('lobby')
    FakeSocket.last.welcome({ limits })
    FakeSocket.last.receive({
      type: 'error',
      ref: 'lobby',
      room: 'lobby',
      code: 'rate_limited',
      message: 'slow down',
      retryAfter: 700,
    })
    vi.advanceTimersByTime(699)
    expect(FakeSocket.last.sentOf('join')).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.last.sentOf('join')).toHaveLength(2)
  })
})
