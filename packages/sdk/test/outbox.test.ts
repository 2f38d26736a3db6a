import { describe, expect, it, vi } from 'vitest'
import { ConfabError } from '../src/errors'
import { createOutbox, type Entry } from '../src/outbox'

const entry = (id: string, room = 'lobby'): Entry => ({ draft: { room, id, text: id }, ref: `#${id}`, waits: [] })

describe('outbox', () => {
  it('lists entries in the order they were added', () => {
    const box = createOutbox(10)
    for (const id of ['c', 'a', 'b']) box.add(entry(id))
    expect(box.list().map((e) => e.draft.id)).toEqual(['c', 'a', 'b'])
  })

  it('refuses the entry past its bound with ConfabError limit_exceeded', () => {
    const box = createOutbox(2)
    box.add(entry('1'))
    box.add(entry('2'))
    let error: unknown
    try {
      box.add(entry('3'))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfabError)
    expect(error).toMatchObject({
      code: 'limit_exceeded',
      message: 'outbox full: 2 waiting',
    })
    expect(box.list()).toHaveLength(2)
  })

  it('frees a slot when an entry is taken, and take clears its ack deadline', () => {
    vi.useFakeTimers()
    try {
      const box = createOutbox(1)
      const e = entry('1')
      const expired = vi.fn()
      Object.assign(e, { timer: setTimeout(expired, 100) })
      box.add(e)
      box.take(e)
      expect(box.list()).toEqual([])
      vi.advanceTimersByTime(200)
      expect(expired).not.toHaveBeenCalled()
      box.add(entry('2'))
      expect(box.list().map((x) => x.draft.id)).toEqual(['2'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('pause clears every ack deadline and on-the-wire mark but keeps the entries', () => {
    vi.useFakeTimers()
    try {
      const box = createOutbox(5)
      const expired = vi.fn()
      const a = entry('a')
      Object.assign(a, { timer: setTimeout(expired, 100), sent: true })
      box.add(a)
      box.add(entry('b'))
      box.pause()
      vi.advanceTimersByTime(200)
      expect(expired).not.toHaveBeenCalled()
      expect(a.timer).toBeUndefined()
      expect(a.sent).toBeUndefined()
      expect(box.list().map((e) => e.draft.id)).toEqual(['a', 'b'])
    } finally {
      vi.useRealTimers()
    }
  })
})
