import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadlines } from '../src/deadlines'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('Deadlines', () => {
  it('calls due for each item once its delay has passed, oldest first', () => {
    const due: string[] = []
    const deadlines = new Deadlines<string>(100, (item) => due.push(item))
    deadlines.add('a')
    vi.advanceTimersByTime(40)
    deadlines.add('b')
    vi.advanceTimersByTime(59)
    expect(due).toEqual([])
    vi.advanceTimersByTime(1)
    expect(due).toEqual(['a'])
    vi.advanceTimersByTime(39)
    expect(due).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(due).toEqual(['a', 'b'])
    expect(deadlines.size).toBe(0)
  })

  it('keeps one timer however many items wait', () => {
    const deadlines = new Deadlines<number>(1000, () => {})
    for (let i = 0; i < 500; i++) deadlines.add(i)
    expect(vi.getTimerCount()).toBe(1)
    expect(deadlines.size).toBe(500)
  })

  it('times an item added from a due callback from then, without delaying the items already waiting', () => {
    const due: string[] = []
    const deadlines = new Deadlines<string>(100, (item) => {
      due.push(item)
      if (item === 'a') deadlines.add('c')
    })
    deadlines.add('a')
    vi.advanceTimersByTime(10)
    deadlines.add('b')
    vi.advanceTimersByTime(90)
    expect(due).toEqual(['a'])
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(10)
    expect(due).toEqual(['a', 'b'])
    vi.advanceTimersByTime(90)
    expect(due).toEqual(['a', 'b', 'c'])
  })

  it('drops waiting items on stop and ignores later adds', () => {
    const due = vi.fn()
    const deadlines = new Deadlines<number>(100, due)
    deadlines.add(1)
    deadlines.stop()
    deadlines.add(2)
    vi.advanceTimersByTime(1000)
    expect(due).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stays correct across many rounds (the queue compacts itself)', () => {
    const due: number[] = []
    const deadlines = new Deadlines<number>(10, (item) => due.push(item))
    for (let i = 0; i < 5000; i++) {
      deadlines.add(i)
      vi.advanceTimersByTime(1)
    }
    vi.advanceTimersByTime(10)
    expect(due).toEqual(Array.from({ length: 5000 }, (_, i) => i))
  })
})
