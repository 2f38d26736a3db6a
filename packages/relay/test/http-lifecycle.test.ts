// The HTTP API's side of the message lifecycle: PATCH and DELETE a message by offset, reactions in the
// history, read positions (docs/relay.md "HTTP API").
import type { Relay } from '@confab/relay'
import { describe, expect, it } from 'vitest'
import { perTest, relayPerFile, type TestClient } from './helpers'

const KEY = 'test-api-key-0123456789'
const relay = relayPerFile({ apiKey: KEY })
const t = perTest()

function api(path: string, init: RequestInit = {}, key: string | null = KEY, r: Relay = relay()): Promise<Response> {
  const headers = new Headers(init.headers)
  if (key !== null) headers.set('authorization', `Bearer ${key}`)
  return fetch(`${r.url}${path}`, { ...init, headers })
}

const patch = (room: string, offset: number | string, body: unknown, key: string | null = KEY) =>
  api(
    `/v1/rooms/${room}/messages/${offset}`,
    { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    key,
  )
const remove = (room: string, offset: number | string, key: string | null = KEY) =>
  api(`/v1/rooms/${room}/messages/${offset}`, { method: 'DELETE' }, key)

async function member(room: string, name: string): Promise<TestClient> {
  const c = await t.client(relay(), { name })
  await c.join(room)
  return c
}

describe('HTTP API: edit and delete by offset', () => {
  it("edits anyone's message: 200 { update }, broadcast to the members like a client's edit", async () => {
    const ann = await member('h-edit', 'Ann')
    await ann.publish('h-edit', 'typo', { meta: { a: 1 } })
    const res = await patch('h-edit', 1, { text: 'fixed', meta: { b: 2 }, id: 'fix-1' })
    expect(res.status).toBe(200)
    const { update } = (await res.json()) as { update: Record<string, unknown> }
    expect(update).toMatchObject({
      room: 'h-edit',
      offset: 2,
      id: 'fix-1',
      from: { id: 'system', name: 'System' },
      action: 'edit',
      target: 1,
      message: { offset: 1, text: 'fixed', meta: { b: 2 }, editedAt: update.ts },
    })
    expect(await ann.nextOf('update')).toEqual({ type: 'update', ...update })
    // The same id again: the original change, nothing new.
    const again = await patch('h-edit', 1, { text: 'fixed twice', id: 'fix-1' })
    expect(((await again.json()) as { update: { offset: number } }).update.offset).toBe(2)
  })

  it("deletes anyone's message: 200 { update } with the tombstone; 404 once it is gone", async () => {
    const ann = await member('h-del', 'Ann')
    await ann.publish('h-del', 'secret')
    const res = await remove('h-del', 1)
    expect(res.status).toBe(200)
    const { update } = (await res.json()) as { update: Record<string, unknown> }
    expect(update).toMatchObject({ action: 'delete', target: 1, message: { offset: 1, text: '', deleted: true } })
    expect(await ann.nextOf('update')).toMatchObject({ action: 'delete', offset: 2 })
    const gone = await remove('h-del', 1)
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual({
      code: 'not_found',
      message: 'No message at offset 1 (never stored, no longer retained, deleted, or a change).',
    })
    expect((await patch('h-del', 1, { text: 'back?' })).status).toBe(404)
    expect((await remove('h-del', 2)).status).toBe(404)
    expect((await remove('h-never', 5)).status).toBe(404)
  })

  it('refuses a bad offset, a bad body, and requests without the key', async () => {
    const ann = await member('h-bad', 'Ann')
    await ann.publish('h-bad', 'x')
    for (const offset of ['0', 'abc', '-1', '1.5']) {
      const res = await remove('h-bad', offset)
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ code: 'bad_request', message: 'offset must be a positive integer' })
    }
    expect(await (await patch('h-bad', 1, { text: '' })).json()).toEqual({
      code: 'bad_request',
      message: 'text is empty',
    })
    expect((await patch('h-bad', 1, { text: 'x'.repeat(4001) })).status).toBe(413)
    expect((await patch('h-bad', 1, { text: 'x', id: '' })).status).toBe(400)
    expect((await patch('h-bad', 1, { text: 'x', meta: 'no' })).status).toBe(400)
    expect((await patch('h-bad', 1, { text: 'x' }, null)).status).toBe(401)
    expect((await remove('h-bad', 1, 'wrong-key-00000000')).status).toBe(401)
    const form = await api('/v1/rooms/h-bad/messages/1', {
      method: 'PATCH',
      headers: { 'content-type': 'text/plain' },
      body: 'text=x',
    })
    expect(form.status).toBe(415)
  })

  it('is refused on a read-only API (no key, listening beyond loopback)', async () => {
    const open = await t.relayWith({ host: '0.0.0.0' })
    const url = open.url.replace('0.0.0.0', '127.0.0.1')
    const ann = await t.client(open)
    await ann.join('ro')
    await ann.publish('ro', 'x')
    const res = await fetch(`${url}/v1/rooms/ro/messages/1`, { method: 'DELETE' })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('forbidden')
  })
})

describe('HTTP API: reactions and read positions', () => {
  it('lists messages in current state with reaction counts (no `mine`), and every read position', async () => {
    const ann = await member('h-read', 'Ann')
    const ben = await member('h-read', 'Ben')
    await ann.publish('h-read', 'one')
    await ann.publish('h-read', 'two')
    const ref = 'r1'
    ben.send({ type: 'react', ref, room: 'h-read', id: 'x1', offset: 1, emoji: '👍' })
    await ben.next((f) => f.ref === ref)
    ben.send({ type: 'read', room: 'h-read', offset: 1 })
    await ann.nextOf('read')
    const page = (await (await api('/v1/rooms/h-read/messages')).json()) as { messages: Record<string, unknown>[] }
    expect(page.messages.map((m) => [m.offset, m.text, m.reactions])).toEqual([
      [1, 'one', { '👍': { count: 1 } }],
      [2, 'two', undefined],
    ])
    const reads = await api('/v1/rooms/h-read/reads')
    expect(reads.status).toBe(200)
    const [annId, benId] = [ann, ben].map((c) => (c.frames[0]?.user as { id: string } | undefined)?.id)
    expect(await reads.json()).toEqual({
      items: [
        { user: annId, offset: 2 },
        { user: benId, offset: 1 },
      ],
    })
    expect(await (await api('/v1/rooms/h-read/reads?limit=1')).json()).toEqual({ items: [{ user: annId, offset: 2 }] })
    expect((await api('/v1/rooms/h-read/reads', {}, null)).status).toBe(401)
  })
})
