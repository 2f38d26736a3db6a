import type { Member } from '@confab/sdk/protocol'
import { describe, expect, it } from 'vitest'
import { Batch, type BatchReader, type Change, loneJoiner, mergeChange, presenceFrames } from '../src/batch'
import { SharedFrame } from '../src/writer'

const ann: Member = { id: 'ann', name: 'Ann' }
const ben: Member = { id: 'ben', name: 'Ben' }
const cat: Member = { id: 'cat', name: 'Cat' }

type Step = ['join' | 'leave', Member]

/** The changes a sequence of joins and leaves merges into. */
function merged(steps: Step[]): Change[] {
  const changes = new Map<string, Change>()
  for (const [kind, member] of steps) mergeChange(changes, member, kind)
  return [...changes.values()]
}

const ids = (members: Member[] | undefined) => members?.map((m) => m.id)

describe('presenceFrames: net for members from before the turn, latest for a member who joined during it', () => {
  it.each<{ name: string; steps: Step[]; net: [string[], string[]] | null; latest: [string[], string[]] | null }>([
    { name: 'nothing', steps: [], net: null, latest: null },
    { name: 'one join', steps: [['join', ann]], net: [['ann'], []], latest: [['ann'], []] },
    { name: 'one leave', steps: [['leave', ann]], net: [[], ['ann']], latest: [[], ['ann']] },
    {
      name: 'join then leave',
      steps: [
        ['join', ann],
        ['leave', ann],
      ],
      net: null,
      latest: [[], ['ann']],
    },
    {
      name: 'leave then rejoin',
      steps: [
        ['leave', ann],
        ['join', ann],
      ],
      net: null,
      latest: [['ann'], []],
    },
    {
      name: 'join, leave, join',
      steps: [
        ['join', ann],
        ['leave', ann],
        ['join', ann],
      ],
      net: [['ann'], []],
      latest: [['ann'], []],
    },
    {
      name: 'several users, one cancelled',
      steps: [
        ['join', ann],
        ['join', ben],
        ['leave', cat],
        ['leave', ben],
      ],
      net: [['ann'], ['cat']],
      latest: [['ann'], ['ben', 'cat']],
    },
  ])('$name', ({ steps, net, latest }) => {
    const frames = presenceFrames('r', merged(steps))
    expect(frames.net && [ids(frames.net.joins), ids(frames.net.leaves)]).toEqual(net)
    expect(
      frames.latest && [ids(frames.latest.joins), ids(frames.latest.leaves?.sort((a, b) => a.id.localeCompare(b.id)))],
    ).toEqual(latest)
    expect(frames.same).toBe(JSON.stringify(frames.net) === JSON.stringify(frames.latest))
  })

  it('keeps the member as last seen (a rename between join and rejoin)', () => {
    const [change] = merged([
      ['leave', ann],
      ['join', { id: 'ann', name: 'Annie' }],
    ])
    expect(change).toEqual({ member: { id: 'ann', name: 'Annie' }, first: 'leave', last: 'join' })
  })

  it.each([
    [{ type: 'presence', room: 'r', joins: [ann], leaves: [] }, 'ann'],
    [{ type: 'presence', room: 'r', joins: [ann, ben], leaves: [] }, null],
    [{ type: 'presence', room: 'r', joins: [ann], leaves: [ben] }, null],
    [null, null],
  ] as const)('loneJoiner(%j) is %s', (frame, id) => {
    expect(loneJoiner(frame as never)).toBe(id)
  })
})

/** A reader that records the payloads of each write it gets. */
function reader(user: Member): BatchReader & { writes: string[][] } {
  const writes: string[][] = []
  return {
    user,
    writes,
    deliver: (frame: SharedFrame) =>
      writes.push(frame.payloads.map((p) => JSON.parse(String(p)).n ?? JSON.parse(String(p)).type)),
  }
}

const msg = (n: number) => SharedFrame.of(JSON.stringify({ type: 'message', n }))

describe('Batch.flush', () => {
  it('writes one shared buffer to members from before, with presence where the first change happened', () => {
    const batch = new Batch()
    const [a, b] = [reader(ann), reader(ben)]
    batch.message(msg(1))
    batch.presence([cat], [])
    batch.message(msg(2))
    batch.flush('r', [a, b], new Set())
    expect(a.writes).toEqual([[1, 'presence', 2]])
    expect(b.writes).toEqual(a.writes)
    batch.flush('r', [a, b], new Set())
    expect(a.writes).toHaveLength(1)
  })

  it('gives a member who joined mid-batch only what followed its joined, and skips one still joining', () => {
    const batch = new Batch()
    const [a, late, joining] = [reader(ann), reader(ben), reader(cat)]
    batch.message(msg(1))
    batch.joined(late)
    batch.message(msg(2))
    batch.flush('r', [a, late, joining], new Set([joining]))
    expect(a.writes).toEqual([[1, 2]])
    expect(late.writes).toEqual([[2]])
    expect(joining.writes).toEqual([])
  })

  it('does not tell a user about its own lone join, which its joined listed', () => {
    const batch = new Batch()
    const [a, self] = [reader(ann), reader(ben)]
    batch.presence([ben], [])
    batch.message(msg(1))
    batch.flush('r', [a, self], new Set())
    expect(a.writes).toEqual([['presence', 1]])
    expect(self.writes).toEqual([[1]])
  })

  it('says when it is full: 64 KiB of messages or 1,000 users of presence changes', () => {
    const batch = new Batch()
    const big = SharedFrame.of(JSON.stringify({ pad: 'x'.repeat(40_000) }))
    expect(batch.message(big)).toBe(false)
    expect(batch.message(big)).toBe(true)
    const members = Array.from({ length: 1000 }, (_, i) => ({ id: `u${i}`, name: `U${i}` }))
    expect(batch.presence(members.slice(0, 999), [])).toBe(false)
    expect(batch.presence(members.slice(999), [])).toBe(true)
  })
})
