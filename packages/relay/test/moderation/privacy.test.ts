import type { Relay } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conversationRoom } from '../../src/store/conversations'
import { startRelay, TestClient, wsUrl } from '../helpers'
import { HookServer } from './hook-server'

const KEY = 'test-api-key-0123456789'
const SECRET = 'webhook-secret-0123456789'
const verify = (token: string) => ({ id: token, name: token === 'ada' ? 'Ada Lovelace' : token })
let relay: Relay
let receiver: HookServer

beforeAll(async () => {
  receiver = await HookServer.start()
  receiver.answer = () => ({ status: 200 })
  relay = await startRelay({ apiKey: KEY, auth: { verify }, webhook: { url: receiver.url, secret: SECRET } })
})
afterAll(async () => {
  await relay.stop()
  await receiver.close()
})

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${relay.url}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...init.headers } })

async function user(token: string): Promise<TestClient> {
  const c = new TestClient(wsUrl(relay))
  await c.hello({ token })
  return c
}

describe('erasure and export', () => {
  it('DELETE /v1/users/{id} tombstones their messages everywhere, tells connected members, lifts their bans', async () => {
    const ada = await user('ada')
    const bob = await user('bob')
    for (const c of [ada, bob]) await c.join('lobby')
    await ada.join('side')
    await ada.publish('lobby', 'my address is 1 Main St', { meta: { email: 'ada@example.com' } })
    await bob.publish('lobby', 'hi ada')
    await ada.publish('side', 'elsewhere')
    await api('/v1/bans', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ada', room: 'other', mute: true }),
    })

    const res = await api('/v1/users/ada', { method: 'DELETE' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ erased: { messages: 2, bans: 1 } })
    expect(await bob.nextOf('deleted')).toEqual({ type: 'deleted', room: 'lobby', offset: 1 })

    const page = (await (await api('/v1/rooms/lobby/messages')).json()) as { messages: unknown[] }
    expect(page.messages).toEqual([
      {
        room: 'lobby',
        offset: 1,
        id: expect.any(String),
        from: { id: 'ada', name: 'Deleted user' },
        text: '',
        ts: expect.any(Number),
      },
      expect.objectContaining({ offset: 2, text: 'hi ada' }),
    ])
    expect(JSON.stringify(page)).not.toContain('Main St')
    expect(JSON.stringify(page)).not.toContain('example.com')
    expect(((await (await api('/v1/bans')).json()) as { bans: unknown[] }).bans).toEqual([])
    const deleted = await receiver.requests.next((r) => r.body.includes('message.deleted'), 5000, 'message.deleted')
    expect(JSON.parse(deleted.body).data.message).toMatchObject({ text: '', from: { name: 'Deleted user' } })
    await Promise.all([ada.close(), bob.close()])
  })

  it('DELETE /v1/users/{id} also clears their conversation: entry (name, email, preview) and messages', async () => {
    const dora = await user('dora')
    dora.send({ type: 'profile', ref: 'p1', name: 'Dora', email: 'dora@example.com' })
    expect(await dora.next((f) => f.ref === 'p1')).toMatchObject({
      conversation: { visitor: { email: 'dora@example.com' } },
    })
    const room = conversationRoom('dora')
    await dora.join(room)
    await dora.publish(room, 'call me on 555 0100')
    const id = room.slice('conv:'.length)
    expect(await (await api(`/v1/conversations/${id}`)).json()).toMatchObject({ preview: 'call me on 555 0100' })

    expect(await (await api('/v1/users/dora', { method: 'DELETE' })).json()).toEqual({
      erased: { messages: 1, bans: 0 },
    })
    const entry = await (await api(`/v1/conversations/${id}`)).json()
    expect(entry).toMatchObject({ id, visitor: { id: 'dora', name: 'Deleted user' }, preview: '' })
    const history = await (await api(`/v1/rooms/${encodeURIComponent(room)}/messages`)).json()
    for (const text of ['Dora', 'dora@example.com', '555 0100']) {
      expect(JSON.stringify(entry)).not.toContain(text)
      expect(JSON.stringify(history)).not.toContain(text)
    }
    await dora.close()
  })

  it('GET /v1/rooms/{room}/export streams every retained message as NDJSON, oldest first', async () => {
    const carol = await user('carol')
    await carol.join('exported')
    for (let i = 1; i <= 3; i++) await carol.publish('exported', `line ${i}`)
    const res = await api('/v1/rooms/exported/export')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((m) => [m.offset, m.text])).toEqual([
      [1, 'line 1'],
      [2, 'line 2'],
      [3, 'line 3'],
    ])
    expect(await (await api('/v1/rooms/nobody-here/export')).text()).toBe('')
    expect((await api('/v1/rooms/bad%20room/export')).status).toBe(400)
    await carol.close()
  })
})
