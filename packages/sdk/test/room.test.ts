import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Message } from '../src/protocol'
import type { ResetInfo } from '../src/room'
import { ALICE, BOB, FakeSocket } from './support/fake-socket'
import { joined, msg, setup } from './support/setup'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** An open client in `lobby`, recording the room's messages and resets. */
function inLobby(history?: number) {
  const t = setup()
  const room = t.client.join('lobby', history === undefined ? {} : { history })
  const got: Message[] = []
  const resets: ResetInfo[] = []
  room.on('message', (m) => got.push(m))
  room.on('reset', (r) => resets.push(r))
  FakeSocket.last.welcome()
  const offsets = () => got.map((m) => m.offset)
  /** Drops the link and brings it back: the next socket is welcomed, not yet joined. */
  const reconnect = () => {
    FakeSocket.last.drop()
    vi.advanceTimersByTime(30_000)
    FakeSocket.last.welcome()
  }
  return { ...t, room, got, resets, offsets, reconnect }
}

describe('join and messages', () => {
  it('joins with the requested history and delivers it, then live messages', () => {
    const { offsets } = inLobby(2)
    expect(FakeSocket.last.sentOf('join')).toEqual([{ type: 'join', ref: 'lobby', room: 'lobby', history: 2 }])
    FakeSocket.last.receive(joined({ head: 5, messages: [msg(4), msg(5)] }))
    FakeSocket.last.receive({ type: 'message', ...msg(6) })
    expect(offsets()).toEqual([4, 5, 6])
  })

  it('delivers messages without the frame type field', () => {
    const { got } = inLobby()
    FakeSocket.last.receive(joined())
    FakeSocket.last.receive({ type: 'message', ...msg(1, 'hi') })
    expect(got).toEqual([msg(1, 'hi')])
  })

  it('drops a message whose offset was already delivered', () => {
    const { offsets } = inLobby()
    FakeSocket.last.receive(joined())
    for (const o of [1, 2, 2, 1, 3, 3]) FakeSocket.last.receive({ type: 'message', ...msg(o) })
    expect(offsets()).toEqual([1, 2, 3])
  })

  it('re-joins since the last delivered position and delivers the replay once, in order', () => {
    const { offsets, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ head: 0 }))
    FakeSocket.last.receive({ type: 'message', ...msg(1) })
    FakeSocket.last.receive({ type: 'message', ...msg(2) })
    reconnect()
    expect(FakeSocket.last.sentOf('join')[0]?.since).toEqual({ epoch: 'e1', offset: 2 })
    FakeSocket.last.receive(joined({ head: 4, messages: [msg(2), msg(3), msg(4)] }))
    expect(offsets()).toEqual([1, 2, 3, 4])
  })

  it('a first join without history resumes from the head it joined at', () => {
    const { offsets, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ head: 41 }))
    reconnect()
    expect(FakeSocket.last.sentOf('join')[0]?.since).toEqual({ epoch: 'e1', offset: 41 })
    FakeSocket.last.receive(joined({ head: 42, messages: [msg(42)] }))
    expect(offsets()).toEqual([42])
  })

  it('holds live messages that beat joined until the replay is delivered', () => {
    const { offsets, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ head: 1, messages: [msg(1)] }))
    reconnect()
    FakeSocket.last.receive({ type: 'message', ...msg(4) })
    FakeSocket.last.receive(joined({ head: 3, messages: [msg(2), msg(3)] }))
    expect(offsets()).toEqual([1, 2, 3, 4])
  })

  it('emits reset with reason gap when the relay could not recover, then delivers the fresh view', () => {
    const { offsets, resets, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ head: 1, messages: [msg(1)] }))
    reconnect()
    FakeSocket.last.receive(joined({ head: 2_000, recovered: false, messages: [msg(1_999), msg(2_000)] }))
    expect(resets).toEqual([{ reason: 'gap', epoch: 'e1', head: 2_000 }])
    expect(offsets()).toEqual([1, 1_999, 2_000])
  })

  it('emits reset with reason epoch when the room history was lost, and delivers offsets again', () => {
    const { room, offsets, resets, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ head: 3, messages: [msg(1), msg(2), msg(3)] }))
    reconnect()
    FakeSocket.last.receive(joined({ epoch: 'e2', head: 1, recovered: false, messages: [msg(1, 'new world')] }))
    expect(resets).toEqual([{ reason: 'epoch', epoch: 'e2', head: 1 }])
    expect(offsets()).toEqual([1, 2, 3, 1])
    expect(room.position).toEqual({ epoch: 'e2', offset: 1 })
  })

  it('does not emit reset on a first join', () => {
    const { resets } = inLobby(10)
    FakeSocket.last.receive(joined({ head: 3, recovered: false, messages: [msg(3)] }))
    expect(resets).toEqual([])
  })

  it('ignores frames for rooms it is not in', () => {
    const { got } = inLobby()
    FakeSocket.last.receive(joined())
    FakeSocket.last.receive({ type: 'message', ...msg(1, 'x', 'elsewhere') })
    expect(got).toEqual([])
  })
})

describe('presence', () => {
  it('lists members from joined and applies joins and leaves', () => {
    const { room } = inLobby()
    const seen: string[][] = []
    room.on('presence', (ms) => seen.push(ms.map((m) => m.id)))
    FakeSocket.last.receive(joined({ members: [ALICE] }))
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [BOB], leaves: [] })
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [BOB], leaves: [] })
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [], leaves: [ALICE] })
    expect(seen).toEqual([['u-alice'], ['u-alice', 'u-bob'], ['u-alice', 'u-bob'], ['u-bob']])
    expect(room.members).toEqual([BOB])
  })

  it('counts members in a small room by the list, from joined and through joins and leaves', () => {
    const { room } = inLobby()
    expect(room.memberCount).toBe(0)
    FakeSocket.last.receive(joined({ members: [ALICE], count: 1 }))
    expect(room.memberCount).toBe(1)
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [BOB], leaves: [] })
    expect(room.memberCount).toBe(2)
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [], leaves: [ALICE] })
    expect(room.memberCount).toBe(1)
  })

  it("takes a large room's count from joined and count frames, keeping the first page as the list", () => {
    const { room } = inLobby()
    const counts: number[] = []
    room.on('presence', () => counts.push(room.memberCount))
    FakeSocket.last.receive(joined({ members: [ALICE, BOB], count: 20_000 }))
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [], leaves: [], count: 20_150 })
    FakeSocket.last.receive({ type: 'presence', room: 'lobby', joins: [], leaves: [], count: 19_990 })
    expect(counts).toEqual([20_000, 20_150, 19_990])
    expect(room.members).toEqual([ALICE, BOB])
  })

  it('pages the member list through client.request without joining anything else', async () => {
    const { client } = inLobby()
    FakeSocket.last.receive(joined({ members: [ALICE], count: 3 }))
    const page = client.request({ type: 'members', room: 'lobby', cursor: 'u-alice' })
    const [sent] = FakeSocket.last.sentOf('members')
    expect(sent).toMatchObject({ type: 'members', room: 'lobby', cursor: 'u-alice' })
    const ref = (sent as { ref: string }).ref
    FakeSocket.last.receive({ type: 'members', ref, room: 'lobby', members: [BOB], cursor: null })
    expect(await page).toEqual({ type: 'members', ref, room: 'lobby', members: [BOB], cursor: null })
  })

  it('counts by the list when a relay sends no count', () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined({ members: [ALICE, BOB] }))
    expect(room.memberCount).toBe(2)
  })

  it('replaces the member list from the joined of a reconnect', () => {
    const { room, reconnect } = inLobby()
    FakeSocket.last.receive(joined({ members: [ALICE, BOB] }))
    reconnect()
    FakeSocket.last.receive(joined({ members: [ALICE] }))
    expect(room.members).toEqual([ALICE])
  })
})

describe('typing', () => {
  it('sends at most one typing frame per 2 s while the user types, and stop after 3 s idle', () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    for (let i = 0; i < 25; i++) {
      room.typing()
      vi.advanceTimersByTime(200) // 5 s of keystrokes
    }
    expect(FakeSocket.last.sentOf('typing')).toEqual([
      { type: 'typing', room: 'lobby', active: true },
      { type: 'typing', room: 'lobby', active: true },
      { type: 'typing', room: 'lobby', active: true },
    ])
    vi.advanceTimersByTime(2_799)
    expect(FakeSocket.last.sentOf('typing')).toHaveLength(3)
    vi.advanceTimersByTime(1)
    expect(FakeSocket.last.sentOf('typing').at(-1)).toEqual({ type: 'typing', room: 'lobby', active: false })
  })

  it('sends nothing while not joined', () => {
    const t = setup()
    const room = t.client.join('lobby')
    room.typing()
    vi.advanceTimersByTime(5_000)
    expect(FakeSocket.last.sent).toEqual([])
  })

  it('tracks who else types from typing frames, ignoring the local user, and expires silent typists', () => {
    const { room } = inLobby()
    const seen: string[][] = []
    room.on('typing', (ms) => seen.push(ms.map((m) => m.id)))
    FakeSocket.last.receive(joined())
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: ALICE, active: true })
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
    expect(room.typingMembers).toEqual([BOB])
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: false })
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
    vi.advanceTimersByTime(6_000)
    expect(seen).toEqual([['u-bob'], [], ['u-bob'], []])
  })

  it('keeps a typist the relay refreshes listed, however long they type: each refresh re-arms the expiry', () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    for (let i = 0; i < 10; i++) {
      FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
      vi.advanceTimersByTime(5_000) // 50 s of typing, each refresh under the 6 s expiry
      expect(room.typingMembers).toEqual([BOB])
    }
    vi.advanceTimersByTime(999)
    expect(room.typingMembers).toEqual([BOB])
    vi.advanceTimersByTime(1) // 6 s after the last refresh
    expect(room.typingMembers).toEqual([])
  })

  it('stops listing a typist when their message arrives, and lists them again on their next typing frame', () => {
    const { room } = inLobby()
    const seen: string[][] = []
    room.on('typing', (ms) => seen.push(ms.map((m) => m.id)))
    FakeSocket.last.receive(joined())
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
    FakeSocket.last.receive({ type: 'message', ...msg(1, 'hi', 'lobby', BOB) })
    expect(room.typingMembers).toEqual([])
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
    expect(room.typingMembers).toEqual([BOB])
    // A message from someone not typing changes nothing.
    FakeSocket.last.receive({ type: 'message', ...msg(2, 'me', 'lobby', ALICE) })
    expect(seen).toEqual([['u-bob'], [], ['u-bob']])
  })

  it('sends typing at once after its own message is stored, without waiting out the 2 s throttle', async () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    room.typing()
    const sent = room.send('hello')
    const publish = FakeSocket.last.sentOf('publish')[0]
    room.typing() // within 2 s of the first typing frame, before the ack: throttled
    expect(FakeSocket.last.sentOf('typing')).toHaveLength(1)
    FakeSocket.last.receive({
      type: 'ack',
      ref: publish?.ref ?? '',
      room: 'lobby',
      id: publish?.id ?? '',
      offset: 1,
      ts: 1,
    })
    await sent
    vi.advanceTimersByTime(500)
    room.typing() // 0.5 s after the message: the others stopped showing us, so this goes out
    expect(FakeSocket.last.sentOf('typing')).toEqual([
      { type: 'typing', room: 'lobby', active: true },
      { type: 'typing', room: 'lobby', active: true },
    ])
    room.typing() // and the throttle holds again from there
    expect(FakeSocket.last.sentOf('typing')).toHaveLength(2)
    vi.advanceTimersByTime(3_000)
    expect(FakeSocket.last.sentOf('typing').at(-1)).toEqual({ type: 'typing', room: 'lobby', active: false })
  })

  it('clears typing users when the link drops', () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    FakeSocket.last.receive({ type: 'typing', room: 'lobby', user: BOB, active: true })
    FakeSocket.last.drop()
    expect(room.typingMembers).toEqual([])
  })
})

describe('history', () => {
  it('asks the relay and resolves with its messages, oldest first', async () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined({ head: 10 }))
    const page = room.history({ before: 8, limit: 2 })
    const ask = FakeSocket.last.sentOf('history')[0]
    expect(ask).toMatchObject({ room: 'lobby', before: 8, limit: 2 })
    FakeSocket.last.receive({
      type: 'history',
      ref: ask?.ref ?? '',
      room: 'lobby',
      messages: [msg(6), msg(7)],
      more: true,
    })
    expect((await page).map((m) => m.offset)).toEqual([6, 7])
  })

  it('waits for the connection and the join, then asks', async () => {
    const { client } = setup()
    const room = client.join('lobby')
    const page = room.history({ limit: 5 })
    expect(FakeSocket.last.sent).toEqual([])
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('history')).toEqual([]) // not before joined
    FakeSocket.last.receive(joined({ head: 3 }))
    const ask = FakeSocket.last.sentOf('history')
    expect(ask).toHaveLength(1)
    expect(ask[0]).toMatchObject({ room: 'lobby', limit: 5 })
    FakeSocket.last.receive({ type: 'history', ref: ask[0]?.ref ?? '', room: 'lobby', messages: [msg(3)], more: true })
    expect((await page).map((m) => m.offset)).toEqual([3])
  })

  it('times out after sendTimeout from the call when the connection does not come back', async () => {
    const { client } = setup({ sendTimeout: 2_000 })
    const page = client.join('lobby').history()
    vi.advanceTimersByTime(1_999)
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    await expect(page).rejects.toMatchObject({ code: 'timeout', message: 'no answer within 2000 ms' })
  })

  it('rejects with closed after leave or close, at once', async () => {
    const { client, room } = inLobby()
    const other = client.join('other')
    const waiting = other.history()
    room.leave()
    await expect(room.history()).rejects.toMatchObject({ code: 'closed', message: 'left room lobby' })
    client.close()
    await expect(waiting).rejects.toMatchObject({ code: 'closed', message: 'client closed' })
    await expect(other.history()).rejects.toMatchObject({ code: 'closed', message: 'client closed' })
  })

  it('asks again after retryAfter when the relay answers unavailable, within the same deadline', async () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    const page = room.history({ limit: 1 })
    const first = FakeSocket.last.sentOf('history')[0]
    FakeSocket.last.receive({
      type: 'error',
      ref: first?.ref,
      code: 'unavailable',
      message: 'store down',
      retryAfter: 500,
    })
    vi.advanceTimersByTime(499)
    expect(FakeSocket.last.sentOf('history')).toHaveLength(1)
    vi.advanceTimersByTime(1)
    const again = FakeSocket.last.sentOf('history')
    expect(again).toHaveLength(2)
    expect(again[1]).toEqual(first)
    FakeSocket.last.receive({ type: 'history', ref: first?.ref ?? '', room: 'lobby', messages: [msg(2)], more: true })
    expect((await page).map((m) => m.offset)).toEqual([2])
  })

  it('rejects with the relay error code', async () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    const page = room.history()
    const ref = FakeSocket.last.sentOf('history')[0]?.ref
    FakeSocket.last.receive({ type: 'error', ref, code: 'forbidden', message: 'no' })
    await expect(page).rejects.toMatchObject({ code: 'forbidden', message: 'no' })
  })

  it('asks again after a reconnect when the link drops before the answer, and times out when none comes', async () => {
    const { room } = inLobby()
    FakeSocket.last.receive(joined())
    const lost = room.history({ before: 9 })
    expect(FakeSocket.last.sentOf('history')).toHaveLength(1)
    FakeSocket.last.drop()
    vi.advanceTimersByTime(500) // the first backoff, well within the request's 10 s
    FakeSocket.last.welcome()
    expect(FakeSocket.last.sentOf('history')).toEqual([]) // not before the re-join
    FakeSocket.last.receive(joined())
    const again = FakeSocket.last.sentOf('history')
    expect(again).toHaveLength(1)
    expect(again[0]).toMatchObject({ room: 'lobby', before: 9 })
    FakeSocket.last.receive({
      type: 'history',
      ref: again[0]?.ref ?? '',
      room: 'lobby',
      messages: [msg(8)],
      more: true,
    })
    expect((await lost).map((m) => m.offset)).toEqual([8])
    const slow = room.history()
    vi.advanceTimersByTime(10_000)
    await expect(slow).rejects.toMatchObject({ code: 'timeout', message: 'no answer within 10000 ms' })
    expect(FakeSocket.last.sentOf('history')).toHaveLength(2)
  })
})

describe('leave', () => {
  it('sends leave, stops re-joining the room after a reconnect, and rejects its queued sends with closed', async () => {
    const { client, room, reconnect } = inLobby()
    FakeSocket.last.drop()
    const queued = room.send('never')
    vi.advanceTimersByTime(30_000)
    FakeSocket.last.welcome()
    room.leave()
    await expect(queued).rejects.toMatchObject({ code: 'closed', message: 'left room lobby' })
    expect(FakeSocket.last.sentOf('leave')).toEqual([{ type: 'leave', room: 'lobby' }])
    reconnect()
    expect(FakeSocket.last.sentOf('join')).toEqual([])
    expect(client.join('lobby')).not.toBe(room)
  })
})
