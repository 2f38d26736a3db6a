// Conversations against a real relay: roles, privacy on every route, the index, unread counts and operator presence.
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { deriveOperatorKey } from '../src/auth'
import type { ConfabApi } from '../src/plugin'
import { conversationRoom } from '../src/store/conversations'
import { perTest, TestClient as Raw, type TestClient, wsUrl } from './helpers'

const t = perTest()
const OPERATOR_KEY = 'operator-key-for-tests-0123456789'
const SECRET = 'a-jwt-secret-of-at-least-32-characters!!'

const jwt = (claims: Record<string, unknown>) =>
  new SignJWT({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))

let refs = 0
/** Sends a ref'd frame and returns its answer (or error). */
async function ask(client: TestClient, frame: Record<string, unknown>) {
  const ref = `r${++refs}`
  client.send({ ...frame, ref })
  return client.next((f) => f.ref === ref)
}

async function visitorWithConversation(client: TestClient) {
  const answer = await ask(client, { type: 'conversation' })
  expect(answer.type).toBe('conversation')
  const room = answer.room as string
  expect((await client.join(room)).type).toBe('joined')
  return room
}

describe('roles', () => {
  it('signs in an operator by key, with an op_ id kept across reconnects and role operator everywhere', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    expect((relay.server.plugins as { confab: ConfabApi }).confab.operatorKey).toBe(OPERATOR_KEY)
    const op = new Raw(wsUrl(relay))
    t.track(op)
    const welcome = await op.hello({ key: OPERATOR_KEY, name: 'Ann from Acme' })
    expect(welcome.user).toEqual({
      id: expect.stringMatching(/^op_[0-9a-f]{16}$/),
      name: 'Ann from Acme',
      role: 'operator',
    })
    const again = await t.client(relay, { key: OPERATOR_KEY, resume: welcome.resume })
    expect((again.frames[0] as { user: { id: string } }).user.id).toBe((welcome.user as { id: string }).id)

    // The operator's resume string without the key signs in nobody: a new guest, never the operator.
    const sneaky = await t.client(relay, { resume: welcome.resume, name: 'Acme support' })
    const user = (sneaky.frames[0] as { user: { id: string; role?: string } }).user
    expect(user.id).toMatch(/^guest_/)
    expect(user.role).toBeUndefined()

    const bad = new Raw(wsUrl(relay))
    t.track(bad)
    expect(await bad.hello({ key: 'not-the-key-at-all-000' })).toMatchObject({ type: 'error', code: 'unauthorized' })
    expect((await bad.closedWith()).code).toBe(4001)
  })

  it('derives the operator key from the resume secret: equal on every node and restart, random without one', () => {
    expect(deriveOperatorKey('shared')).toBe(deriveOperatorKey('shared'))
    expect(deriveOperatorKey('shared')).toHaveLength(32)
    expect(deriveOperatorKey('shared')).not.toBe(deriveOperatorKey('other'))
    expect(deriveOperatorKey(undefined)).not.toBe(deriveOperatorKey(undefined))
  })

  it('uses the derived key when none is set', async () => {
    const relay = await t.relayWith({ resumeSecret: 'a-resume-secret-for-tests' })
    const key = (relay.server.plugins as { confab: ConfabApi }).confab.operatorKey
    expect(key).toBe(deriveOperatorKey('a-resume-secret-for-tests'))
    const op = await t.client(relay, { key })
    expect((op.frames[0] as { user: { role: string } }).user.role).toBe('operator')
  })

  it('makes operators of JWT users with role "operator" only, and a rooms claim never grants conv: rooms', async () => {
    const relay = await t.relayWith({ auth: { secret: SECRET } })
    const op = await t.client(relay, { token: await jwt({ sub: 'ann', name: 'Ann', role: 'operator' }) })
    expect(op.frames[0]).toMatchObject({ user: { id: 'ann', name: 'Ann', role: 'operator' } })
    const admin = await t.client(relay, { token: await jwt({ sub: 'x', role: 'admin', rooms: ['conv:*'] }) })
    expect((admin.frames[0] as { user: object }).user).toEqual({ id: 'x', name: 'x' })
    const room = conversationRoom('someone-else')
    expect(await admin.join(room)).toMatchObject({ type: 'error', code: 'forbidden' })
    // The operator key works on a relay with auth too.
    const key = (relay.server.plugins as { confab: ConfabApi }).confab.operatorKey
    const byKey = await t.client(relay, { key })
    expect(byKey.frames[0]).toMatchObject({ user: { role: 'operator' } })
  })
})

describe('privacy', () => {
  it('keeps a visitor conversation from another visitor on every WebSocket route', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    const ada = await t.client(relay, { name: 'Ada' })
    const bob = await t.client(relay, { name: 'Bob' })
    const adaRoom = await visitorWithConversation(ada)
    const bobRoom = await visitorWithConversation(bob)
    expect(adaRoom).not.toBe(bobRoom)
    expect(adaRoom).toMatch(/^conv:[A-Za-z0-9_-]{22}$/)
    await ada.publish(adaRoom, 'my address is 1 Secret Lane')

    // A guessed name, an existing one and a missing one: the same refusal.
    for (const room of [adaRoom, conversationRoom('guest_0000000000000000'), 'conv:guess']) {
      expect(await bob.join(room)).toMatchObject({ type: 'error', code: 'forbidden', room })
      expect(await ask(bob, { type: 'history', room })).toMatchObject({ type: 'error', code: 'forbidden' })
      expect(await bob.publish(room, 'hi')).toMatchObject({ type: 'error', code: 'bad_request' })
    }
    bob.send({ type: 'typing', room: adaRoom })
    expect(await bob.nextOf('error')).toMatchObject({ code: 'bad_request', room: adaRoom })
    expect(await ask(bob, { type: 'conversations' })).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(await ask(bob, { type: 'update-conversation', id: adaRoom.slice(5), status: 'closed' })).toMatchObject({
      code: 'forbidden',
    })
    expect(bob.frames.some((f) => JSON.stringify(f).includes('Secret Lane'))).toBe(false)
    // Ada's second tab (same identity) is the owner too.
    const adaWelcome = ada.frames[0] as { resume: string }
    const adaTab = await t.client(relay, { resume: adaWelcome.resume })
    expect(await adaTab.join(adaRoom, { history: 10 })).toMatchObject({
      type: 'joined',
      messages: [expect.objectContaining({ text: 'my address is 1 Secret Lane' })],
    })
  })

  it('keeps conv: rooms out of the rooms HTTP API without the API key or an operator credential', async () => {
    const relay = await t.relayWith({
      operatorKey: OPERATOR_KEY,
      auth: { secret: SECRET },
      apiKey: 'api-key-0123456789abcdef',
    })
    const visitorToken = await jwt({ sub: 'ada' })
    const room = conversationRoom('ada')
    const ada = await t.client(relay, { token: visitorToken })
    await ada.join(room)
    await ada.publish(room, 'private')
    const get = (path: string, auth?: string) =>
      fetch(`${relay.url}${path}`, auth === undefined ? {} : { headers: { authorization: `Bearer ${auth}` } })
    for (const path of [`/v1/rooms/${room}/messages`, `/v1/rooms/${room}/members`]) {
      const none = await get(path)
      expect(none.status).toBe(401)
      expect(await none.json()).toEqual({ code: 'unauthorized', message: expect.any(String) })
      expect((await get(path, 'wrong')).status).toBe(401)
      const visitor = await get(path, visitorToken)
      expect(visitor.status).toBe(403)
      expect(JSON.stringify(await visitor.json())).not.toContain('private')
      expect((await get(path, OPERATOR_KEY)).status).toBe(200)
      expect((await get(path, await jwt({ sub: 'ann', role: 'operator' }))).status).toBe(200)
      expect((await get(path, 'api-key-0123456789abcdef')).status).toBe(200)
    }
    const page = (await (await get(`/v1/rooms/${room}/messages`, OPERATOR_KEY)).json()) as {
      messages: { text: string }[]
    }
    expect(page.messages.map((m) => m.text)).toEqual(['private'])
  })

  it('refuses conv: rooms on an open API (no key, loopback) without an operator credential', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    const room = conversationRoom('guest_x')
    expect((await fetch(`${relay.url}/v1/rooms/${room}/messages`)).status).toBe(401)
    expect((await fetch(`${relay.url}/v1/rooms/lobby/messages`)).status).toBe(200)
    const post = await fetch(`${relay.url}/v1/rooms/${room}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'sneaky' }),
    })
    expect(post.status).toBe(401)
  })
})

describe('the index', () => {
  it('shows operators (by key and by JWT) both conversations, live, with unread counts moving as each side reads', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY, auth: { secret: SECRET } })
    const byKey = await t.client(relay, { key: OPERATOR_KEY, name: 'Ann' })
    const byJwt = await t.client(relay, { token: await jwt({ sub: 'ben', name: 'Ben', role: 'operator' }) })
    const ada = await t.client(relay, { token: await jwt({ sub: 'ada', name: 'Ada' }) })
    const bob = await t.client(relay, { token: await jwt({ sub: 'bob', name: 'Bob' }) })
    const adaRoom = await visitorWithConversation(ada)
    const bobRoom = await visitorWithConversation(bob)

    await ada.publish(adaRoom, 'hello from Ada')
    for (const op of [byKey, byJwt]) {
      expect(await op.next((f) => f.type === 'conversation' && f.ref === undefined)).toMatchObject({
        conversation: {
          room: adaRoom,
          visitor: { id: 'ada', name: 'Ada' },
          preview: 'hello from Ada',
          unread: { operators: 1, visitor: 0 },
        },
      })
    }
    await bob.publish(bobRoom, 'hello from Bob')
    await byKey.next((f) => f.type === 'conversation' && (f.conversation as { room: string }).room === bobRoom)
    const list = await ask(byJwt, { type: 'conversations' })
    expect((list.items as { room: string }[]).map((c) => c.room)).toEqual([bobRoom, adaRoom])
    expect(list.cursor).toBeNull()
    const paged = await ask(byJwt, { type: 'conversations', limit: 1 })
    expect((paged.items as { room: string }[]).map((c) => c.room)).toEqual([bobRoom])
    const rest = await ask(byJwt, { type: 'conversations', limit: 1, cursor: paged.cursor })
    expect((rest.items as { room: string }[]).map((c) => c.room)).toEqual([adaRoom])

    // The operator answers Ada: Ada gets it live, with the operator's role on it.
    expect((await byKey.join(adaRoom)).type).toBe('joined')
    const ack = await byKey.publish(adaRoom, 'Hi Ada, how can I help?')
    const reply = await ada.next((f) => f.type === 'message' && f.text === 'Hi Ada, how can I help?')
    expect(reply.from).toMatchObject({ name: 'Ann', role: 'operator' })
    const afterReply = await byJwt.next(
      (f) => f.type === 'conversation' && (f.conversation as { unread: { visitor: number } }).unread.visitor === 1,
    )
    expect(afterReply.conversation).toMatchObject({ unread: { visitor: 1, operators: 1 } })

    // The operator reads: the operators' side clears; the visitor reads: its side clears.
    byKey.send({ type: 'read', room: adaRoom, offset: ack.offset })
    expect(
      (
        await byJwt.next(
          (f) =>
            f.type === 'conversation' && (f.conversation as { unread: { operators: number } }).unread.operators === 0,
        )
      ).conversation,
    ).toMatchObject({ unread: { visitor: 1, operators: 0 } })
    // A read below the newest offset leaves the count alone.
    ada.send({ type: 'read', room: adaRoom, offset: 1 })
    ada.send({ type: 'read', room: adaRoom, offset: ack.offset })
    expect(
      (
        await byJwt.next(
          (f) => f.type === 'conversation' && (f.conversation as { unread: { visitor: number } }).unread.visitor === 0,
        )
      ).conversation,
    ).toMatchObject({ unread: { visitor: 0, operators: 0 } })

    // Assign and close; a visitor message reopens.
    const id = adaRoom.slice(5)
    const closed = await ask(byJwt, { type: 'update-conversation', id, status: 'closed', assignee: 'ben' })
    expect(closed.conversation).toMatchObject({ status: 'closed', assignee: { id: 'ben', name: 'Ben' } })
    await ada.publish(adaRoom, 'one more thing')
    expect(
      (
        await byKey.next(
          (f) => f.type === 'conversation' && (f.conversation as { preview: string }).preview === 'one more thing',
        )
      ).conversation,
    ).toMatchObject({ status: 'open', assignee: { id: 'ben' } })
    expect(
      await ask(byJwt, { type: 'update-conversation', id: 'AAAAAAAAAAAAAAAAAAAAAA', status: 'closed' }),
    ).toMatchObject({
      type: 'error',
      code: 'not_found',
    })
    expect((await ask(byJwt, { type: 'conversations', status: 'closed' })).items).toEqual([])
    expect(await ask(byKey, { type: 'conversation' })).toMatchObject({ type: 'error', code: 'forbidden' })
  })

  it('keeps the inbox preview to what the newest message says now, after an edit or a delete', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    const op = await t.client(relay, { key: OPERATOR_KEY, name: 'Ann' })
    const ada = await t.client(relay, { name: 'Ada' })
    const room = await visitorWithConversation(ada)
    const preview = (text: string) =>
      op.next((f) => f.type === 'conversation' && (f.conversation as { preview: string }).preview === text)
    const older = await ada.publish(room, 'first')
    await preview('first')
    const newest = await ada.publish(room, 'my card is 4111 1111')
    await preview('my card is 4111 1111')

    const change = async (frame: Record<string, unknown>) =>
      expect(await ask(ada, { room, id: `c${refs}`, ...frame })).toMatchObject({ type: 'ack' })
    await change({ type: 'edit', offset: newest.offset, text: 'my card is ****' })
    await preview('my card is ****')
    // An edit of an older message leaves the preview alone: the entry is neither changed nor announced.
    await change({ type: 'edit', offset: older.offset, text: 'first (edited)' })
    await change({ type: 'delete', offset: newest.offset })
    await preview('')
    const list = await ask(op, { type: 'conversations' })
    expect((list.items as { preview: string }[])[0]?.preview).toBe('')
    expect(
      op.frames
        .filter((f) => f.type === 'conversation' && f.ref === undefined)
        .map((f) => (f.conversation as { preview: string }).preview),
    ).not.toContain('first (edited)')
  })

  it('stores a visitor profile (name, validated email) and shows it to operators', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    const op = await t.client(relay, { key: OPERATOR_KEY })
    const ada = await t.client(relay)
    expect(await ask(ada, { type: 'conversation' })).toMatchObject({ conversation: null })
    expect(await ask(ada, { type: 'profile', email: 'not an email' })).toMatchObject({
      type: 'error',
      code: 'bad_request',
    })
    expect(await ask(ada, { type: 'profile', email: `${'a'.repeat(250)}@x.io` })).toMatchObject({ code: 'bad_request' })
    const saved = await ask(ada, { type: 'profile', name: 'Ada', email: 'ada@example.com' })
    expect(saved.conversation).toMatchObject({ visitor: { name: 'Ada', email: 'ada@example.com' }, preview: '' })
    expect(await op.next((f) => f.type === 'conversation')).toMatchObject({
      conversation: { visitor: { email: 'ada@example.com' } },
    })
    expect(await ask(ada, { type: 'conversation' })).toMatchObject({ conversation: { visitor: { name: 'Ada' } } })
  })

  it('serves the index over HTTP to the API key and operators: 401 without, 403 for a visitor, 404 for an unknown id', async () => {
    const apiKey = 'api-key-0123456789abcdef'
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY, auth: { secret: SECRET }, apiKey })
    const ada = await t.client(relay, { token: await jwt({ sub: 'ada', name: 'Ada' }) })
    const room = await visitorWithConversation(ada)
    await ada.publish(room, 'help')
    const call = (path: string, auth?: string, init: RequestInit = {}) =>
      fetch(`${relay.url}${path}`, {
        ...init,
        headers: { ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }), ...(init.headers ?? {}) },
      })
    expect((await call('/v1/conversations')).status).toBe(401)
    expect((await call('/v1/conversations', 'nope')).status).toBe(401)
    const visitor = await call('/v1/conversations', await jwt({ sub: 'ada' }))
    expect(visitor.status).toBe(403)
    expect(await visitor.json()).toEqual({ code: 'forbidden', message: expect.any(String) })
    for (const auth of [apiKey, OPERATOR_KEY, await jwt({ sub: 'ann', role: 'operator' })]) {
      const res = await call('/v1/conversations?status=open', auth)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ items: [{ room, preview: 'help' }], cursor: null })
    }
    expect(await (await call('/v1/conversations?status=closed', apiKey)).json()).toEqual({ items: [], cursor: null })
    expect((await call('/v1/conversations?status=nope', apiKey)).status).toBe(400)
    expect((await call('/v1/conversations?cursor=zzz', apiKey)).status).toBe(400)
    const id = room.slice(5)
    expect(await (await call(`/v1/conversations/${id}`, OPERATOR_KEY)).json()).toMatchObject({
      id,
      visitor: { id: 'ada' },
    })
    expect((await call('/v1/conversations/AAAAAAAAAAAAAAAAAAAAAA', OPERATOR_KEY)).status).toBe(404)
    expect((await call('/v1/conversations/short', OPERATOR_KEY)).status).toBe(404)
    expect((await call(`/v1/conversations/${id}`)).status).toBe(401)
    const patch = await call(`/v1/conversations/${id}`, apiKey, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'closed', assignee: { id: 'ann', name: 'Ann' } }),
    })
    expect(patch.status).toBe(200)
    expect(await patch.json()).toMatchObject({ status: 'closed', assignee: { id: 'ann', name: 'Ann' } })
    const badPatch = await call(`/v1/conversations/${id}`, apiKey, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assignee: 'ann' }),
    })
    expect(badPatch.status).toBe(400)
  })
})

describe('operator presence', () => {
  it('tells a visitor how many operators are online as they connect and disconnect', async () => {
    const relay = await t.relayWith({ operatorKey: OPERATOR_KEY })
    const ada = await t.client(relay)
    await ask(ada, { type: 'conversation' })
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 0 })
    const ann = await t.client(relay, { key: OPERATOR_KEY, name: 'Ann' })
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 1 })
    const annTab = await t.client(relay, { key: OPERATOR_KEY, resume: (ann.frames[0] as { resume: string }).resume })
    const ben = await t.client(relay, { key: OPERATOR_KEY, name: 'Ben' })
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 2 })
    await annTab.close()
    await ben.close()
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 1 })
    await ann.close()
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 0 })
    // Ann's second tab closing was not a change: no frame said 2 -> 2 or 1 -> 1 in between.
    const counts = ada.frames.filter((f) => f.type === 'operators').map((f) => f.online)
    expect(counts).toEqual([0, 1, 2, 1, 0])
  })
})
