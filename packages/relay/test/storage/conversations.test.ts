// The conversation index: one behaviour suite over memory, SQLite and Redis.
import { afterEach, describe, expect, it } from 'vitest'
import { conversationId, conversationRoom } from '../../src/store/conversations'
import type { Draft, Store } from '../../src/store/types'
import { type Backend, memoryBackend, redisBackend, redisClusterBackend, sqliteBackend } from './backends'

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]
const operator = { id: 'op_1', name: 'Support', role: 'operator' as const }
let seq = 0

function say(visitor: { id: string; name: string }, text: string, by: 'visitor' | 'operator' = 'visitor'): Draft {
  return {
    room: conversationRoom(visitor.id),
    id: `m${++seq}`,
    from: by === 'visitor' ? visitor : operator,
    text,
    conversation: { visitor, by },
  }
}

/** Appends with a clock that moves, so entries differ in activity time on every backend (Redis stamps its own). */
async function append(store: Store, d: Draft): Promise<void> {
  await store.append(d)
  await new Promise((resolve) => setTimeout(resolve, 3))
}

describe.each(backends.filter((b) => b.missing === null))('$name conversation index', (backend) => {
  afterEach(() => backend.cleanup())

  it('creates the entry with the first message and keeps it in step with each append', async () => {
    const { store } = await backend.node()
    const ada = { id: 'guest_a', name: 'Ada' }
    const first = await store.append(say(ada, 'hello, my order 42 is late'))
    const id = conversationId(ada.id)
    expect(first.conversation).toEqual({
      id,
      room: `conv:${id}`,
      visitor: { id: 'guest_a', name: 'Ada' },
      createdAt: first.message.ts,
      lastActivityAt: first.message.ts,
      preview: 'hello, my order 42 is late',
      status: 'open',
      assignee: null,
      unread: { visitor: 0, operators: 1 },
    })
    const reply = await store.append(say(ada, 'x'.repeat(500), 'operator'))
    expect(reply.conversation?.unread).toEqual({ visitor: 1, operators: 1 })
    expect(reply.conversation?.preview).toBe('x'.repeat(140))
    expect(reply.conversation?.lastActivityAt).toBe(reply.message.ts)
    expect(await store.conversation(id)).toEqual(reply.conversation)
    expect(await store.conversation('AAAAAAAAAAAAAAAAAAAAAA')).toBeNull()
  })

  it("sets the newest message's preview after an edit or delete, only while that message is still the newest", async () => {
    const { store } = await backend.node()
    const ada = { id: 'guest_a', name: 'Ada' }
    const id = conversationId(ada.id)
    const first = await store.append(say(ada, 'my card number is 4111'))
    const edited = await store.updateConversation(id, {
      preview: { text: `fixed ${'y'.repeat(300)}`, ts: first.message.ts },
    })
    expect(edited?.preview).toBe(`fixed ${'y'.repeat(134)}`)
    const deleted = await store.updateConversation(id, { preview: { text: '', ts: first.message.ts } })
    expect(deleted?.preview).toBe('')
    // A newer message came: a late preview of the older one changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 3))
    const second = await store.append(say(ada, 'newer'))
    expect(second.message.ts).toBeGreaterThan(first.message.ts)
    const late = await store.updateConversation(id, { preview: { text: 'stale', ts: first.message.ts } })
    expect(late?.preview).toBe('newer')
    expect((await store.conversation(id))?.preview).toBe('newer')
    expect(late?.lastActivityAt).toBe(second.message.ts)
  })

  it('does not touch the index on a duplicate or outside conversation rooms', async () => {
    const { store } = await backend.node()
    const ada = { id: 'guest_a', name: 'Ada' }
    const d = say(ada, 'once')
    await store.append(d)
    const again = await store.append(d)
    expect(again.duplicate).toBe(true)
    expect(again.conversation).toBeUndefined()
    expect((await store.conversation(conversationId(ada.id)))?.unread.operators).toBe(1)
    const plain = await store.append({ room: 'lobby', id: 'p1', from: ada, text: 'hi' })
    expect(plain.conversation).toBeUndefined()
    expect((await store.conversations({})).items).toHaveLength(1)
  })

  it('resets one side when it reads, and reopens a closed conversation when the visitor writes', async () => {
    const { store } = await backend.node()
    const ada = { id: 'guest_a', name: 'Ada' }
    const id = conversationId(ada.id)
    await store.append(say(ada, 'one'))
    await store.append(say(ada, 'two'))
    await store.append(say(ada, 'answer', 'operator'))
    expect((await store.conversation(id))?.unread).toEqual({ visitor: 1, operators: 2 })
    expect((await store.updateConversation(id, { read: 'operators' }))?.unread).toEqual({ visitor: 1, operators: 0 })
    expect((await store.updateConversation(id, { read: 'visitor' }))?.unread).toEqual({ visitor: 0, operators: 0 })
    const assignee = { id: operator.id, name: operator.name }
    const closed = await store.updateConversation(id, { status: 'closed', assignee })
    expect(closed).toMatchObject({ status: 'closed', assignee })
    await store.append(say(ada, 'reply from operator', 'operator'))
    expect((await store.conversation(id))?.status).toBe('closed')
    await store.append(say(ada, 'are you there?'))
    expect(await store.conversation(id)).toMatchObject({ status: 'open', assignee })
    expect((await store.updateConversation(id, { assignee: null }))?.assignee).toBeNull()
  })

  it('stores a profile, creating the entry only when given the visitor', async () => {
    const { store } = await backend.node()
    const ada = { id: 'guest_a', name: 'Guest 1234' }
    const id = conversationId(ada.id)
    expect(await store.updateConversation(id, { email: 'ada@example.com' })).toBeNull()
    expect(await store.conversation(id)).toBeNull()
    const made = await store.updateConversation(id, { visitor: ada, visitorName: 'Ada', email: 'ada@example.com' })
    expect(made).toMatchObject({
      id,
      visitor: { id: 'guest_a', name: 'Ada', email: 'ada@example.com' },
      preview: '',
      unread: { visitor: 0, operators: 0 },
      status: 'open',
      assignee: null,
    })
    await store.append(say({ id: 'guest_a', name: 'Ada' }, 'first'))
    expect(await store.conversation(id)).toMatchObject({
      visitor: { email: 'ada@example.com' },
      createdAt: made?.createdAt,
      preview: 'first',
    })
  })

  it('lists newest activity first in cursor pages, filtered by status and assignee', async () => {
    const { store } = await backend.node()
    const visitors = Array.from({ length: 7 }, (_, i) => ({ id: `guest_${i}`, name: `V${i}` }))
    for (const v of visitors) await append(store, say(v, `from ${v.name}`))
    // V2 writes again: it moves to the top.
    await append(store, say(visitors[2] as { id: string; name: string }, 'again'))
    const order = ['V2', 'V6', 'V5', 'V4', 'V3', 'V1', 'V0']
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await store.conversations({ limit: 3, ...(cursor === undefined ? {} : { cursor }) })
      seen.push(...page.items.map((c) => c.visitor.name))
      cursor = page.cursor ?? undefined
      pages++
    } while (cursor !== undefined)
    expect(seen).toEqual(order)
    expect(pages).toBe(3)

    const v = (i: number) => conversationId(`guest_${i}`)
    await store.updateConversation(v(5), { status: 'closed' })
    await store.updateConversation(v(1), { status: 'closed', assignee: { id: 'op_1', name: 'Support' } })
    await store.updateConversation(v(4), { assignee: { id: 'op_2', name: 'Other' } })
    const names = async (q: Parameters<Store['conversations']>[0]) =>
      (await store.conversations(q)).items.map((c) => c.visitor.name)
    expect(await names({ status: 'closed' })).toEqual(['V5', 'V1'])
    expect(await names({ status: 'open' })).toEqual(['V2', 'V6', 'V4', 'V3', 'V0'])
    expect(await names({ assignee: 'op_1' })).toEqual(['V1'])
    expect(await names({ assignee: 'none', status: 'open' })).toEqual(['V2', 'V6', 'V3', 'V0'])
    const first = await store.conversations({ status: 'open', limit: 2 })
    expect(first.items.map((c) => c.visitor.name)).toEqual(['V2', 'V6'])
    const second = await store.conversations({ status: 'open', limit: 2, cursor: first.cursor as string })
    expect(second.items.map((c) => c.visitor.name)).toEqual(['V4', 'V3'])
    const third = await store.conversations({ status: 'open', limit: 2, cursor: second.cursor as string })
    expect(third).toEqual({
      items: [expect.objectContaining({ visitor: { id: 'guest_0', name: 'V0' } })],
      cursor: null,
    })
  })

  it('keeps one entry per visitor id: two visitors never share a conversation', async () => {
    const { store } = await backend.node()
    await store.append(say({ id: 'guest_a', name: 'A' }, 'a'))
    await store.append(say({ id: 'guest_b', name: 'B' }, 'b'))
    const { items } = await store.conversations({})
    expect(new Set(items.map((c) => c.room)).size).toBe(2)
    expect(items.map((c) => c.room).sort()).toEqual([conversationRoom('guest_a'), conversationRoom('guest_b')].sort())
  })

  it.runIf(backend.shared)('shares the index between nodes', async () => {
    const a = await backend.node()
    const b = await backend.node()
    await a.store.append(say({ id: 'guest_a', name: 'A' }, 'on node a'))
    const { items } = await b.store.conversations({})
    expect(items.map((c) => c.preview)).toEqual(['on node a'])
  })
})
