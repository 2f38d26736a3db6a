// The message lifecycle inside the SDK (room.ts, sender.ts): edit, delete and react through the outbox, `update`
// events in log order with `message`, `mine` filled in, read positions and the unread count.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConnectOptions } from '../src/client'
import type { ClientFrame, Message, ReadPosition, Update } from '../src/protocol'
import type { StorageLike } from '../src/storage'
import { ALICE, BOB, FakeSocket } from './support/fake-socket'
import { joined, msg, setup } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const CAROL = { id: 'u-carol', name: 'Carol' }

/** A change frame as the relay broadcasts it: the target's state without `mine`. */
function change(offset: number, over: Partial<Update> & Pick<Update, 'action' | 'target'>): Update {
  const { target } = over
  return {
    room: 'lobby',
    offset,
    id: `c-${offset}`,
    ts: 1_700_000_000_000 + offset,
    from: ALICE,
    message: msg(target),
    ...over,
  }
}

/** A client in `lobby`, welcomed (not joined), recording messages, updates and read events. */
function lobby(options: ConnectOptions = {}) {
  const t = setup(options)
  const room = t.client.join('lobby')
  const log: [string, number][] = []
  const updates: [Message, Update][] = []
  const readEvents: ReadPosition[][] = []
  room.on('message', (m) => log.push(['message', m.offset]))
  room.on('update', (m, u) => {
    log.push(['update', u.offset])
    updates.push([m, u])
  })
  room.on('read', (p) => readEvents.push(p))
  FakeSocket.last.welcome()
  const reconnect = () => {
    FakeSocket.last.drop()
    vi.advanceTimersByTime(30_000)
    FakeSocket.last.welcome()
  }
  /** The newest frame of a type the SDK sent. */
  const last = <T extends ClientFrame['type']>(type: T) => FakeSocket.last.sentOf(type).at(-1)
  const ack = (f: { ref: string; id: string } | undefined, offset: number, message?: Message) =>
    FakeSocket.last.receive({ type: 'ack', ref: f?.ref ?? '', room: 'lobby', id: f?.id ?? '', offset, ts: 42, message })
  return { ...t, room, log, updates, readEvents, reconnect, last, ack }
}

describe('edit, delete and react', () => {
  it('send their frames with an SDK ref and a fresh id, and resolve with the message state from the ack', async () => {
    const { room, last, ack } = lobby()
    FakeSocket.last.receive(joined({ head: 3 }))
    const edited = { ...msg(3, 'fixed'), editedAt: 99 }
    const editing = room.edit(3, 'fixed', { meta: { v: 2 } })
    const e = last('edit')
    expect(e).toMatchObject({ type: 'edit', room: 'lobby', offset: 3, text: 'fixed', meta: { v: 2 } })
    expect(e?.ref).toMatch(/^#\d+$/)
    ack(e, 4, edited)
    await expect(editing).resolves.toEqual(edited)

    const deleting = room.delete(3)
    const d = last('delete')
    expect(d).toMatchObject({ type: 'delete', room: 'lobby', offset: 3 })
    expect(d?.id).not.toBe(e?.id)
    const tomb = { ...msg(3, ''), deleted: true as const }
    ack(d, 5, tomb)
    await expect(deleting).resolves.toEqual(tomb)

    const reacting = room.react(2, '👍')
    const r = last('react')
    expect(r).toMatchObject({ type: 'react', room: 'lobby', offset: 2, emoji: '👍' })
    expect(r).not.toHaveProperty('on') // absent: the relay toggles
    const liked = { ...msg(2), reactions: { '👍': { count: 1, mine: true } } }
    ack(r, 6, liked)
    await expect(reacting).resolves.toEqual(liked)
  })

  it('wait in the outbox while offline, in order with messages, one frame per room on the wire', async () => {
    const { room, reconnect, ack } = lobby()
    FakeSocket.last.drop()
    const sending = room.send('hi')
    const editing = room.edit(1, 'hello')
    vi.advanceTimersByTime(30_000)
    FakeSocket.last.welcome()
    FakeSocket.last.receive(joined({ head: 0 }))
    expect(FakeSocket.last.sent.map((f) => f.type)).toEqual(['hello', 'join', 'publish'])
    const p = FakeSocket.last.sentOf('publish')[0]
    ack(p, 1)
    await expect(sending).resolves.toMatchObject({ offset: 1, text: 'hi' })
    const e = FakeSocket.last.sentOf('edit')[0]
    expect(e).toMatchObject({ offset: 1, text: 'hello' })
    // The ack is lost with the link: the same edit goes again, same id, after the re-join.
    reconnect()
    FakeSocket.last.receive(joined({ head: 2 }))
    const again = FakeSocket.last.sentOf('edit')[0]
    expect(again?.id).toBe(e?.id)
    ack(again, 2, { ...msg(1, 'hello'), editedAt: 5 })
    await expect(editing).resolves.toMatchObject({ text: 'hello', editedAt: 5 })
    void reconnect
  })

  it('reject with the relay refusal and the change id, and the room goes on', async () => {
    const { room, last, ack } = lobby()
    FakeSocket.last.receive(joined({ head: 3 }))
    const editing = room.edit(3, 'not mine')
    const e = last('edit')
    const next = room.react(3, '🎉')
    FakeSocket.last.receive({
      type: 'error',
      ref: e?.ref,
      room: 'lobby',
      code: 'forbidden',
      message: 'not your message',
    })
    await expect(editing).rejects.toMatchObject({ code: 'forbidden', message: 'not your message', id: e?.id })
    ack(last('react'), 4, msg(3))
    await expect(next).resolves.toMatchObject({ offset: 3 })
  })

  it('reject with timeout when unacknowledged, stay queued, and a retry with the id waits for them', async () => {
    const { room, last, ack } = lobby({ sendTimeout: 1_000 })
    FakeSocket.last.receive(joined({ head: 3 }))
    const editing = room.edit(3, 'x')
    vi.advanceTimersByTime(1_000)
    const error = await editing.catch((err: { code: string; id: string }) => err)
    expect(error).toMatchObject({ code: 'timeout' })
    const retry = room.edit(3, 'x', { id: error.id })
    expect(FakeSocket.last.sentOf('edit')).toHaveLength(1)
    ack(last('edit'), 4, msg(3, 'x'))
    await expect(retry).resolves.toMatchObject({ text: 'x' })
  })

  it('persist with their type and target, and a reloaded client sends them with the same id', () => {
    const data = new Map<string, string>()
    const storage: StorageLike = {
      getItem: (k) => data.get(k) ?? null,
      setItem: (k, v) => void data.set(k, v),
      removeItem: (k) => void data.delete(k),
    }
    const first = lobby({ persist: storage })
    FakeSocket.last.drop()
    void first.room.react(5, '❤️').catch(() => {})
    first.client.close()
    const second = lobby({ persist: storage })
    FakeSocket.last.receive(joined({ head: 5 }))
    const [r] = FakeSocket.last.sentOf('react')
    expect(r).toMatchObject({ type: 'react', room: 'lobby', offset: 5, emoji: '❤️' })
    expect(JSON.parse([...data.values()][0] ?? '{}').outbox[0]).toMatchObject({ type: 'react', id: r?.id })
    void second
  })
})

describe('update events', () => {
  it('interleave the replay of joined by offset, and the position moves over change offsets', () => {
    const { room, log, updates, reconnect } = lobby()
    FakeSocket.last.receive(joined({ head: 1, messages: [msg(1)] }))
    reconnect()
    FakeSocket.last.receive(
      joined({
        head: 5,
        messages: [msg(2), msg(4)],
        updates: [change(3, { action: 'edit', target: 1 }), change(5, { action: 'delete', target: 2 })],
      }),
    )
    expect(log).toEqual([
      ['message', 1],
      ['message', 2],
      ['update', 3],
      ['message', 4],
      ['update', 5],
    ])
    expect(room.position).toEqual({ epoch: 'e1', offset: 5 })
    expect(updates[0]?.[0]).toEqual(msg(1)) // the target before this client's view is still told
  })

  it('deliver live changes once in log order, hold those that beat joined, and skip a lost target', () => {
    const { log, reconnect } = lobby()
    FakeSocket.last.receive(joined({ head: 2, messages: [] }))
    FakeSocket.last.receive({ type: 'update', ...change(3, { action: 'edit', target: 1 }) })
    FakeSocket.last.receive({ type: 'update', ...change(3, { action: 'edit', target: 1 }) })
    reconnect()
    FakeSocket.last.receive({ type: 'update', ...change(6, { action: 'edit', target: 2 }) })
    FakeSocket.last.receive(
      joined({ head: 5, messages: [msg(4)], updates: [change(5, { action: 'delete', target: 1, message: null })] }),
    )
    expect(log).toEqual([
      ['update', 3],
      ['message', 4],
      ['update', 6],
    ])
  })
})

describe('mine', () => {
  it("is filled in on others' reaction updates from the user's own reactions", () => {
    const { updates } = lobby()
    FakeSocket.last.receive(joined({ head: 2 }))
    const state = (count: number, carol = 0) => ({
      ...msg(1),
      reactions: { '👍': { count }, ...(carol ? { '🎉': { count: carol } } : {}) },
    })
    FakeSocket.last.receive({
      type: 'update',
      ...change(3, { action: 'react', target: 1, emoji: '👍', on: true, message: state(1) }),
    })
    FakeSocket.last.receive({
      type: 'update',
      ...change(4, { action: 'react', target: 1, from: CAROL, emoji: '🎉', on: true, message: state(1, 1) }),
    })
    expect(updates[1]?.[0].reactions).toEqual({ '👍': { count: 1, mine: true }, '🎉': { count: 1, mine: false } })
    // Taken back (from another tab): no longer mine when Bob adds his.
    FakeSocket.last.receive({
      type: 'update',
      ...change(5, { action: 'react', target: 1, emoji: '👍', on: false, message: { ...msg(1) } }),
    })
    FakeSocket.last.receive({
      type: 'update',
      ...change(6, { action: 'react', target: 1, from: BOB, emoji: '👍', on: true, message: state(1) }),
    })
    expect(updates[3]?.[0].reactions).toEqual({ '👍': { count: 1, mine: false } })
  })

  it('is learnt from the states of joined and of history pages', async () => {
    const { room, updates, last } = lobby()
    const liked = { ...msg(2), reactions: { '👍': { count: 2, mine: true } } }
    FakeSocket.last.receive(joined({ head: 2, recovered: false, messages: [liked] }))
    const page = room.history({ before: 2 })
    const h = last('history')
    const old = { ...msg(1), reactions: { '🎉': { count: 1, mine: true } } }
    FakeSocket.last.receive({ type: 'history', ref: h?.ref ?? '', room: 'lobby', messages: [old], more: false })
    await expect(page).resolves.toEqual([old])
    const bobs = (target: number, reactions: Message['reactions'], offset: number) =>
      FakeSocket.last.receive({
        type: 'update',
        ...change(offset, {
          action: 'react',
          target,
          from: BOB,
          emoji: '😀',
          on: true,
          message: { ...msg(target), reactions },
        }),
      })
    bobs(2, { '👍': { count: 2 }, '😀': { count: 1 } }, 3)
    bobs(1, { '🎉': { count: 1 }, '😀': { count: 1 } }, 4)
    expect(updates.map(([m]) => m.reactions)).toEqual([
      { '👍': { count: 2, mine: true }, '😀': { count: 1, mine: false } },
      { '🎉': { count: 1, mine: true }, '😀': { count: 1, mine: false } },
    ])
  })
})

describe('read positions and unread', () => {
  it('start from joined: own position, unread count, the others positions', () => {
    const { room } = lobby()
    FakeSocket.last.receive(joined({ head: 9, read: 4, unread: 3, reads: [{ user: BOB.id, offset: 9 }] }))
    expect([room.read, room.unread]).toEqual([4, 3])
    expect(room.reads).toEqual([{ user: BOB.id, offset: 9 }])
  })

  it("count others' messages, drop to 0 at an own message, and move the sender's position", () => {
    const { room, readEvents } = lobby()
    FakeSocket.last.receive(joined({ head: 2, read: 2, unread: 0 }))
    FakeSocket.last.receive({ type: 'message', ...msg(3, 'a', 'lobby', BOB) })
    FakeSocket.last.receive({ type: 'message', ...msg(4, 'b', 'lobby', CAROL) })
    expect(room.unread).toBe(2)
    expect(readEvents.at(-1)).toEqual([
      { user: CAROL.id, offset: 4 },
      { user: BOB.id, offset: 3 },
    ])
    FakeSocket.last.receive({ type: 'message', ...msg(5, 'mine', 'lobby', ALICE) })
    expect([room.read, room.unread]).toEqual([5, 0])
  })

  it('counts the unread messages of the replay one by one, so marking one of them is exact', () => {
    const { room, last } = lobby()
    const from = (o: number, who = BOB) => msg(o, 't', 'lobby', who)
    // Read up to 2; one older than the replay and the replay's 5 and 7 from others are unread; 6 was deleted.
    FakeSocket.last.receive(
      joined({ head: 7, read: 2, unread: 3, messages: [from(5), { ...from(6), deleted: true, text: '' }, from(7)] }),
    )
    expect(room.unread).toBe(3)
    room.markRead(5)
    expect(last('read')).toEqual({ type: 'read', room: 'lobby', offset: 5 })
    expect([room.read, room.unread]).toEqual([5, 1])
    room.markRead()
    expect(last('read')).toEqual({ type: 'read', room: 'lobby', offset: 7 })
    expect([room.read, room.unread]).toEqual([7, 0])
    room.markRead(6) // behind: nothing to tell
    expect(FakeSocket.last.sentOf('read')).toHaveLength(2)
  })

  it("follows the user's other tabs, and others' read frames, with a read event", () => {
    const { room, readEvents } = lobby()
    FakeSocket.last.receive(joined({ head: 6, read: 3, unread: 0 }))
    for (const o of [7, 8, 9]) FakeSocket.last.receive({ type: 'message', ...msg(o, 'x', 'lobby', BOB) })
    FakeSocket.last.receive({ type: 'read', room: 'lobby', user: ALICE.id, offset: 8 })
    expect([room.read, room.unread]).toEqual([8, 1])
    FakeSocket.last.receive({ type: 'read', room: 'lobby', user: CAROL.id, offset: 9 })
    expect(readEvents.at(-1)).toEqual([
      { user: CAROL.id, offset: 9 },
      { user: BOB.id, offset: 9 },
    ])
    expect(room.reads).toEqual(readEvents.at(-1))
  })

  it('marks read while offline at once, and tells the relay at the next join', () => {
    const { room, reconnect } = lobby()
    FakeSocket.last.receive(joined({ head: 4, read: 1, unread: 3, messages: [] }))
    FakeSocket.last.drop()
    room.markRead(4)
    expect(room.unread).toBe(0)
    vi.advanceTimersByTime(30_000)
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('read')).toEqual([])
    FakeSocket.last.receive(joined({ head: 4, read: 1, unread: 3 }))
    expect(FakeSocket.last.sentOf('read')).toEqual([{ type: 'read', room: 'lobby', offset: 4 }])
    expect([room.read, room.unread]).toEqual([4, 0])
    void reconnect
  })

  it('starts over after a reset: the read position of another epoch means nothing', () => {
    const { room, reconnect } = lobby()
    FakeSocket.last.receive(joined({ head: 9, read: 9, unread: 0 }))
    reconnect()
    FakeSocket.last.receive(joined({ epoch: 'e2', head: 2, recovered: false, read: 0, unread: 2 }))
    expect([room.read, room.unread]).toEqual([0, 2])
    expect(FakeSocket.last.sentOf('read')).toEqual([])
  })
})
