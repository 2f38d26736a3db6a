import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoff, RECONNECT } from '../src/backoff'

describe('backoff', () => {
  it('stays within [0, min(maxDelay, minDelay * factor^attempt)] for every attempt and random draw', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 5_000, max: 120_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        (attempt, r, minDelay, maxDelay, factor) => {
          const o = { minDelay, maxDelay, factor, jitter: true }
          const d = backoff(attempt, o, () => r)
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThanOrEqual(Math.min(maxDelay, minDelay * factor ** attempt))
        },
      ),
    )
  })

  it('uses full jitter: the delay is the random draw times the ceiling', () => {
    expect(backoff(0, RECONNECT, () => 0.5)).toBe(250)
    expect(backoff(3, RECONNECT, () => 0.25)).toBe(1_000)
    expect(backoff(0, RECONNECT, () => 0)).toBe(0)
  })

  it('grows by factor per attempt and caps at maxDelay (30 s by default)', () => {
    const fixed = { ...RECONNECT, jitter: false }
    expect([0, 1, 2, 3, 4].map((n) => backoff(n, fixed))).toEqual([500, 1_000, 2_000, 4_000, 8_000])
    expect(backoff(6, fixed)).toBe(30_000)
    expect(backoff(1_000, fixed)).toBe(30_000)
  })

  it('without jitter returns the ceiling itself, whatever the random source says', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        expect(backoff(attempt, { ...RECONNECT, jitter: false }, () => r)).toBe(Math.min(30_000, 500 * 2 ** attempt))
      }),
    )
  })
})
