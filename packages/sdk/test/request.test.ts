import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConfabError } from '../src/errors'
import type { RelayFrame } from '../src/protocol'
import { type Ask, createAsk } from '../src/request'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function ask(timeout = 1_000) {
  const pending = new Map<string, Ask>()
  const settled: (RelayFrame | ConfabError)[] = []
  const a = createAsk(
    { type: 'history', ref: '#1', room: 'lobby' },
    timeout,
    (answer) => settled.push(answer),
    (error) => settled.push(error),
    pending,
  )
  return { a, pending, settled }
}

describe('a request', () => {
  it('is pending under its ref until answered, then resolves with the answer frame and leaves', () => {
    const { a, pending, settled } = ask()
    expect(pending.get('#1')).toBe(a)
    const page: RelayFrame = { type: 'history', ref: '#1', room: 'lobby', messages: [], more: false }
    a.answer(page)
    expect(settled).toEqual([page])
    expect(pending.size).toBe(0)
    vi.advanceTimersByTime(5_000) // its deadline was cleared
    expect(settled).toHaveLength(1)
  })

  it('rejects with timeout when no answer came within its own deadline, counted from its creation', () => {
    const { pending, settled } = ask(1_000)
    vi.advanceTimersByTime(999)
    expect(settled).toEqual([])
    vi.advanceTimersByTime(1)
    expect(settled).toMatchObject([{ code: 'timeout', message: 'no answer within 1000 ms' }])
    expect(pending.size).toBe(0)
  })

  it("rejects with the relay's error", () => {
    const { a, settled } = ask()
    a.answer(new ConfabError('not_found', 'no such page'))
    expect(settled).toMatchObject([{ code: 'not_found', message: 'no such page' }])
  })
})
