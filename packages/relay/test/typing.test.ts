import { afterEach, describe, expect, it, vi } from 'vitest'
import { Typing } from '../src/typing'

const ann = { id: 'u-ann', name: 'Ann' }

afterEach(() => {
  vi.useRealTimers()
})

describe('Typing', () => {
  it('announces a start once, pushes the expiry on refresh, and expires without one', () => {
    vi.useFakeTimers()
    const changes: Array<[string, string, boolean]> = []
    const typing = new Typing(5000, (room, user, active) => changes.push([room, user.id, active]))
    typing.start()
    typing.set('lobby', ann, true)
    vi.advanceTimersByTime(4000)
    typing.set('lobby', ann, true)
    vi.advanceTimersByTime(4000)
    expect(changes).toEqual([['lobby', 'u-ann', true]])
    vi.advanceTimersByTime(2000)
    expect(changes).toEqual([
      ['lobby', 'u-ann', true],
      ['lobby', 'u-ann', false],
    ])
    typing.stop()
  })

  it('announces a stop only for a user who was typing', () => {
    const changes: boolean[] = []
    const typing = new Typing(5000, (_room, _user, active) => changes.push(active))
    typing.clear('lobby', 'nobody')
    typing.set('lobby', ann, false)
    expect(changes).toEqual([])
    typing.set('lobby', ann, true)
    typing.clear('lobby', ann.id)
    expect(changes).toEqual([true, false])
  })
})
