// The store methods of issue 15 (bans, the webhook queue, erasure, id lookup), one behaviour over every backend.
import { afterEach, describe, expect, it } from 'vitest'
import { conversationId, conversationRoom } from '../../src/store/conversations'
import { type Ban, ERASED_NAME, type QueuedEvent } from '../../src/store/types'
import { type Backend, memoryBackend, redisBackend, redisClusterBackend, sqliteBackend } from './backends'

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]

const ban = (id: string, extra: Partial<Ban> = {}): Ban => ({
  id,
  user: 'u1',
  mute: false,
  createdAt: Date.now(),
  ...extra,
})
const event = (id: string, room = 'r'): QueuedEvent => ({
  id,
  room,
  body: JSON.stringify({ id }),
  createdAt: 1000,
  attempts: 0,
  next: 0,
})

describe.each(backends.filter((b) => b.missing === null))('$name store: moderation, webhooks, privacy', (backend) => {
  afterEach(() => backend.cleanup())

  it('keeps bans until lifted or expired, with every field', async () => {
    const { store } = await backend.node()
    const now = Date.now()
    await store.addBan(ban('b1', { room: 'lobby', reason: 'spam', createdAt: now - 2 }))
    await store.addBan(ban('b2', { mute: true, until: now + 60_000, createdAt: now - 1 }))
    await store.addBan(ban('b3', { until: now - 1, createdAt: now }))
    const listed = await store.bans(now)
    expect(listed.map((b) => b.id)).toEqual(['b1', 'b2'])
    expect(listed[0]).toEqual({ id: 'b1', user: 'u1', room: 'lobby', mute: false, reason: 'spam', createdAt: now - 2 })
    expect(await store.removeBan('b1')).toMatchObject({ id: 'b1', room: 'lobby' })
    expect(await store.removeBan('b1')).toBeUndefined()
    expect((await store.bans(now)).map((b) => b.id)).toEqual(['b2'])
    expect(await store.bans(now + 60_000)).toEqual([])
  })

  it('queues webhook events once each, in order, retries, finishes and dead-letters them', async () => {
    const { store } = await backend.node()
    for (const id of ['e1', 'e2', 'e3']) await store.pushEvent(event(id))
    await store.pushEvent(event('e1'))
    expect((await store.peekEvents(10)).map((e) => e.id)).toEqual(['e1', 'e2', 'e3'])
    await store.retryEvent('e1', 2, 5000)
    expect((await store.peekEvents(1))[0]).toEqual({ ...event('e1'), attempts: 2, next: 5000 })
    await store.finishEvent('e1')
    await store.finishEvent('e2', 'gave up')
    expect((await store.peekEvents(10)).map((e) => e.id)).toEqual(['e3'])
    const dead = await store.deadEvents(10)
    expect(dead).toEqual([{ ...event('e2'), reason: 'gave up', diedAt: expect.any(Number) }])
    expect(await store.deadEvents(0)).toEqual([])
  })

  it('gives the delivery lease to one owner at a time (always the only one on a single-process backend)', async () => {
    const { store } = await backend.node()
    expect(await store.lease('a', 10_000)).toBe(true)
    expect(await store.lease('a', 10_000)).toBe(true)
    expect(await store.lease('b', 10_000)).toBe(!backend.shared)
  })

  it('finds a stored id, scoped to its sender, and nothing else', async () => {
    const { store } = await backend.node()
    const { message } = await store.append({ room: 'r', id: 'x', from: { id: 'u1', name: 'Ada' }, text: 'hi' })
    expect(await store.find('r', 'u1', 'x')).toEqual(message)
    expect(await store.find('r', 'u2', 'x')).toBeUndefined()
    expect(await store.find('r', 'u1', 'y')).toBeUndefined()
    expect(await store.find('other', 'u1', 'x')).toBeUndefined()
  })

  it('erases a conversation entry: the email and preview gone, the name replaced, the rest kept', async () => {
    const { store } = await backend.node()
    const id = conversationId('v1')
    await store.updateConversation(id, { visitor: { id: 'v1', name: 'Vi' }, email: 'vi@example.com' })
    const { conversation } = await store.append({
      room: conversationRoom('v1'),
      id: 'm1',
      from: { id: 'v1', name: 'Vi' },
      text: 'my address is 1 Main St',
      conversation: { visitor: { id: 'v1', name: 'Vi' }, by: 'visitor' },
    })
    expect(conversation).toMatchObject({ preview: 'my address is 1 Main St', visitor: { email: 'vi@example.com' } })
    const erased = await store.updateConversation(id, { visitorName: ERASED_NAME, erase: true })
    expect(erased).toEqual({
      ...conversation,
      visitor: { id: 'v1', name: ERASED_NAME },
      preview: '',
    })
    expect(await store.conversation(id)).toEqual(erased)
    expect(await store.updateConversation(conversationId('nobody'), { erase: true })).toBeNull()
  })

  it('turns every message of a user into a tombstone, in every room, and leaves the others', async () => {
    const { store } = await backend.node()
    const ada = { id: 'u1', name: 'Ada' }
    const bob = { id: 'u2', name: 'Bob' }
    await store.append({ room: 'a', id: '1', from: ada, text: 'secret', meta: { email: 'ada@example.com' } })
    await store.append({ room: 'a', id: '2', from: bob, text: 'hello' })
    await store.append({ room: 'b', id: '3', from: ada, text: 'more' })
    const erased = await store.eraseUser('u1')
    expect(erased.sort((x, y) => x.room.localeCompare(y.room))).toEqual([
      { room: 'a', offset: 1 },
      { room: 'b', offset: 1 },
    ])
    const [first, second] = await store.after('a', 0, 10)
    expect(first).toEqual({
      room: 'a',
      offset: 1,
      id: '1',
      from: { id: 'u1', name: ERASED_NAME },
      text: '',
      ts: expect.any(Number),
    })
    expect(second).toMatchObject({ offset: 2, from: bob, text: 'hello' })
    expect((await store.after('b', 0, 10))[0]).toMatchObject({
      id: '3',
      text: '',
      from: { id: 'u1', name: ERASED_NAME },
    })
    // A resend of an erased message is still a duplicate: the tombstone keeps its id.
    const resend = await store.append({ room: 'a', id: '1', from: ada, text: 'secret' })
    expect(resend.duplicate).toBe(true)
    expect(resend.message.offset).toBe(1)
    // Offsets go on from the head.
    expect((await store.append({ room: 'a', id: '4', from: bob, text: 'next' })).message.offset).toBe(3)
  })
})

describe.each(backends.filter((b) => b.missing === null && b.name !== 'sqlite'))(
  '$name store: retention by age',
  (backend) => {
    afterEach(() => backend.cleanup())

    it('removes the messages stored before the cutoff, keeps offsets, epoch and the ids of removed messages', async () => {
      const { store } = await backend.node()
      const from = { id: 'u1', name: 'Ada' }
      const old = await store.append({ room: 'r', id: 'old', from, text: 'old' })
      await store.append({ room: 'gone', id: 'g', from, text: 'gone' })
      // The stores stamp with their own clock (Redis: TIME): wait until it has moved past the first two.
      const cutoff = Math.max(old.message.ts + 2, Date.now() + 2)
      while (Date.now() < cutoff + 2) await new Promise((resolve) => setTimeout(resolve, 2))
      const fresh = await store.append({ room: 'r', id: 'new', from, text: 'new' })
      expect(fresh.message.ts).toBeGreaterThanOrEqual(cutoff)
      const epoch = (await store.state('r')).epoch
      const goneEpoch = (await store.state('gone')).epoch
      expect(await store.expireBefore?.(cutoff)).toBe(2)
      expect(await store.after('r', 0, 10)).toEqual([fresh.message])
      expect(await store.state('r')).toEqual({ epoch, head: 2, first: 2 })
      // Emptied by age, not lost: same epoch, so resuming clients are not reset.
      expect(await store.state('gone')).toEqual({ epoch: goneEpoch, head: 1, first: 2 })
      // A resend of a removed message inside the idempotency window is still a duplicate.
      expect((await store.append({ room: 'r', id: 'old', from, text: 'old' })).duplicate).toBe(true)
      expect((await store.append({ room: 'gone', id: 'g2', from, text: 'next' })).message.offset).toBe(2)
    })
  },
)
