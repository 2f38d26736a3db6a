import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLiveness } from '../src/liveness'

describe('liveness', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('pings after half the interval without a frame and declares death at the interval', () => {
    const ping = vi.fn()
    const dead = vi.fn()
    const live = createLiveness(ping, dead)
    live.start(10_000)
    vi.advanceTimersByTime(4_999)
    expect(ping).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(ping).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(4_999)
    expect(dead).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(dead).toHaveBeenCalledTimes(1)
    expect(ping).toHaveBeenCalledTimes(1)
  })

  it('keeps an idle but answering link alive forever: each pong renews the deadline', () => {
    const dead = vi.fn()
    const live = createLiveness(() => {
      setTimeout(() => live.touch(), 50) // the pong arrives 50 ms later
    }, dead)
    live.start(1_000)
    vi.advanceTimersByTime(60_000)
    expect(dead).not.toHaveBeenCalled()
  })

  it('does not ping while frames keep arriving', () => {
    const ping = vi.fn()
    const live = createLiveness(ping, vi.fn())
    live.start(1_000)
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(400)
      live.touch()
    }
    expect(ping).not.toHaveBeenCalled()
  })

  it('probe pings at once and declares death after `within` ms of silence', () => {
    const ping = vi.fn()
    const dead = vi.fn()
    const live = createLiveness(ping, dead)
    live.start(60_000)
    vi.advanceTimersByTime(1_000)
    live.probe(2_000)
    expect(ping).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1_999)
    expect(dead).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(dead).toHaveBeenCalledTimes(1)
  })

  it('a probe never postpones the deadline, however often it repeats', () => {
    const dead = vi.fn()
    const live = createLiveness(vi.fn(), dead)
    live.start(1_000)
    vi.advanceTimersByTime(300)
    // A 5 s probe on a 1 s heartbeat, repeated every 200 ms (one per overdue ack): death still comes at 1 s.
    for (let i = 0; i < 3; i++) {
      live.probe(5_000)
      vi.advanceTimersByTime(200)
    }
    expect(dead).not.toHaveBeenCalled()
    vi.advanceTimersByTime(99)
    expect(dead).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(dead).toHaveBeenCalledTimes(1)
  })

  it('a frame after a probe keeps the link', () => {
    const dead = vi.fn()
    const live = createLiveness(vi.fn(), dead)
    live.start(60_000)
    live.probe(2_000)
    vi.advanceTimersByTime(100)
    live.touch()
    vi.advanceTimersByTime(20_000)
    expect(dead).not.toHaveBeenCalled()
  })

  it('stop cancels everything, and a probe while stopped does nothing', () => {
    const ping = vi.fn()
    const dead = vi.fn()
    const live = createLiveness(ping, dead)
    live.start(1_000)
    live.stop()
    live.probe(10)
    vi.advanceTimersByTime(10_000)
    expect(ping).not.toHaveBeenCalled()
    expect(dead).not.toHaveBeenCalled()
  })
})
