import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_TRANSITIONS, REANNOUNCE_EVERY, TRANSITION_WINDOW, Typing } from '../src/typing'

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
    vi.advanceTimersByTime(2500)
    typing.set('lobby', ann, true) // a refresh sooner than REANNOUNCE_EVERY: only the expiry moves, to 7.5 s
    vi.advanceTimersByTime(4000)
    expect(changes).toEqual([['lobby', 'u-ann', true]])
    vi.advanceTimersByTime(1500)
    expect(changes).toEqual([
      ['lobby', 'u-ann', true],
      ['lobby', 'u-ann', false],
    ])
    typing.stop()
  })

  it(`announces a continuous typist again every ${REANNOUNCE_EVERY} ms, and no refresh in between`, () => {
    vi.useFakeTimers()
    const changes: boolean[] = []
    const typing = new Typing(5000, (_room, _user, active) => changes.push(active))
    typing.start()
    // A keystroke every 300 ms for 10 s: members whose own expiry is 6 s must never lose the typist.
    for (let t = 0; t < 10_000; t += 300) {
      typing.set('lobby', ann, true)
      vi.advanceTimersByTime(300)
    }
    expect(changes).toEqual([true, true, true, true])
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

describe('Typing transitions', () => {
  it(`announces at most ${MAX_TRANSITIONS} changes per user per room in ${TRANSITION_WINDOW} ms, then the latest state`, () => {
    vi.useFakeTimers()
    const changes: boolean[] = []
    const typing = new Typing(5000, (_room, _user, active) => changes.push(active))
    typing.start()
    for (let i = 0; i < 100; i++) typing.set('lobby', ann, i % 2 === 0)
    typing.set('lobby', ann, true)
    expect(changes).toEqual([true, false, true, false])
    // Another user and another room have budgets of their own.
    typing.set('lobby', { id: 'u-ben', name: 'Ben' }, true)
    typing.set('other', ann, true)
    expect(changes).toHaveLength(6)
    vi.advanceTimersByTime(TRANSITION_WINDOW)
    // The state that waited is announced once the window is over: the latest only, not every toggle.
    expect(changes.slice(6)).toEqual([true])
    typing.set('lobby', ann, false)
    expect(changes.slice(6)).toEqual([true, false])
    typing.stop()
  })

  it('ends typing silently when the user sends, so the next start is announced again', () => {
    const changes: boolean[] = []
    const typing = new Typing(5000, (_room, _user, active) => changes.push(active))
    typing.set('lobby', ann, true)
    typing.sent('lobby', ann.id)
    expect(changes).toEqual([true])
    typing.set('lobby', ann, true)
    expect(changes).toEqual([true, true])
    // Leaving after a silent end announces nothing more: members already cleared the typist on the message.
    typing.sent('lobby', ann.id)
    typing.clear('lobby', ann.id)
    expect(changes).toEqual([true, true])
  })

  it('announces a stop when the last connection leaves even past the budget', () => {
    const changes: boolean[] = []
    const typing = new Typing(5000, (_room, _user, active) => changes.push(active))
    for (let i = 0; i < 5; i++) typing.set('lobby', ann, i % 2 === 0)
    expect(changes).toEqual([true, false, true, false])
    typing.clear('lobby', ann.id)
    expect(changes).toEqual([true, false, true, false])
    typing.set('lobby', ann, true)
    typing.clear('lobby', ann.id)
    expect(changes).toEqual([true, false, true, false, true, false])
  })
})
