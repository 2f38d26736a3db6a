// The soak's judges, judged: each fault the soak claims to find is found.
import type { Message } from '@confab/sdk/protocol'
import { describe, expect, it } from 'vitest'
import { classify } from './soak-node'
import { SoakTally } from './soak-tally'

const message = (offset: number, id = `m${offset}`, room = 'r'): Message => ({
  room,
  offset,
  id,
  from: { id: 'u', name: 'u' },
  text: id,
  ts: 0,
})

describe('SoakTally', () => {
  it('passes a listener that got every acked offset after its join, once, in order', () => {
    const tally = new SoakTally()
    for (const offset of [1, 2, 3, 4]) tally.ack(message(offset))
    const late = tally.listener('late', 'r')
    late.joinedAt(2)
    for (const offset of [3, 4]) late.receive(message(offset))
    expect(tally.complete()).toBe(true)
    expect(tally.verdicts()).toEqual([
      {
        listener: 'late',
        room: 'r',
        live: true,
        received: 2,
        lost: 0,
        duplicates: 0,
        outOfOrder: 0,
        gaps: 0,
        mismatches: 0,
        resets: 0,
      },
    ])
  })

  it('finds a lost message, a duplicate, a gap, an offset out of order and two ids at one offset', () => {
    const tally = new SoakTally()
    for (const offset of [1, 2, 3, 4, 5, 6]) tally.ack(message(offset))
    const a = tally.listener('a', 'r')
    a.joinedAt(0)
    for (const offset of [1, 2, 2, 4, 3, 5, 6]) a.receive(message(offset))
    const b = tally.listener('b', 'r')
    b.joinedAt(0)
    for (const offset of [1, 2, 3, 4, 5]) b.receive(message(offset, offset === 5 ? 'other' : `m${offset}`))
    expect(tally.complete()).toBe(false)
    expect(tally.behind()).toEqual(['b in r at 5 of 6'])
    const [va, vb] = tally.verdicts()
    // a: 2 twice, 3 skipped then late, every acked offset held in the end.
    expect(va).toMatchObject({ lost: 0, duplicates: 1, gaps: 1, outOfOrder: 1, mismatches: 0 })
    expect(vb).toMatchObject({ lost: 1, duplicates: 0, gaps: 0, outOfOrder: 0, mismatches: 1 })
    // Offset 5 was acked as m5 and first delivered as m5; b's "other" is the mismatch above.
    expect(tally.ackMismatches()).toBe(0)
  })

  it('does not hold a listener that left to the messages after it left', () => {
    const tally = new SoakTally()
    const gone = tally.listener('gone', 'r')
    gone.joinedAt(0)
    tally.ack(message(1))
    gone.receive(message(1))
    gone.live = false
    tally.ack(message(2))
    expect(tally.complete()).toBe(true)
    expect(tally.verdicts()[0]).toMatchObject({ live: false, lost: 0 })
  })

  it('finds an offset acked to one publish and delivered as another', () => {
    const tally = new SoakTally()
    tally.ack(message(1, 'mine'))
    const l = tally.listener('l', 'r')
    l.receive(message(1, 'theirs'))
    expect(tally.ackMismatches()).toBe(1)
  })
})

describe('classify (relay log lines)', () => {
  const line = (fields: object) => JSON.stringify({ time: 0, msg: 'x', ...fields })

  it('accepts an error line with an err that has a message, or a cause', () => {
    expect(classify(line({ level: 50, err: { type: 'Error', message: 'ECONNREFUSED', stack: '' } }))).toBe(
      'error with cause',
    )
    expect(classify(line({ level: 60, cause: 'disk full' }))).toBe('error with cause')
  })

  it('flags an error line without one, an unparsable line, and counts warnings apart', () => {
    expect(classify(line({ level: 50 }))).toBe('error without cause')
    expect(classify(line({ level: 50, err: {} }))).toBe('error without cause')
    expect(classify('{"level":50,')).toBe('error without cause')
    expect(classify(line({ level: 40 }))).toBe('warning')
    expect(classify(line({ level: 30 }))).toBeNull()
    expect(classify('WebSocket: ws://127.0.0.1:1234/ws')).toBeNull()
  })
})
