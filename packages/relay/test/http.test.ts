import { Writable } from 'node:stream'
import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryPresence } from '../src/presence/memory'
import { connectClient, startRelay, type TestClient } from './helpers'

const KEY = 'test-api-key-0123456789'
let relay: Relay
const clients: TestClient[] = []

beforeAll(async () => {
  relay = await startRelay({ apiKey: KEY })
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})
afterAll(async () => {
  await relay.stop()
})

function api(path: string, init: RequestInit = {}, key: string | null = KEY): Promise<Response> {
  const headers = new Headers(init.headers)
  if (key !== null) headers.set('authorization', `Bearer ${key}`)
  return fetch(`${relay.url}${path}`, { ...init, headers })
}

function post(room: string, body: unknown): Promise<Response> {
  return api(`/v1/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

describe('HTTP API', () => {
  it('refuses requests without the key with 401 and a JSON error', async () => {
    const res = await api('/v1/rooms/lobby/messages', {}, null)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ code: 'unauthorized', message: 'a valid API key is required' })
    expect((await api('/v1/rooms/lobby/members', {}, 'wrong-key')).status).toBe(401)
  })

  it('posts a system message that is stored and broadcast like any other', async () => {
    const listener = await connectClient(relay)
    clients.push(listener)
    await listener.join('api-room')
    const res = await post('api-room', { text: 'Deploy finished' })
    expect(res.status).toBe(201)
    const { message } = (await res.json()) as { message: Record<string, unknown> }
    expect(message).toMatchObject({ room: 'api-room', offset: 1, text: 'Deploy finished', from: { id: 'system' } })
    expect(await listener.nextOf('message')).toMatchObject({ offset: 1, text: 'Deploy finished' })
  })

  it('posts as a named bot, and answers a repeated id with the original message', async () => {
    const first = await post('bots', { text: 'beep', id: 'bot-1', from: { id: 'bot', name: 'Robo' } })
    expect(first.status).toBe(201)
    const again = await post('bots', { text: 'beep', id: 'bot-1', from: { id: 'bot', name: 'Robo' } })
    expect(again.status).toBe(200)
    expect(((await again.json()) as { message: { offset: number } }).message.offset).toBe(1)
  })

  it('lists messages with before and limit, oldest first', async () => {
    for (const text of ['a', 'b', 'c', 'd']) await post('listed', { text })
    const res = await api('/v1/rooms/listed/messages?before=4&limit=2')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { messages: { text: string }[]; more: boolean }
    expect(body.messages.map((m) => m.text)).toEqual(['b', 'c'])
    expect(body.more).toBe(true)
  })

  it('lists the members of a room', async () => {
    const c = await connectClient(relay, { name: 'Member' })
    clients.push(c)
    await c.join('members-room')
    const res = await api('/v1/rooms/members-room/members')
    expect(await res.json()).toEqual({ members: [c.frames[0]?.user], count: 1, cursor: null })
  })

  it('pages the members with limit and cursor, each user once, with the count on every page', async () => {
    const joined: TestClient[] = []
    for (let i = 0; i < 3; i++) {
      const c = await connectClient(relay, { name: `Paged ${i}` })
      clients.push(c)
      joined.push(c)
      await c.join('paged-room')
    }
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await api(
        `/v1/rooms/paged-room/members?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      expect(res.status).toBe(200)
      const page = (await res.json()) as { members: { id: string }[]; count: number; cursor: string | null }
      expect(page.count).toBe(3)
      expect(page.members.length).toBeLessThanOrEqual(2)
      seen.push(...page.members.map((m) => m.id))
      cursor = page.cursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(2)
    expect(seen.sort()).toEqual(joined.map((c) => (c.frames[0]!.user as { id: string }).id).sort())
    for (const [query, message] of [
      ['limit=0', 'limit must be 1 to 1000'],
      ['limit=1001', 'limit must be 1 to 1000'],
      ['limit=x', 'limit must be a non-negative integer'],
      [`cursor=${'c'.repeat(257)}`, 'cursor must be 1 to 256 characters, as a page returned it'],
    ]) {
      const refused = await api(`/v1/rooms/paged-room/members?${query}`)
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({ code: 'bad_request', message })
    }
  })

  it('answers bad input with 400 and a JSON error body', async () => {
    const badRoom = await api('/v1/rooms/bad%20room/messages')
    expect(badRoom.status).toBe(400)
    expect(await badRoom.json()).toMatchObject({ code: 'bad_request' })
    for (const [from, message] of [
      [{ id: 'x'.repeat(65) }, 'from.id must be 1 to 64 characters'],
      [{ id: 'bot\u001b[31m' }, 'from.id must not contain control characters'],
      [{ id: '\u200b\u3164' }, 'from.id must have a visible character'],
      ['bot', 'from must be { id, name }'],
    ] as const) {
      const refused = await post('lobby', { text: 'hi', from })
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({ code: 'bad_request', message })
    }
    const noText = await post('lobby', { from: { id: 'x' } })
    expect(noText.status).toBe(400)
    expect(await noText.json()).toEqual({ code: 'bad_request', message: 'text must be a string' })
    const notJson = await post('lobby', '{oops')
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toEqual({ code: 'bad_request', message: 'body must be JSON' })
    const badLimit = await api('/v1/rooms/lobby/messages?limit=-3')
    expect(badLimit.status).toBe(400)
    const tooLong = await post('lobby', { text: 'x'.repeat(4001) })
    expect(tooLong.status).toBe(413)
    expect(await tooLong.json()).toMatchObject({ code: 'too_large' })
    const hugeBody = await post('lobby', { text: 'x', pad: 'y'.repeat(70_000) })
    expect(hugeBody.status).toBe(413)
    expect(await hugeBody.json()).toEqual({ code: 'too_large', message: 'body is larger than 64 KiB' })
  })

  it('answers unknown API routes with 404 and a JSON error body', async () => {
    const res = await api('/v1/nothing-here')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ code: 'not_found', message: 'no such API route' })
  })
})

describe('HTTP API with auth and no API key', () => {
  it('is off, answering 404 with the reason, and says so once in the log at start', async () => {
    const lines: Array<Record<string, unknown>> = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
        done()
      },
    })
    const secured = await startRelay({
      auth: { secret: 'a-test-secret-that-is-at-least-32-chars' },
      logger: { stream },
    })
    try {
      const reason = {
        code: 'not_found',
        message: 'the HTTP API is off: clients need a token but no API key is set (apiKey, CONFAB_API_KEY)',
      }
      const posted = await fetch(`${secured.url}/v1/rooms/lobby/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'spoofed', from: { id: 'ceo', name: 'CEO' } }),
      })
      expect(posted.status).toBe(404)
      expect(await posted.json()).toEqual(reason)
      for (const path of ['/v1/rooms/lobby/messages', '/v1/rooms/lobby/members']) {
        const res = await fetch(`${secured.url}${path}`)
        expect(res.status).toBe(404)
        expect(await res.json()).toEqual(reason)
      }
      expect(lines.filter((line) => line.msg === reason.message)).toEqual([expect.objectContaining({ level: 40 })])
    } finally {
      await secured.stop()
    }
  })

  it('is on with an API key', async () => {
    const secured = await startRelay({ auth: { secret: 'a-test-secret-that-is-at-least-32-chars' }, apiKey: KEY })
    try {
      const res = await fetch(`${secured.url}/v1/rooms/lobby/members`, { headers: { authorization: `Bearer ${KEY}` } })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ members: [], count: 0, cursor: null })
    } finally {
      await secured.stop()
    }
  })
})

describe('operational routes', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${relay.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready' })
  })

  it('serves Prometheus metrics prefixed confab_, without user or room labels', async () => {
    const c = await connectClient(relay, { name: 'Metered' })
    clients.push(c)
    await c.join('metered-room')
    await c.publish('metered-room', 'count me')
    c.send('junk')
    await c.nextOf('error')
    const res = await fetch(`${relay.url}/metrics`)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    for (const name of [
      'confab_connections',
      'confab_rooms',
      'confab_messages_in_total',
      'confab_messages_out_total',
      'confab_errors_total{code="bad_request"}',
      'confab_send_queue_drops_total',
      'confab_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(name)
    }
    expect(text).not.toContain('metered-room')
    expect(text).not.toContain(c.frames[0]?.user && (c.frames[0].user as { id: string }).id)
    const series = text.split('\n').filter((l) => l.startsWith('confab_') && !l.startsWith('confab_process'))
    expect(series.every((l) => /^confab_[a-z0-9_]+(\{[^}]*\})? /.test(l))).toBe(true)
  })
})

describe('demo and widget', () => {
  it('serves a demo page that loads /widget.js inline in room lobby', async () => {
    const res = await fetch(`${relay.url}/`)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    expect(html).toContain('<script src="/widget.js" data-room="lobby" data-mode="inline"')
  })

  it('serves /widget.js with an ETag, a cache lifetime, and 304 on revalidation', async () => {
    const res = await fetch(`${relay.url}/widget.js`)
    if (res.status === 404) {
      // The bundle is built by `npm run build` (npm test builds first); say so rather than pass silently.
      expect(await res.text()).toBe('widget.js is not built: run npm run build')
      return
    }
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('javascript')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await fetch(`${relay.url}/widget.js`, { headers: { 'if-none-match': etag ?? '' } })
    expect(again.status).toBe(304)
  })

  it('serves /widget.js with Access-Control-Allow-Origin: *, never echoing the caller', async () => {
    const res = await fetch(`${relay.url}/widget.js`, { headers: { origin: 'https://someone.example' } })
    if (res.status === 404) {
      expect(await res.text()).toBe('widget.js is not built: run npm run build')
      return
    }
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('HTTP API against cross-site posts', () => {
  it('accepts only application/json on writes: 415 with a JSON error otherwise', async () => {
    const form = await api('/v1/rooms/forms/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'text=hello',
    })
    expect(form.status).toBe(415)
    expect(await form.json()).toEqual({ code: 'bad_request', message: 'Content-Type must be application/json' })
    const plain = await api('/v1/rooms/forms/messages', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"text":"hello"}',
    })
    expect(plain.status).toBe(415)
    const json = await api('/v1/rooms/forms/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"text":"hello"}',
    })
    expect(json.status).toBe(201)
  })

  it('takes the Bearer scheme in any case (RFC 7235), but not a wrong key', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await fetch(`${relay.url}/v1/rooms/lobby/members`, { headers: { authorization: `${scheme} ${KEY}` } })
      expect(res.status).toBe(200)
    }
    const res = await fetch(`${relay.url}/v1/rooms/lobby/members`, { headers: { authorization: `bearer ${KEY}x` } })
    expect(res.status).toBe(401)
  })

  it('refuses a browser request from an origin outside the allow-list with 403', async () => {
    const guarded = await startRelay({ origins: ['https://good.example'] })
    try {
      const from = (origin: string) =>
        fetch(`${guarded.url}/v1/rooms/o/messages`, {
          method: 'POST',
          headers: { origin, 'content-type': 'application/json' },
          body: '{"text":"hi"}',
        })
      const evil = await from('https://evil.example')
      expect(evil.status).toBe(403)
      expect(await evil.json()).toEqual({ code: 'forbidden', message: 'origin not allowed' })
      expect(
        (await fetch(`${guarded.url}/v1/rooms/o/messages`, { headers: { origin: 'https://evil.example' } })).status,
      ).toBe(403)
      expect((await from('https://good.example')).status).toBe(201)
      // Servers send no Origin: allowed.
      expect((await fetch(`${guarded.url}/v1/rooms/o/messages`)).status).toBe(200)
    } finally {
      await guarded.stop()
    }
  })

  it('without a key, is open on loopback only and read-only on any other interface', async () => {
    const open = await startRelay({ host: '127.0.0.1' })
    const wide = await startRelay({ host: '0.0.0.0' })
    try {
      expect(open.server.plugins).toMatchObject({ confab: { api: 'open' } })
      expect(wide.server.plugins).toMatchObject({ confab: { api: 'read-only' } })
      const body = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' }
      expect((await fetch(`${open.url}/v1/rooms/w/messages`, body)).status).toBe(201)
      const refused = await fetch(`${wide.url}/v1/rooms/w/messages`, body)
      expect(refused.status).toBe(403)
      expect(await refused.json()).toEqual({
        code: 'forbidden',
        message:
          'posting through the HTTP API needs an API key when the relay listens beyond loopback (apiKey, CONFAB_API_KEY)',
      })
      expect((await fetch(`${wide.url}/v1/rooms/w/messages`)).status).toBe(200)
    } finally {
      await open.stop()
      await wide.stop()
    }
  })

  it('with a key, takes posts on any interface', async () => {
    const keyed = await startRelay({ host: '0.0.0.0', apiKey: KEY })
    try {
      expect(keyed.server.plugins).toMatchObject({ confab: { api: 'key' } })
      const res = await fetch(`${keyed.url}/v1/rooms/k/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: '{"text":"hi"}',
      })
      expect(res.status).toBe(201)
    } finally {
      await keyed.stop()
    }
  })
})

describe('HTTP members of a room too large for one answer', () => {
  it('answers the first 1,000 by user id and a cursor to the rest, never the whole list', async () => {
    const presence = new MemoryPresence()
    const ids = Array.from({ length: 1001 }, (_, i) => `u-${String(i).padStart(4, '0')}`)
    for (const id of ids) await presence.add('crowd', { id, name: id })
    const big = await startRelay({ apiKey: KEY, presence })
    try {
      const get = async (query: string) => {
        const res = await fetch(`${big.url}/v1/rooms/crowd/members${query}`, {
          headers: { authorization: `Bearer ${KEY}` },
        })
        expect(res.status).toBe(200)
        return (await res.json()) as { members: { id: string }[]; count: number; cursor: string | null }
      }
      const first = await get('')
      expect(first.count).toBe(1001)
      expect(first.members.map((m) => m.id)).toEqual(ids.slice(0, 1000))
      expect(first.cursor).not.toBeNull()
      const rest = await get(`?cursor=${encodeURIComponent(first.cursor!)}`)
      expect(rest).toEqual({ members: [{ id: 'u-1000', name: 'u-1000' }], count: 1001, cursor: null })
    } finally {
      await big.stop()
    }
  })
})
