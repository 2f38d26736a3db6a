// Browser awareness without a browser: the global object gets an EventTarget's methods,
// as in a page, and the tests dispatch `online`, `offline`, `visibilitychange` and `pageshow`.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isOffline, watchBrowser } from '../src/browser'
import { FakeSocket } from './support/fake-socket'
import { setup } from './support/setup'

let win: EventTarget
const fire = (type: string) => win.dispatchEvent(new Event(type))
const nav = { onLine: true }
const doc = { hidden: false }

beforeEach(() => {
  vi.useFakeTimers()
  win = new EventTarget()
  nav.onLine = true
  doc.hidden = false
  vi.stubGlobal('addEventListener', win.addEventListener.bind(win))
  vi.stubGlobal('removeEventListener', win.removeEventListener.bind(win))
  vi.stubGlobal('navigator', nav)
  vi.stubGlobal('document', doc)
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('watchBrowser', () => {
  it('calls wake on online, pageshow and visibilitychange to visible, offline on offline', () => {
    const wake = vi.fn()
    const offline = vi.fn()
    const stop = watchBrowser({ wake, offline })
    fire('online')
    fire('pageshow')
    fire('visibilitychange')
    doc.hidden = true
    fire('visibilitychange') // to hidden: nothing to check
    fire('offline')
    expect(wake).toHaveBeenCalledTimes(3)
    expect(offline).toHaveBeenCalledTimes(1)
    stop()
    fire('online')
    fire('offline')
    expect(wake).toHaveBeenCalledTimes(3)
    expect(offline).toHaveBeenCalledTimes(1)
  })

  it('does nothing where the global object has no addEventListener (Node, workers without it)', () => {
    vi.stubGlobal('addEventListener', undefined)
    const stop = watchBrowser({ wake: vi.fn(), offline: vi.fn() })
    expect(stop).toBeTypeOf('function')
    stop()
  })

  it('isOffline is true only when navigator.onLine is false', () => {
    expect(isOffline()).toBe(false)
    nav.onLine = false
    expect(isOffline()).toBe(true)
    vi.stubGlobal('navigator', undefined)
    expect(isOffline()).toBe(false)
  })
})

describe('client in a browser', () => {
  it('on offline changes status at once and does not retry until online, then reconnects at once', () => {
    const { client } = setup()
    FakeSocket.last.welcome()
    nav.onLine = false
    fire('offline')
    expect(client.status).toBe('reconnecting')
    expect(FakeSocket.last.closedByClient).toBe(true)
    vi.advanceTimersByTime(10 * 60_000)
    expect(FakeSocket.all).toHaveLength(1)
    nav.onLine = true
    fire('online')
    expect(FakeSocket.all).toHaveLength(2)
  })

  it('does not schedule retries while navigator says offline, even without the event', () => {
    const { client } = setup()
    FakeSocket.last.welcome()
    nav.onLine = false
    FakeSocket.last.drop()
    expect(client.status).toBe('reconnecting')
    vi.advanceTimersByTime(10 * 60_000)
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('probes an open link when the tab becomes visible: ping now, drop if no frame within 5 s', () => {
    const { client } = setup()
    const s = FakeSocket.last
    s.welcome({ heartbeat: 60_000 })
    vi.advanceTimersByTime(1_000)
    fire('visibilitychange')
    expect(s.sentOf('ping')).toHaveLength(1)
    vi.advanceTimersByTime(5_000)
    expect(client.status).toBe('reconnecting')
  })

  it('a probe answered by pong keeps the link open', () => {
    const { client } = setup()
    const s = FakeSocket.last
    s.welcome({ heartbeat: 60_000 })
    fire('pageshow')
    s.receive({ type: 'pong' })
    vi.advanceTimersByTime(20_000)
    expect(client.status).toBe('open')
  })

  it('skips the backoff wait when the page wakes while reconnecting', () => {
    setup({ reconnect: { jitter: false, minDelay: 60_000 } })
    FakeSocket.last.drop()
    expect(FakeSocket.all).toHaveLength(1)
    fire('pageshow')
    expect(FakeSocket.all).toHaveLength(2)
  })

  it('stops listening after close()', () => {
    const { client } = setup()
    client.close()
    fire('online')
    expect(FakeSocket.all).toHaveLength(1)
    expect(client.status).toBe('closed')
  })
})
