import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBucket } from '../src/bucket'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('bucket', () => {
  it('allows a burst, then one per 1/rate seconds', () => {
    const b = createBucket(10, 3)
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0])
    expect(b.take()).toBe(100)
    vi.advanceTimersByTime(60)
    expect(b.take()).toBe(40)
    vi.advanceTimersByTime(40)
    expect(b.take()).toBe(0)
  })

  it('refills up to the burst, never beyond', () => {
    const b = createBucket(10, 2)
    b.take()
    b.take()
    vi.advanceTimersByTime(60_000)
    expect([b.take(), b.take()]).toEqual([0, 0])
    expect(b.take()).toBeGreaterThan(0)
  })
})
