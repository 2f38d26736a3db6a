import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TestClient as Client, startRelay, type TestClient, wsUrl } from '../helpers'

const KEY = 'test-api-key-0123456789'
/** The token is the user id: `verify` makes any string a user. */
const verify = (token: string) => ({ id: token, name: token })

let relay: Relay
const clients: TestClient[] = []

beforeAll(async () => {
  relay = await startRelay({ apiKey: KEY, auth: { verify } })
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  // Lift whatever a test left.
  const { bans } = (await (await api('/v1/bans')).json()) as { bans: { id: string }[] }
  for (const ban of bans) await api(`/v1/bans/${ban.id}`, { method: 'DELETE' })
})
afterAll(async () => {
  await relay.stop()
})

function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${KEY}`)
  if (init.body !== undefined) headers.set('content-type', 'application/json')
  return fetch(`${relay.url}${path}`, { ...init, headers })
}

async function ban(body: object): Promise<{ id: string }> {
  const res = await api('/v1/bans', { method: 'POST', body: JSON.stringify(body) })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string }
}

async function user(id: string): Promise<TestClient> {
  const c = new Client(wsUrl(relay))
  clients.push(c)
  expect(await c.hello({ token: id })).toMatchObject({ type: 'welcome' })
  return c
}

describe('bans and mutes', () => {
  it('closes a banned user with 4003, refuses their joins with forbidden, and lets them back when lifted', async () => {
    const eve = await user('eve')
    expect(await eve.join('lobby')).toMatchObject({ type: 'joined' })
    const created = await ban({ user: 'eve', reason: 'spam' })
    expect(created).toMatchObject({ id: expect.any(String), user: 'eve', mute: false, reason: 'spam' })
    expect(await eve.closedWith()).toEqual({ code: 4003, reason: 'banned' })

    const again = await user('eve')
    expect(await again.join('lobby')).toMatchObject({ type: 'error', code: 'forbidden', message: 'banned' })
    const listed = (await (await api('/v1/bans')).json()) as { bans: unknown[] }
    expect(listed.bans).toEqual([created])

    expect((await api(`/v1/bans/${created.id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await again.join('lobby')).toMatchObject({ type: 'joined' })
    expect((await api(`/v1/bans/${created.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('bans from one room only: that room is refused, others are not, other users are untouched', async () => {
    const eve = await user('eve')
    const bob = await user('bob')
    expect(await eve.join('other')).toMatchObject({ type: 'joined' })
    expect(await bob.join('lobby')).toMatchObject({ type: 'joined' })
    await ban({ user: 'eve', room: 'lobby' })
    expect(await eve.join('lobby')).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'banned from this room',
    })
    expect(await eve.publish('other', 'still here')).toMatchObject({ type: 'ack' })
    expect(await bob.publish('lobby', 'fine')).toMatchObject({ type: 'ack' })
  })

  it('closes the connections of a user banned from a room they are in', async () => {
    const eve = await user('eve')
    expect(await eve.join('lobby')).toMatchObject({ type: 'joined' })
    await ban({ user: 'eve', room: 'lobby' })
    expect(await eve.closedWith()).toEqual({ code: 4003, reason: 'banned from lobby' })
  })

  it('closes every connection of a user banned relay-wide, also one in no room; a room ban leaves that one open', async () => {
    const idle = await user('eve')
    const inRoom = await user('eve')
    expect(await inRoom.join('lobby')).toMatchObject({ type: 'joined' })
    await ban({ user: 'eve', room: 'lobby' })
    expect(await inRoom.closedWith()).toEqual({ code: 4003, reason: 'banned from lobby' })
    // The connection in no room is untouched by the room ban: it still answers.
    idle.send({ type: 'ping', ref: 'p1' })
    expect(await idle.next((f) => f.type === 'pong')).toEqual({ type: 'pong', ref: 'p1' })

    const other = await user('eve')
    expect(await other.join('other')).toMatchObject({ type: 'joined' })
    await ban({ user: 'eve' })
    expect(await idle.closedWith()).toEqual({ code: 4003, reason: 'banned' })
    expect(await other.closedWith()).toEqual({ code: 4003, reason: 'banned' })
  })

  it('lets a muted user read but not publish', async () => {
    const mute = await user('mutey')
    const bob = await user('bob')
    expect(await mute.join('lobby')).toMatchObject({ type: 'joined' })
    expect(await bob.join('lobby')).toMatchObject({ type: 'joined' })
    await ban({ user: 'mutey', mute: true })
    expect(await mute.publish('lobby', 'hello?')).toMatchObject({ type: 'error', code: 'forbidden', message: 'muted' })
    await bob.publish('lobby', 'you can read this')
    expect(await mute.next((f) => f.type === 'message')).toMatchObject({ text: 'you can read this' })
    expect(mute.closed).toBeNull()
  })

  it('honours until: the ban lapses by itself', async () => {
    const eve = await user('eve')
    expect(await eve.join('lobby')).toMatchObject({ type: 'joined' })
    const until = Date.now() + 300
    await ban({ user: 'eve', mute: true, until })
    expect(await eve.publish('lobby', 'now?')).toMatchObject({ code: 'forbidden' })
    // Wait for the clock to pass `until`, not for any event.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now() + 20)))
    expect(await eve.publish('lobby', 'now')).toMatchObject({ type: 'ack' })
    expect(((await (await api('/v1/bans')).json()) as { bans: unknown[] }).bans).toEqual([])
  })

  it('refuses bad bans with 400 and a message naming the field', async () => {
    const bad = async (body: unknown) => {
      const res = await api('/v1/bans', { method: 'POST', body: JSON.stringify(body) })
      expect(res.status).toBe(400)
      return ((await res.json()) as { message: string }).message
    }
    expect(await bad({})).toBe('user must be a string')
    expect(await bad({ user: '' })).toMatch(/^user must be 1 to/)
    expect(await bad({ user: 'u', room: 'no spaces' })).toMatch(/^room must be/)
    expect(await bad({ user: 'u', mute: 'yes' })).toBe('mute must be true or false')
    expect(await bad({ user: 'u', until: Date.now() - 1 })).toBe('until must be a future time in unix milliseconds')
    expect(await bad({ user: 'u', reason: 'x'.repeat(501) })).toBe('reason must be a string of at most 500 characters')
    expect(await bad([])).toBe('body must be a JSON object')
  })

  it('needs the API key', async () => {
    const res = await fetch(`${relay.url}/v1/bans`)
    expect(res.status).toBe(401)
  })
})
