import { describe, expect, it } from 'vitest'
import type { Moderation } from '../../src/moderation'
import { Privacy } from '../../src/privacy'
import type { Rooms } from '../../src/rooms'
import { MemoryStore } from '../../src/store/memory'

describe('Privacy.erase', () => {
  it('runs the erasers other features add (conversation index, read positions) after the messages', async () => {
    const store = new MemoryStore()
    await store.append({ room: 'r', id: '1', from: { id: 'u', name: 'U' }, text: 'x' })
    const order: string[] = []
    const rooms = { deleted: async (_room: string, offset: number) => void order.push(`deleted ${offset}`) }
    const moderation = { liftAll: async () => 0 }
    const privacy = new Privacy({
      store,
      rooms: rooms as unknown as Rooms,
      moderation: moderation as unknown as Moderation,
      webhooks: undefined,
      logger: { error() {} },
    })
    privacy.addEraser(async (user) => void order.push(`index ${user}`))
    expect(await privacy.erase('u')).toEqual({ messages: 1, bans: 0 })
    expect(order).toEqual(['deleted 1', 'index u'])
  })
})
