// The message lifecycle over the wire (issue 14; docs/protocol.md "Message lifecycle"): edit, delete and react
// frames, their acks and `update` broadcasts, every refusal, idempotent resends, resume, and read positions.
import type { ConfabApi, Relay } from '@confab/relay'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/store/memory'
import { perTest, relayPerFile, type TestClient } from './helpers'

const relay = relayPerFile()
const t = perTest()

let serial = 0
/** A fresh room name per test, so tests sharing the relay never see each other. */
const roomName = () => `life-${++serial}`

/** Sends a frame with a new ref and resolves with its answer (ack or error). */
async function ask(c: TestClient, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = `r${++serial}`
  c.send({ ...frame, ref })
  return c.next((f) => f.ref === ref)
}

const edit = (c: TestClient, room: string, offset: number, text: string, extra: Record<string, unknown> = {}) =>
  ask(c, { type: 'edit', room, id: `e${++serial}`, offset, text, ...extra })
const remove = (c: TestClient, room: string, offset: number, extra: Record<string, unknown> = {}) =>
  ask(c, { type: 'delete', room, id: `d${++serial}`, offset, ...extra })
const react = (c: TestClient, room: string, offset: number, emoji: string, extra: Record<string, unknown> = {}) =>
  ask(c, { type: 'react', room, id: `x${++serial}`, offset, emoji, ...extra })

/** The user id a client was welcomed with. */
const idOf = (c: TestClient): string => (c.frames[0]?.user as { id: string } | undefined)?.id ?? ''

/** Waits until every frame the relay sent before now has reached `c` (a ping's pong comes after them). */
async function settle(c: TestClient): Promise<void> {
  const ref = `k${++serial}`
  c.send({ type: 'ping', ref })
  await c.next((f) => f.type === 'pong' && f.ref === ref)
}

const updatesOf = (c: TestClient) => c.frames.filter((f) => f.type === 'update')

async function pair(
  r: Relay = relay(),
  room = roomName(),
): Promise<{ ann: TestClient; ben: TestClient; room: string }> {
  const ann = await t.client(r, { name: 'Ann' })
  const ben = await t.client(r, { name: 'Ben' })
  await ann.join(room)
  await ben.join(room)
  return { ann, ben, room }
}

describe('edit, delete and react', () => {
  it("edits the author's message: the ack has the change's own offset and the new state, every member gets the update", async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'helo', { id: 'm1', meta: { a: 1 } })
    const ack = await edit(ann, room, 1, 'hello', { id: 'e1' })
    expect(ack).toEqual({
      type: 'ack',
      ref: expect.any(String),
      room,
      id: 'e1',
      offset: 2,
      ts: expect.any(Number),
      message: {
        room,
        offset: 1,
        id: 'm1',
        from: { id: idOf(ann), name: 'Ann' },
        text: 'hello',
        meta: { a: 1 },
        ts: expect.any(Number),
        editedAt: ack.ts,
      },
    })
    const expected = {
      type: 'update',
      room,
      offset: 2,
      id: 'e1',
      ts: ack.ts,
      from: { id: idOf(ann), name: 'Ann' },
      action: 'edit',
      target: 1,
      message: ack.message,
    }
    expect(await ben.nextOf('update')).toEqual(expected)
    expect(await ann.nextOf('update')).toEqual(expected)
    // The next message comes after the change in the log.
    expect(await ann.publish(room, 'next')).toMatchObject({ type: 'ack', offset: 3 })
  })

  it('replaces meta when an edit gives one, cleans the text like a publish, and keeps meta otherwise', async () => {
    const { ann, room } = await pair()
    await ann.publish(room, 'one', { meta: { a: 1 } })
    expect((await edit(ann, room, 1, 'two\r\nlines\u202e')).message).toMatchObject({
      text: 'two\nlines',
      meta: { a: 1 },
    })
    expect((await edit(ann, room, 1, 'three', { meta: { b: 2 } })).message).toMatchObject({
      text: 'three',
      meta: { b: 2 },
    })
  })

  it("deletes the author's message: a tombstone that keeps offset, id, sender and time, without text, meta or reactions", async () => {
    const { ann, ben, room } = await pair()
    const sent = await ann.publish(room, 'oops', { id: 'm1', meta: { a: 1 } })
    await react(ben, room, 1, '👍')
    const ack = await remove(ann, room, 1, { id: 'd1' })
    const tombstone = {
      room,
      offset: 1,
      id: 'm1',
      from: { id: idOf(ann), name: 'Ann' },
      text: '',
      ts: sent.ts,
      deleted: true,
    }
    expect(ack).toMatchObject({ type: 'ack', id: 'd1', offset: 3, message: tombstone })
    expect(ack.message).toEqual(tombstone)
    expect(await ben.next((f) => f.type === 'update' && f.action === 'delete')).toMatchObject({
      offset: 3,
      target: 1,
      message: tombstone,
    })
    // History and a new joiner see the tombstone.
    const carl = await t.client(relay())
    expect((await carl.join(room, { history: 10 })).messages).toEqual([tombstone])
  })

  it('toggles reactions: counts per emoji, `mine` in the ack, none in the shared update, emoji at 0 removed', async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'react to me')
    const first = await react(ann, room, 1, '👍🏽')
    expect(first).toMatchObject({
      type: 'ack',
      offset: 2,
      message: { reactions: { '👍🏽': { count: 1, mine: true } } },
    })
    expect(await ben.nextOf('update')).toMatchObject({
      action: 'react',
      target: 1,
      emoji: '👍🏽',
      on: true,
      from: { id: idOf(ann) },
      message: { reactions: { '👍🏽': { count: 1 } } },
    })
    expect(updatesOf(ben)[0]?.message).not.toHaveProperty('reactions.👍🏽.mine')

    const second = await react(ben, room, 1, '👍🏽')
    expect(second.message).toMatchObject({ reactions: { '👍🏽': { count: 2, mine: true } } })
    const flag = await react(ben, room, 1, '🇫🇷')
    expect(flag.message).toMatchObject({
      reactions: { '👍🏽': { count: 2, mine: true }, '🇫🇷': { count: 1, mine: true } },
    })

    // Toggle off, then `on` says what to do whatever the state.
    const off = await react(ann, room, 1, '👍🏽')
    expect(off.message).toMatchObject({ reactions: { '👍🏽': { count: 1, mine: false } } })
    expect(await ann.next((f) => f.type === 'update' && f.offset === off.offset)).toMatchObject({ on: false })
    expect((await react(ben, room, 1, '🇫🇷', { on: true })).message).toMatchObject({ reactions: { '🇫🇷': { count: 1 } } })
    const gone = await react(ben, room, 1, '🇫🇷', { on: false })
    expect(gone.message).not.toHaveProperty('reactions.🇫🇷')
    expect(await remove(ann, room, 1)).toMatchObject({ type: 'ack' })
    const last = await ann.publish(room, 'after')
    // Every change is an entry of the log: 1 message, 6 reactions, 1 delete, then this message.
    expect(last.offset).toBe(9)
  })

  it('lets an operator delete anyone’s message, but not edit it', async () => {
    const r = relay()
    const key = (r.server.plugins as { confab: ConfabApi }).confab.operatorKey
    const room = roomName()
    const ann = await t.client(r, { name: 'Ann' })
    const op = await t.client(r, { key })
    await ann.join(room)
    await op.join(room)
    await ann.publish(room, 'hello')
    expect(await edit(op, room, 1, 'changed')).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'Message 1 was sent by someone else.',
    })
    expect(await remove(op, room, 1)).toMatchObject({ type: 'ack', message: { deleted: true } })
    expect(await ann.next((f) => f.type === 'update')).toMatchObject({
      action: 'delete',
      from: { id: idOf(op), role: 'operator' },
    })
  })
})

describe('refusals', () => {
  it.each([
    ['an offset of 0', { type: 'edit', offset: 0, text: 'x' }, 'offset must be a positive integer'],
    ['a fractional offset', { type: 'delete', offset: 1.5 }, 'offset must be a positive integer'],
    ['an offset as a string', { type: 'react', offset: '1', emoji: '👍' }, 'offset must be a positive integer'],
    ['no id', { type: 'delete', id: undefined, offset: 1 }, 'id is required'],
    [
      'an id over 64 characters',
      { type: 'delete', id: 'i'.repeat(65), offset: 1 },
      'id must be a string of at most 64 characters',
    ],
    ['empty edit text', { type: 'edit', offset: 1, text: '' }, 'text is empty'],
    ['blank edit text', { type: 'edit', offset: 1, text: ' \n\u200b' }, 'text is empty'],
    ['edit text that is not a string', { type: 'edit', offset: 1, text: 5 }, 'text must be a string'],
    ['meta that is not an object', { type: 'edit', offset: 1, text: 'x', meta: [1] }, 'meta must be an object'],
    [
      'a letter as emoji',
      { type: 'react', offset: 1, emoji: 'a' },
      'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
    ],
    [
      'two letters',
      { type: 'react', offset: 1, emoji: 'ab' },
      'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
    ],
    [
      'a text smiley',
      { type: 'react', offset: 1, emoji: ':)' },
      'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
    ],
    [
      'two emoji',
      { type: 'react', offset: 1, emoji: '😀😀' },
      'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
    ],
    [
      'no emoji',
      { type: 'react', offset: 1 },
      'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
    ],
    ['`on` that is not a boolean', { type: 'react', offset: 1, emoji: '👍', on: 'yes' }, 'on must be a boolean'],
  ])('answers %s with bad_request', async (_what, fields, message) => {
    const { ann, room } = await pair()
    await ann.publish(room, 'target')
    const frame: Record<string, unknown> = { id: `b${++serial}`, room, ...fields }
    expect(await ask(ann, frame)).toEqual({
      type: 'error',
      ref: expect.any(String),
      room,
      code: 'bad_request',
      message,
    })
  })

  it('answers an edit over maxText with too_large', async () => {
    const { ann, room } = await pair()
    await ann.publish(room, 'target')
    expect(await edit(ann, room, 1, 'x'.repeat(4001))).toMatchObject({
      code: 'too_large',
      message: 'text is longer than 4000 characters',
    })
  })

  it('needs the room joined', async () => {
    const { ann, room } = await pair()
    await ann.publish(room, 'target')
    const carl = await t.client(relay())
    expect(await react(carl, room, 1, '👍')).toMatchObject({ code: 'bad_request', message: 'join the room first' })
  })

  it('answers not_found for an offset never stored, a change event, and a deleted message', async () => {
    const { ann, room } = await pair()
    await ann.publish(room, 'target')
    await react(ann, room, 1, '👍')
    const notFound = (offset: number) => ({
      type: 'error',
      ref: expect.any(String),
      room,
      code: 'not_found',
      message: `No message at offset ${offset} (never stored, no longer retained, deleted, or a change).`,
    })
    expect(await edit(ann, room, 99, 'x')).toEqual(notFound(99))
    expect(await edit(ann, room, 2, 'x')).toEqual(notFound(2))
    await remove(ann, room, 1)
    expect(await edit(ann, room, 1, 'x')).toEqual(notFound(1))
    expect(await react(ann, room, 1, '👍')).toEqual(notFound(1))
    expect(await remove(ann, room, 1)).toEqual(notFound(1))
  })

  it("answers forbidden to editing or (for a visitor) deleting another's message; anyone may react", async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'mine')
    const forbidden = { code: 'forbidden', message: 'Message 1 was sent by someone else.' }
    expect(await edit(ben, room, 1, 'yours now')).toMatchObject(forbidden)
    expect(await remove(ben, room, 1)).toMatchObject(forbidden)
    expect(await react(ben, room, 1, '❤️')).toMatchObject({ type: 'ack' })
    await settle(ann)
    expect(updatesOf(ann)).toHaveLength(1)
  })

  it('answers forbidden to an edit after the edit window (messages.editWindow)', async () => {
    let now = 1_000_000
    const r = await t.relayWith({ store: new MemoryStore({ now: () => now }), messages: { editWindow: 60 } })
    const { ann, room } = await pair(r)
    await ann.publish(room, 'quick')
    now += 60_000
    expect(await edit(ann, room, 1, 'still in time')).toMatchObject({ type: 'ack' })
    now += 1
    expect(await edit(ann, room, 1, 'too late')).toMatchObject({
      code: 'forbidden',
      message: 'Message 1 can no longer be edited.',
    })
    // Deleting has no window.
    expect(await remove(ann, room, 1)).toMatchObject({ type: 'ack' })
  })

  it('answers limit_exceeded to a new emoji beyond reactions.maxPerMessage, while existing ones still count up', async () => {
    const r = await t.relayWith({ reactions: { maxPerMessage: 2 } })
    const { ann, ben, room } = await pair(r)
    await ann.publish(room, 'popular')
    await react(ann, room, 1, '👍')
    await react(ann, room, 1, '🎉')
    expect(await react(ben, room, 1, '🚀')).toMatchObject({
      code: 'limit_exceeded',
      message: 'A message carries at most 2 different reactions.',
    })
    expect(await react(ben, room, 1, '🎉')).toMatchObject({ message: { reactions: { '🎉': { count: 2 } } } })
  })

  it('counts against the publish bucket: rate_limited with retryAfter', async () => {
    const r = await t.relayWith({ limits: { publishRate: 1, publishBurst: 1 } })
    const { ann, room } = await pair(r)
    await ann.publish(room, 'one')
    expect(await react(ann, room, 1, '👍')).toMatchObject({
      code: 'rate_limited',
      message: 'publishing too fast',
      retryAfter: expect.any(Number),
    })
  })

  it('refuses edits and reactions of a muted user, who may still delete their own messages', async () => {
    const r = relay()
    const { ann, ben, room } = await pair(r)
    await ann.publish(room, 'before the mute')
    const muted = await fetch(`${r.url}/v1/bans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: idOf(ann), room, mute: true }),
    })
    expect(muted.status).toBe(201)
    expect(await edit(ann, room, 1, 'x')).toMatchObject({ code: 'forbidden', message: 'muted' })
    expect(await react(ann, room, 1, '👍')).toMatchObject({ code: 'forbidden', message: 'muted' })
    expect(await remove(ann, room, 1)).toMatchObject({ type: 'ack', message: { deleted: true } })
    expect(await ben.next((f) => f.type === 'update')).toMatchObject({ action: 'delete' })
  })
})

describe('idempotency', () => {
  it('answers a resent change with the same ack and neither stores nor broadcasts it again', async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'target')
    const frame = { type: 'edit', room, id: 'same', offset: 1, text: 'edited once' }
    const first = await ask(ann, frame)
    const again = await ask(ann, { ...frame, text: 'edited twice?' })
    expect({ ...again, ref: '' }).toEqual({ ...first, ref: '' })
    const reaction = { type: 'react', room, id: 'same-r', offset: 1, emoji: '👍' }
    const on = await ask(ann, reaction)
    // A toggle resent is not a second toggle.
    expect({ ...(await ask(ann, reaction)), ref: '' }).toEqual({ ...on, ref: '' })
    // The next message shows nothing was stored in between, and members saw each change once.
    expect(await ann.publish(room, 'next')).toMatchObject({ offset: 4 })
    await ben.next((f) => f.type === 'message' && f.offset === 4)
    expect(updatesOf(ben).map((f) => [f.offset, f.action])).toEqual([
      [2, 'edit'],
      [3, 'react'],
    ])
  })

  it('keeps change ids in the sender’s message-id namespace', async () => {
    const { ann, room } = await pair()
    await ann.publish(room, 'target', { id: 'taken' })
    // An id the sender already used for a message is answered as that message's duplicate, never stored as a change.
    const answer = await react(ann, room, 1, '👍', { id: 'taken' })
    expect(answer).toMatchObject({ type: 'ack', offset: 1 })
    expect(await ann.publish(room, 'next')).toMatchObject({ offset: 2 })
    await ann.next((f) => f.type === 'message' && f.offset === 2)
    expect(updatesOf(ann)).toEqual([])
  })
})

describe('resume', () => {
  it('gives a client that was offline through an edit, a reaction and a delete each change once, in log order', async () => {
    const r = relay()
    const room = roomName()
    const ann = await t.client(r, { name: 'Ann' })
    await ann.join(room)
    await ann.publish(room, 'one')
    await ann.publish(room, 'two')
    const ben = await t.client(r, { name: 'Ben' })
    const joined = await ben.join(room, { history: 10 })
    const since = { epoch: joined.epoch, offset: 2 }
    await ben.close()

    await edit(ann, room, 1, 'one, edited')
    await react(ann, room, 2, '🎉')
    await ann.publish(room, 'three')
    await remove(ann, room, 2)

    const back = await t.client(r, { name: 'Ben' })
    const resumed = await back.join(room, { since, history: 10 })
    expect(resumed).toMatchObject({ recovered: true, head: 6 })
    // Messages after `since`, in current state; changes after it with their targets' current state (older than since).
    expect((resumed.messages as { offset: number; text: string }[]).map((m) => [m.offset, m.text])).toEqual([
      [5, 'three'],
    ])
    const updates = resumed.updates as {
      offset: number
      action: string
      target: number
      message: Record<string, unknown>
    }[]
    expect(updates.map((u) => [u.offset, u.action, u.target])).toEqual([
      [3, 'edit', 1],
      [4, 'react', 2],
      [6, 'delete', 2],
    ])
    expect(updates[0]?.message).toMatchObject({ offset: 1, text: 'one, edited' })
    expect(updates[1]?.message).toMatchObject({ offset: 2, deleted: true, text: '' })
    // Live delivery continues after the head, with no change repeated.
    await ann.publish(room, 'four')
    expect(await back.nextOf('message')).toMatchObject({ offset: 7, text: 'four' })
    expect(updatesOf(back)).toEqual([])
  })

  it('serves joined and history messages in current state with `mine` for the asker, and no changes', async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'one')
    await react(ben, room, 1, '👍')
    await edit(ann, room, 1, 'uno')
    const carl = await t.client(relay())
    const joined = await carl.join(room, { history: 10 })
    expect(joined.messages).toEqual([expect.objectContaining({ offset: 1, text: 'uno', editedAt: expect.any(Number) })])
    expect(joined).not.toHaveProperty('updates')
    expect((joined.messages as Record<string, unknown>[])[0]?.reactions).toEqual({ '👍': { count: 1, mine: false } })
    const page = await ask(ben, { type: 'history', room })
    expect(page).toMatchObject({ type: 'history', more: false })
    expect(page.messages).toEqual([
      expect.objectContaining({ offset: 1, text: 'uno', reactions: { '👍': { count: 1, mine: true } } }),
    ])
  })
})

describe('read positions', () => {
  it('returns the position, unread count and the others’ positions on join; a publish moves the sender’s', async () => {
    const { ann, room } = await pair()
    for (const text of ['one', 'two', 'three']) await ann.publish(room, text)
    await remove(ann, room, 2)
    const carl = await t.client(relay(), { name: 'Carl' })
    const joined = await carl.join(room)
    // Deleted messages do not count as unread; the sender read up to its own newest message.
    expect(joined).toMatchObject({ read: 0, unread: 2, reads: [{ user: idOf(ann), offset: 3 }] })
    // Another tab of the sender: its own messages are read.
    const annTab = await t.client(relay(), { name: 'Ann', resume: ann.frames[0]?.resume })
    expect(await annTab.join(room)).toMatchObject({ read: 3, unread: 0, reads: [] })
  })

  it('keeps the position across a reload and shares it between two connections of one user', async () => {
    const r = relay()
    const { ann, room } = await pair(r)
    for (const text of ['one', 'two', 'three']) await ann.publish(room, text)
    const tab1 = await t.client(r, { name: 'Dee' })
    const resume = tab1.frames[0]?.resume as string
    const tab2 = await t.client(r, { name: 'Dee', resume })
    expect(idOf(tab2)).toBe(idOf(tab1))
    expect(await tab1.join(room)).toMatchObject({ read: 0, unread: 3 })
    await tab2.join(room)
    tab1.send({ type: 'read', room, offset: 2 })
    // The user's other tab hears it, as do the others.
    expect(await tab2.nextOf('read')).toEqual({ type: 'read', room, user: idOf(tab1), offset: 2 })
    expect(await ann.nextOf('read')).toEqual({ type: 'read', room, user: idOf(tab1), offset: 2 })
    await tab1.close()
    await tab2.close()
    const reloaded = await t.client(r, { name: 'Dee', resume })
    expect(await reloaded.join(room)).toMatchObject({ read: 2, unread: 1 })
    // Never back, clamped to the head.
    reloaded.send({ type: 'read', room, offset: 1 })
    reloaded.send({ type: 'read', room, offset: 1000 })
    expect(await ann.nextOf('read')).toEqual({ type: 'read', room, user: idOf(reloaded), offset: 3 })
    const again = await t.client(r, { name: 'Dee', resume })
    expect(await again.join(room)).toMatchObject({ read: 3, unread: 0 })
  })

  it('announces a reader at most once a second, the latest position last', async () => {
    const r = relay()
    const { ann, ben, room } = await pair(r)
    for (const text of ['one', 'two', 'three', 'four']) await ann.publish(room, text)
    ben.send({ type: 'read', room, offset: 1 })
    const first = await ann.nextOf('read')
    const firstAt = Date.now()
    ben.send({ type: 'read', room, offset: 2 })
    ben.send({ type: 'read', room, offset: 3 })
    await settle(ben)
    const second = await ann.nextOf('read', 3000)
    const gap = Date.now() - firstAt
    expect([first.offset, second.offset]).toEqual([1, 3])
    expect(gap).toBeGreaterThanOrEqual(900)
    // A read that moves nothing is not announced.
    ben.send({ type: 'read', room, offset: 2 })
    ben.send({ type: 'read', room, offset: 4 })
    expect(await ann.nextOf('read', 3000)).toMatchObject({ offset: 4 })
    expect(ann.frames.filter((f) => f.type === 'read').map((f) => f.offset)).toEqual([1, 3, 4])
  })

  it('announces nothing for the position a publish moved', async () => {
    const { ann, ben, room } = await pair()
    await ann.publish(room, 'one')
    ann.send({ type: 'read', room, offset: 1 })
    await ben.publish(room, 'two')
    await settle(ann)
    await settle(ben)
    expect([...ann.frames, ...ben.frames].filter((f) => f.type === 'read')).toEqual([])
  })
})
