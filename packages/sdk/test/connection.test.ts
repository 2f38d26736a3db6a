import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ConnectionHooks, createConnection, type Status } from '../src/connection'
import type { ConfabError } from '../src/errors'
import type { RelayFrame } from '../src/protocol'
import { FakeSocket } from './support/fake-socket'

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.reset()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A connection on FakeSockets, recording everything it tells its client. */
function connection(options: Parameters<typeof createConnection>[2] = {}) {
  const log: string[] = []
  const frames: RelayFrame[] = []
  const errors: ConfabError[] = []
  const hooks: ConnectionHooks = {
    frame: (f) => {
      frames.push(f)
      log.push(`frame ${f.type}`)
    },
    status: (next: Status, previous: Status) => log.push(`status ${previous} -> ${next}`),
    down: () => log.push('down'),
    error: (e) => errors.push(e),
    resume: () => 'r1',
  }
  const c = createConnection(FakeSocket, 'ws://relay.test/ws', { reconnect: { jitter: false }, ...options }, hooks)
  return { c, log, frames, errors }
}

describe('connection', () => {
  it('hands the welcome to the client before the status turns open, and sends resume in hello', async () => {
    const { c, log } = connection()
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('hello')).toEqual([{ type: 'hello', v: 1, resume: 'r1' }])
    expect(log).toEqual(['frame welcome', 'status connecting -> open'])
    expect(c.status).toBe('open')
  })

  it('tells the client the socket is down before the status changes, and reconnects after the backoff', async () => {
    const { log } = connection()
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.welcome()
    FakeSocket.last.drop()
    expect(log.slice(2)).toEqual(['down', 'status open -> reconnecting'])
    await vi.advanceTimersByTimeAsync(500)
    expect(FakeSocket.all).toHaveLength(2)
  })

  it('ignores frames and closes from a replaced socket (generation counter)', async () => {
    const { frames, log } = connection()
    await vi.advanceTimersByTimeAsync(0)
    const first = FakeSocket.last
    first.welcome()
    const { onmessage, onclose } = first
    first.drop()
    await vi.advanceTimersByTimeAsync(500)
    FakeSocket.last.welcome()
    const before = log.length
    onmessage?.({ data: JSON.stringify({ type: 'pong' }) })
    onclose?.({ code: 1006 })
    expect(log.length).toBe(before)
    expect(frames.map((f) => f.type)).toEqual(['welcome', 'welcome'])
  })

  it('sends only while open', async () => {
    const { c } = connection()
    expect(c.send({ type: 'ping' })).toBe(false)
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.last.welcome()
    expect(c.send({ type: 'ping' })).toBe(true)
    c.close()
    expect(c.send({ type: 'ping' })).toBe(false)
  })
})
