// The message lifecycle in every store (issue 14): changes appended to the log, current state on read,
// read positions, and what erasure and retention do to them.
import type { Message, Update } from '@confab/sdk/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeDraft, Draft, Entry, Store } from '../../src/store/types'
import { ChangeRefusedError, ERASED_NAME, isUpdate } from '../../src/store/types'
import { type Backend, memoryBackend, redisBackend, redisClusterBackend, sqliteBackend } from './backends'

const backends: Backend[] = [memoryBackend(), await redisBackend(), sqliteBackend(), redisClusterBackend()]
const ada = { id: 'ada', name: 'Ada' }
const bob = { id: 'bob', name: 'Bob' }
const cy = { id: 'cy', name: 'Cy' }
let seq = 0
const draft = (room: string, extra: Partial<Draft> = {}): Draft => ({
  room,
  id: `m${++seq}`,
  from: ada,
  text: `hello ${seq}`,
  ...extra,
})
const base = { ownOnly: false, editWindow: 0, maxReactions: 20 }
const edit = (room: string, target: number, text: string, extra: Partial<ChangeDraft> = {}): ChangeDraft => ({
  room,
  id: `c${++seq}`,
  from: ada,
  action: 'edit',
  target,
  text,
  ...base,
  ownOnly: true,
  ...extra,
})
const remove = (room: string, target: number, extra: Partial<ChangeDraft> = {}): ChangeDraft => ({
  room,
  id: `c${++seq}`,
  from: ada,
  action: 'delete',
  target,
  ...base,
  ...extra,
})
const react = (room: string, target: number, emoji: string, extra: Partial<ChangeDraft> = {}): ChangeDraft => ({
  room,
  id: `c${++seq}`,
  from: ada,
  action: 'react',
  target,
  emoji,
  ...base,
  ...extra,
})

/** The code and message of the refusal (fails the test if the change is made). */
async function refusal(promise: Promise<unknown>): Promise<[string, string]> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ChangeRefusedError)
  return [(error as ChangeRefusedError).code, (error as ChangeRefusedError).message]
}

/** The entry's kind and offset, for comparing logs. */
const shape = (entry: Entry): string =>
  isUpdate(entry) ? `${entry.action}@${entry.offset}->${entry.target}` : `msg@${entry.offset}`

/** The message at `offset` as `viewer` reads it through before(). */
async function stateOf(store: Store, room: string, offset: number, viewer?: string): Promise<Message | undefined> {
  return (await store.before(room, offset + 1, 1, viewer)).find((m) => m.offset === offset)
}

describe.each(backends.filter((b) => b.missing === null))('$name store: message lifecycle', (backend) => {
  afterEach(() => backend.cleanup())

  describe('changes', () => {
    it('edits a message: new text, meta when given, editedAt; the change gets its own offset', async () => {
      const { store } = await backend.node()
      const sent = await store.append(draft('r', { text: 'helo', meta: { k: 1 } }))
      const result = await store.change(edit('r', 1, 'hello', { id: 'e1' }))
      expect(result.duplicate).toBe(false)
      expect(result.epoch).toBe(sent.epoch)
      const { update } = result
      expect(update).toEqual({
        room: 'r',
        offset: 2,
        id: 'e1',
        ts: expect.any(Number),
        from: ada,
        action: 'edit',
        target: 1,
        message: { ...sent.message, text: 'hello', meta: { k: 1 }, editedAt: update.ts },
      })
      expect(update.ts).toBeGreaterThanOrEqual(sent.message.ts)
      expect(await store.state('r')).toMatchObject({ head: 2, first: 1 })
      const again = await store.change(edit('r', 1, 'hello!', { meta: { k: 2, tags: [], nested: { a: [] } } }))
      expect(again.update.message).toMatchObject({ text: 'hello!', editedAt: again.update.ts })
      // Meta comes back exactly as given (empty arrays stay arrays), also through later changes without meta.
      await store.change(react('r', 1, '👍'))
      await store.change(edit('r', 1, 'hello!!'))
      const [current] = await store.before('r', 2, 1)
      expect(current).toEqual({
        ...sent.message,
        text: 'hello!!',
        meta: { k: 2, tags: [], nested: { a: [] } },
        editedAt: expect.any(Number),
        reactions: { '👍': { count: 1 } },
      })
    })

    it('refuses a change to a message that is not there: never stored, a change, deleted, or trimmed', async () => {
      const { store } = await backend.node({ historyLimit: 4 })
      await store.append(draft('r'))
      await store.append(draft('r'))
      await store.change(remove('r', 2))
      const notFound = (offset: number) => [
        'not_found',
        `No message at offset ${offset} (never stored, no longer retained, deleted, or a change).`,
      ]
      expect(await refusal(store.change(edit('r', 9, 'x')))).toEqual(notFound(9))
      expect(await refusal(store.change(react('r', 3, '👍')))).toEqual(notFound(3))
      expect(await refusal(store.change(edit('r', 2, 'x')))).toEqual(notFound(2))
      expect(await refusal(store.change(remove('r', 2)))).toEqual(notFound(2))
      expect(await refusal(store.change(react('nowhere', 1, '👍')))).toEqual(notFound(1))
      await store.append(draft('r'))
      await store.append(draft('r'))
      expect(await store.state('r')).toMatchObject({ first: 2, head: 5 })
      expect(await refusal(store.change(edit('r', 1, 'x')))).toEqual(notFound(1))
      expect(await refusal(store.change(edit('r', 0, 'x')))).toEqual(notFound(0))
      expect((await store.state('r')).head).toBe(5)
    })

    it("refuses an ownOnly change to another's message, and an edit after the window", async () => {
      const { store } = await backend.node()
      await store.append(draft('r', { from: bob }))
      expect(await refusal(store.change(edit('r', 1, 'mine now')))).toEqual([
        'forbidden',
        'Message 1 was sent by someone else.',
      ])
      expect(await refusal(store.change(remove('r', 1, { ownOnly: true })))).toEqual([
        'forbidden',
        'Message 1 was sent by someone else.',
      ])
      // Not ownOnly (an operator, the HTTP API): allowed.
      expect((await store.change(remove('r', 1))).update.message).toMatchObject({ deleted: true })

      const own = await store.append(draft('r'))
      // The stores stamp with their own clock (Redis: TIME): wait until it has passed the window.
      while (Date.now() < own.message.ts + 20) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(await refusal(store.change(edit('r', own.message.offset, 'late', { editWindow: 10 })))).toEqual([
        'forbidden',
        `Message ${own.message.offset} can no longer be edited.`,
      ])
      // The window limits edits only, and a long one allows it.
      expect(
        (await store.change(edit('r', own.message.offset, 'in time', { editWindow: 600_000 }))).update.message,
      ).toMatchObject({
        text: 'in time',
      })
      expect((await store.change(react('r', own.message.offset, '👍', { editWindow: 10 }))).update.on).toBe(true)
      expect((await store.state('r')).head).toBe(5)
    })

    it('answers a resent change with the original update and stores nothing again', async () => {
      const { store } = await backend.node()
      await store.append(draft('r'))
      const first = await store.change(react('r', 1, '👍', { id: 'same' }))
      await store.append(draft('r', { from: bob }))
      const again = await store.change(react('r', 1, '👍', { id: 'same' }))
      expect(again).toEqual({ ...first, duplicate: true })
      expect(again.update.offset).toBe(2)
      expect((await store.state('r')).head).toBe(3)
      expect((await stateOf(store, 'r', 1))?.reactions).toEqual({ '👍': { count: 1 } })
      expect(await store.find('r', 'ada', 'same')).toEqual({
        ...first.update,
        message: { ...first.update.message, reactions: { '👍': { count: 1 } } },
      })
      // Scoped to the sender, shared with message ids.
      expect((await store.change(react('r', 1, '👍', { id: 'same', from: bob }))).duplicate).toBe(false)
      // Even once the target is gone, the resend is answered, not refused.
      await store.change(remove('r', 1, { id: 'del' }))
      const late = await store.change(react('r', 1, '👍', { id: 'same' }))
      expect(late).toMatchObject({ duplicate: true, update: { offset: 2, message: { deleted: true } } })
      expect((await store.change(remove('r', 1, { id: 'del' }))).duplicate).toBe(true)
    })

    it('toggles reactions per user and counts them; on forces a direction', async () => {
      const { store } = await backend.node()
      await store.append(draft('r'))
      const a = await store.change(react('r', 1, '👍'))
      expect(a.update).toMatchObject({ action: 'react', emoji: '👍', on: true, target: 1 })
      expect(a.update.message?.reactions).toEqual({ '👍': { count: 1, mine: true } })
      const b = await store.change(react('r', 1, '👍', { from: bob }))
      expect(b.update.message?.reactions).toEqual({ '👍': { count: 2, mine: true } })
      await store.change(react('r', 1, '🎉', { from: bob }))
      const off = await store.change(react('r', 1, '👍'))
      expect(off.update).toMatchObject({
        on: false,
        message: { reactions: { '👍': { count: 1, mine: false }, '🎉': { count: 1, mine: false } } },
      })
      // on: true twice stays on, counted once; on: false when off stays off.
      await store.change(react('r', 1, '🎉', { on: true }))
      const twice = await store.change(react('r', 1, '🎉', { on: true }))
      expect(twice.update).toMatchObject({ on: true, message: { reactions: { '🎉': { count: 2, mine: true } } } })
      const none = await store.change(react('r', 1, '😀', { on: false }))
      expect(none.update.on).toBe(false)
      expect(none.update.message?.reactions).not.toHaveProperty('😀')
      // Emoji with no one left disappear, and so does the field.
      await store.change(react('r', 1, '👍', { from: bob }))
      await store.change(react('r', 1, '🎉', { from: bob }))
      const last = await store.change(react('r', 1, '🎉'))
      expect(last.update.message).not.toHaveProperty('reactions')
    })

    it('bounds the distinct emoji on a message (limit_exceeded), not the users of one', async () => {
      const { store } = await backend.node()
      await store.append(draft('r'))
      await store.change(react('r', 1, '👍', { maxReactions: 2 }))
      await store.change(react('r', 1, '🎉', { maxReactions: 2, from: bob }))
      expect(await refusal(store.change(react('r', 1, '😀', { maxReactions: 2 })))).toEqual([
        'limit_exceeded',
        'A message carries at most 2 different reactions.',
      ])
      expect((await store.change(react('r', 1, '👍', { maxReactions: 2, from: cy }))).update.on).toBe(true)
      // Removing one makes room.
      await store.change(react('r', 1, '🎉', { maxReactions: 2, from: bob }))
      expect((await store.change(react('r', 1, '😀', { maxReactions: 2 }))).update.on).toBe(true)
      expect((await stateOf(store, 'r', 1))?.reactions).toEqual({ '👍': { count: 2 }, '😀': { count: 1 } })
    })

    it('turns a deleted message into a tombstone: no text, meta, reactions; sender, id and ts kept', async () => {
      const { store } = await backend.node()
      const sent = await store.append(draft('r', { text: 'oops', meta: { a: 1 } }))
      await store.change(react('r', 1, '👍', { from: bob }))
      await store.change(edit('r', 1, 'oops!'))
      const { update } = await store.change(remove('r', 1, { from: bob }))
      const tombstone = {
        room: 'r',
        offset: 1,
        id: sent.message.id,
        from: ada,
        text: '',
        ts: sent.message.ts,
        deleted: true,
      }
      expect(update).toMatchObject({ action: 'delete', target: 1, offset: 4, from: bob })
      expect(update.message).toEqual(tombstone)
      expect(update).not.toHaveProperty('emoji')
      expect(await stateOf(store, 'r', 1, 'bob')).toEqual(tombstone)
    })
  })

  describe('reading', () => {
    it('serves messages in their current state, with mine for the viewer only', async () => {
      const { store } = await backend.node()
      await store.append(draft('r', { text: 'one' }))
      await store.append(draft('r', { text: 'two', from: bob }))
      await store.change(react('r', 2, '👍'))
      await store.change(edit('r', 1, 'one!'))
      const asBob = await store.before('r', 100, 10, 'bob')
      expect(asBob.map((m) => [m.offset, m.text, m.reactions])).toEqual([
        [1, 'one!', undefined],
        [2, 'two', { '👍': { count: 1, mine: false } }],
      ])
      expect((await store.before('r', 100, 10, 'ada'))[1]?.reactions).toEqual({ '👍': { count: 1, mine: true } })
      expect((await store.before('r', 100, 10))[1]?.reactions).toEqual({ '👍': { count: 1 } })
      const log = await store.after('r', 0, 10, 'ada')
      expect(log.map(shape)).toEqual(['msg@1', 'msg@2', 'react@3->2', 'edit@4->1'])
      // Every change carries its target's current state, not the state it made.
      expect(log[0]).toMatchObject({ text: 'one!', editedAt: expect.any(Number) })
      expect((log[2] as Update).message).toMatchObject({ offset: 2, reactions: { '👍': { count: 1, mine: true } } })
      expect((log[3] as Update).message).toMatchObject({ offset: 1, text: 'one!' })
      expect(await store.find('r', 'ada', (log[3] as Update).id)).toMatchObject({
        offset: 4,
        action: 'edit',
        message: { text: 'one!' },
      })
    })

    it('interleaves changes with messages by offset in after(); before() skips changes yet fills its page', async () => {
      const { store } = await backend.node()
      await store.append(draft('r'))
      await store.change(react('r', 1, '👍'))
      await store.append(draft('r'))
      await store.change(edit('r', 3, 'x'))
      await store.change(edit('r', 3, 'y'))
      await store.append(draft('r'))
      expect((await store.after('r', 0, 10)).map(shape)).toEqual([
        'msg@1',
        'react@2->1',
        'msg@3',
        'edit@4->3',
        'edit@5->3',
        'msg@6',
      ])
      expect((await store.after('r', 2, 2)).map(shape)).toEqual(['msg@3', 'edit@4->3'])
      expect((await store.before('r', 7, 2)).map((m) => m.offset)).toEqual([3, 6])
      expect((await store.before('r', 6, 5)).map((m) => m.offset)).toEqual([1, 3])
      expect(await store.before('r', 1, 5)).toEqual([])
    })

    it('gives a change whose target was trimmed a null message', async () => {
      const { store } = await backend.node({ historyLimit: 3 })
      await store.append(draft('r'))
      await store.append(draft('r'))
      await store.change(react('r', 1, '👍'))
      await store.append(draft('r'))
      expect((await store.after('r', 0, 10)).map((e) => [shape(e), isUpdate(e) ? e.message : e.text])).toEqual([
        ['msg@2', expect.any(String)],
        ['react@3->1', null],
        ['msg@4', expect.any(String)],
      ])
    })
  })

  describe('read positions', () => {
    it('keeps the furthest position, clamped to the head', async () => {
      const node = await backend.node()
      const { store } = node
      for (let i = 0; i < 5; i++) await store.append(draft('r', { from: bob }))
      expect(await store.markRead('r', 'ada', 3)).toBe(3)
      expect(await store.markRead('r', 'ada', 2)).toBe(3)
      expect(await store.markRead('r', 'ada', 99)).toBe(5)
      expect(await store.readState('r', 'ada')).toEqual({ read: 5, unread: 0, reads: [{ user: 'bob', offset: 5 }] })
      // A room nobody wrote to keeps nothing.
      expect(await store.markRead('empty', 'ada', 3)).toBe(0)
      expect(await store.readState('empty', 'ada')).toEqual({ read: 0, unread: 0, reads: [] })
      expect(await backend.storedRooms(node)).toBe(1)
      // Not a position: nothing moves.
      expect(await store.markRead('r', 'cy', Number.NaN)).toBe(0)
      expect(await store.markRead('r', 'cy', -1)).toBe(0)
      expect(await store.markRead('r', 'cy', 2.5)).toBe(2)
    })

    it("moves the sender's position with each append, so own messages are never unread", async () => {
      const { store } = await backend.node()
      await store.append(draft('r', { from: bob }))
      await store.append(draft('r', { from: bob }))
      expect(await store.readState('r', 'ada')).toEqual({ read: 0, unread: 2, reads: [{ user: 'bob', offset: 2 }] })
      await store.append(draft('r'))
      expect(await store.readState('r', 'ada')).toEqual({ read: 3, unread: 0, reads: [{ user: 'bob', offset: 2 }] })
      // A duplicate moves nothing; a change moves nothing.
      await store.markRead('r', 'bob', 1)
      await store.change(react('r', 1, '👍', { from: bob }))
      expect((await store.readState('r', 'bob')).read).toBe(2)
    })

    it("counts as unread the others' messages after the position, not deleted ones, not changes, within history", async () => {
      const { store } = await backend.node({ historyLimit: 6 })
      await store.append(draft('r', { from: bob })) // 1
      await store.append(draft('r', { from: bob })) // 2
      await store.append(draft('r', { from: cy })) // 3
      await store.markRead('r', 'ada', 1)
      await store.append(draft('r', { from: bob })) // 4
      await store.change(remove('r', 3, { from: cy })) // 5
      await store.change(react('r', 2, '👍', { from: cy })) // 6
      expect((await store.readState('r', 'ada')).unread).toBe(2)
      expect((await store.readState('r', 'bob')).unread).toBe(0)
      expect((await store.readState('r', 'cy')).unread).toBe(1)
      // Trimmed messages no longer count.
      await store.append(draft('r', { from: cy })) // 7, trims 1
      await store.append(draft('r', { from: cy })) // 8, trims 2
      expect(await store.state('r')).toMatchObject({ first: 3, head: 8 })
      expect((await store.readState('r', 'ada')).unread).toBe(3)
      expect((await store.readState('r', 'nobody')).unread).toBe(3)
    })

    it('lists positions furthest first (by user on a tie): all for reads(), the 50 furthest others for readState()', async () => {
      const { store } = await backend.node()
      for (let i = 0; i < 60; i++) await store.append(draft('r', { from: { id: 'x', name: 'X' } }))
      for (let i = 1; i <= 55; i++) await store.markRead('r', `u${String(i).padStart(2, '0')}`, i)
      await store.markRead('r', 'tie', 30)
      await store.markRead('r', 'ada', 55)
      const all = await store.reads('r', 100)
      expect(all).toHaveLength(58)
      expect(all.slice(0, 4)).toEqual([
        { user: 'x', offset: 60 },
        { user: 'ada', offset: 55 },
        { user: 'u55', offset: 55 },
        { user: 'u54', offset: 54 },
      ])
      expect(all.slice(27, 29)).toEqual([
        { user: 'tie', offset: 30 },
        { user: 'u30', offset: 30 },
      ])
      expect(await store.reads('r', 2)).toEqual(all.slice(0, 2))
      const { read, reads } = await store.readState('r', 'ada')
      expect(read).toBe(55)
      expect(reads).toEqual(all.filter((p) => p.user !== 'ada').slice(0, 50))
    })

    it('keeps at most 10,000 positions per room, dropping the least recently moved', async () => {
      const { store } = await backend.node()
      for (let i = 0; i < 3; i++) await store.append(draft('r', { from: bob }))
      await store.markRead('r', 'first', 1)
      await store.markRead('r', 'moved', 1)
      const batch = 500
      for (let i = 0; i < 9_998; i += batch)
        await Promise.all(
          Array.from({ length: Math.min(batch, 9_998 - i) }, (_, j) => store.markRead('r', `reader${i + j}`, 2)),
        )
      // 'bob' (moved by his appends) was moved before 'first': he goes first, then 'first'; 'moved' moves now.
      expect(await store.markRead('r', 'moved', 3)).toBe(3)
      await store.markRead('r', 'late', 3)
      const all = await store.reads('r', 20_000)
      expect(all).toHaveLength(10_000)
      const users = new Set(all.map((p) => p.user))
      expect(users.has('bob')).toBe(false)
      expect(users.has('first')).toBe(false)
      expect(users.has('moved') && users.has('late') && users.has('reader0')).toBe(true)
    }, 60_000)
  })

  describe('erasure and retention', () => {
    it("erases a user's reactions and read positions with their messages", async () => {
      const { store } = await backend.node()
      await store.append(draft('r', { from: bob })) // 1
      await store.append(draft('r')) // 2
      await store.change(react('r', 1, '👍')) // 3
      await store.change(react('r', 1, '👍', { from: cy })) // 4
      await store.change(react('r', 1, '🎉', { from: { ...ada, role: 'operator' } })) // 5
      await store.change(react('r', 2, '😀', { from: bob })) // 6
      await store.markRead('r', 'ada', 6)
      expect(await store.eraseUser('ada')).toEqual([{ room: 'r', offset: 2 }])
      expect(await store.before('r', 100, 10, 'cy')).toEqual([
        expect.objectContaining({ offset: 1, reactions: { '👍': { count: 1, mine: true } } }),
        {
          room: 'r',
          offset: 2,
          id: expect.any(String),
          from: { id: 'ada', name: ERASED_NAME },
          text: '',
          ts: expect.any(Number),
        },
      ])
      expect((await store.reads('r', 10)).map((p) => p.user)).toEqual(['bob'])
      expect((await store.readState('r', 'ada')).read).toBe(0)
      // The erased user's changes keep their place in the log, without the name.
      const log = await store.after('r', 2, 10)
      expect(log.map((e) => e.from)).toEqual([
        { id: 'ada', name: ERASED_NAME },
        cy,
        { id: 'ada', name: ERASED_NAME },
        bob,
      ])
    })

    it('counts changes as entries of the history limit', async () => {
      const { store } = await backend.node({ historyLimit: 3 })
      await store.append(draft('r'))
      await store.append(draft('r'))
      await store.change(react('r', 2, '👍'))
      await store.change(react('r', 2, '🎉'))
      expect(await store.state('r')).toMatchObject({ first: 2, head: 4 })
      await store.change(edit('r', 2, 'x'))
      // The oldest entry is now a change.
      expect(await store.state('r')).toMatchObject({ first: 3, head: 5 })
      expect((await store.after('r', 0, 10)).map(shape)).toEqual(['react@3->2', 'react@4->2', 'edit@5->2'])
      expect(await store.before('r', 100, 10)).toEqual([])
      expect(await refusal(store.change(react('r', 2, '😀')))).toEqual([
        'not_found',
        'No message at offset 2 (never stored, no longer retained, deleted, or a change).',
      ])
    })
  })
})

describe.each(backends.filter((b) => b.missing === null && b.name !== 'sqlite'))(
  '$name store: retention by age of changes',
  (backend) => {
    afterEach(() => backend.cleanup())

    it('removes changes stored before the cutoff like messages', async () => {
      const { store } = await backend.node()
      const old = await store.append(draft('r'))
      const change = await store.change(react('r', 1, '👍'))
      const cutoff = Math.max(change.update.ts + 2, Date.now() + 2)
      while (Date.now() < cutoff + 2) await new Promise((resolve) => setTimeout(resolve, 2))
      const fresh = await store.append(draft('r'))
      expect(fresh.message.ts).toBeGreaterThanOrEqual(cutoff)
      expect(await store.expireBefore?.(cutoff)).toBe(2)
      expect(await store.state('r')).toMatchObject({ head: 3, first: 3 })
      expect((await store.after('r', 0, 10)).map(shape)).toEqual(['msg@3'])
      expect(old.message.offset).toBe(1)
    })
  },
)
