import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RoomSet } from '../src/room-set'

describe('RoomSet', () => {
  it('behaves like a Set of strings for any sequence of adds and deletes', () => {
    const op = fc.tuple(fc.constantFrom('add', 'delete'), fc.constantFrom('a', 'b', 'c', 'd'))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const rooms = new RoomSet()
        const model = new Set<string>()
        for (const [kind, room] of ops) {
          if (kind === 'add') {
            rooms.add(room)
            model.add(room)
          } else {
            expect(rooms.delete(room)).toBe(model.delete(room))
          }
          expect(rooms.size).toBe(model.size)
          for (const r of ['a', 'b', 'c', 'd']) expect(rooms.has(r)).toBe(model.has(r))
          expect(rooms.list().sort()).toEqual([...model].sort())
        }
      }),
    )
  })
})
