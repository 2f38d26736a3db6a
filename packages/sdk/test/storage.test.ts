// persist: the outbox and room positions survive a new client on the same storage (a page reload).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connect } from '../src/client'
import type { Message } from '../src/protocol'
import { load, pickStorage, type StorageLike } from '../src/storage'
import { FakeSocket, WELCOME } from './support/fake-socket'
import { joined, msg } from './support/setup'

class MemoryStorage implements StorageLike {
  readonly data = new Map<string, string>()
  getItem(key: string): string | null {
    return this.data.get(key) ?? null
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value)
  }
  removeItem(key: string): void {
    this.data.delete(key)
  }
}

const page = (storage: StorageLike) =>
  connect('http://relay.test', { WebSocket: FakeSocket, persist: storage, reconnect: { jitter: false } })

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.reset()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('persist', () => {
  it('a message queued on one page is sent with the same id by the next page', () => {
    const storage = new MemoryStorage()
    const first = page(storage)
    void first
      .join('lobby')
      .send('typed before reload')
      .catch(() => {})
    // The page unloads without ever connecting.
    const second = page(storage)
    second.join('lobby')
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined())
    const pubs = FakeSocket.last.sentOf('publish')
    expect(pubs.map((p) => p.text)).toEqual(['typed before reload'])
    const firstId = load(storage, 'confab:ws://relay.test/ws').outbox[0]?.id
    expect(pubs[0]?.id).toBe(firstId)
  })

  it('forgets an acked message, so the next page does not send it again', () => {
    const storage = new MemoryStorage()
    const first = page(storage)
    const room = first.join('lobby')
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined())
    void room.send('once')
    const p = FakeSocket.last.sentOf('publish')[0]
    FakeSocket.last.receive({ type: 'ack', ref: p?.ref ?? '', room: 'lobby', id: p?.id ?? '', offset: 1, ts: 1 })
    page(storage).join('lobby')
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined())
    expect(FakeSocket.last.sentOf('publish')).toEqual([])
  })

  it('a message on the wire when the page unloads is resent by the next page as the same guest (its resume)', () => {
    const storage = new MemoryStorage()
    const room = page(storage).join('lobby')
    FakeSocket.last.welcome({ resume: 'guest-7' })
    FakeSocket.last.receive(joined())
    void room.send('sent, ack never read').catch(() => {})
    const first = FakeSocket.last.sentOf('publish')[0]
    // The page unloads before the ack: the relay stored the message under guest-7, whose ids it remembers.
    page(storage).join('lobby')
    FakeSocket.last.open()
    expect(FakeSocket.last.sentOf('hello')).toEqual([{ type: 'hello', v: 1, resume: 'guest-7' }])
    FakeSocket.last.receive({ ...WELCOME, resume: 'guest-7' })
    FakeSocket.last.receive(joined())
    expect(FakeSocket.last.sentOf('publish').map((p) => p.id)).toEqual([first?.id])
  })

  it('the next page joins from the last position, so it does not replay what was shown', () => {
    const storage = new MemoryStorage()
    page(storage).join('lobby', { history: 50 })
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined({ head: 2, messages: [msg(1), msg(2)] }))
    const got: Message[] = []
    page(storage)
      .join('lobby', { history: 50 })
      .on('message', (m) => got.push(m))
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('join')[0]?.since).toEqual({ epoch: 'e1', offset: 2 })
    FakeSocket.last.receive(joined({ head: 3, messages: [msg(3)] }))
    expect(got.map((m) => m.offset)).toEqual([3])
  })

  it('reports restored messages that fail as error events, since nobody awaits them', () => {
    const storage = new MemoryStorage()
    void page(storage)
      .join('lobby')
      .send('doomed')
      .catch(() => {})
    const second = page(storage)
    const codes: string[] = []
    second.on('error', (e) => codes.push(e.code))
    second.join('lobby')
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined())
    const ref = FakeSocket.last.sentOf('publish')[0]?.ref
    FakeSocket.last.receive({ type: 'error', ref, code: 'forbidden', message: 'read-only room' })
    expect(codes).toEqual(['forbidden'])
  })

  it('persist: true means sessionStorage; no persist means no storage', () => {
    const session = new MemoryStorage()
    vi.stubGlobal('sessionStorage', session)
    expect(pickStorage(true)).toBe(session)
    expect(pickStorage(false)).toBeUndefined()
    expect(pickStorage(undefined)).toBeUndefined()
  })

  it('starts empty and removes the snapshot when it is unreadable', () => {
    const storage = new MemoryStorage()
    storage.setItem('k', '{not json')
    expect(load(storage, 'k')).toEqual({ outbox: [], rooms: {} })
    expect(storage.getItem('k')).toBeNull()
  })
})
