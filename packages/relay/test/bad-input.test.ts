// Every kind of bad input gets its documented answer, and the relay keeps serving.
import { connect } from 'node:net'
import type { Relay } from '@confab/relay'
import { describe, expect, it } from 'vitest'
import { perTest, relayPerFile, startRelay, TestClient, wsUrl } from './helpers'

const relay = relayPerFile()
const scope = perTest()

function client(): Promise<TestClient> {
  return scope.client(relay())
}

/** A fresh, well-behaved client can still chat. */
async function relayStillServes(): Promise<void> {
  const [a, b] = await scope.joinedPair(relay(), 'still-ok')
  const ack = await a.publish('still-ok', 'fine')
  expect(ack.type).toBe('ack')
  expect(await b.next((f) => f.type === 'message' && f.id === ack.id)).toMatchObject({ text: 'fine' })
}

const cases: Array<[string, string | Buffer, Record<string, unknown>]> = [
  ['non-JSON text', 'not json', { code: 'bad_request', message: 'frame is not valid JSON' }],
  ['a JSON array', '[]', { code: 'bad_request', message: 'frame must be a JSON object' }],
  ['an unknown type', '{"type":"shout","ref":"u1"}', { code: 'bad_request', message: 'unknown frame type', ref: 'u1' }],
  ['a wrong shape', '{"type":"join","ref":"w1","room":5}', { code: 'bad_request', ref: 'w1' }],
  [
    '12,000 levels of nesting',
    `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`.slice(0, 60_000),
    { code: 'bad_request', message: 'JSON nested deeper than 32' },
  ],
  [
    'a __proto__ key',
    '{"type":"publish","ref":"x","room":"r","id":"1","text":"t","meta":{"__proto__":{"admin":true}}}',
    { code: 'bad_request', message: 'key "__proto__" is not allowed' },
  ],
  [
    'an invalid room name',
    '{"type":"join","ref":"r1","room":"../etc/passwd"}',
    { code: 'bad_request', ref: 'r1', message: 'room must be 1 to 64 characters: letters, digits, and _ - . : @' },
  ],
  ['a huge number', '{"type":"history","ref":"h1","room":"r","limit":1e400}', { code: 'bad_request', ref: 'h1' }],
  [
    'a lone surrogate',
    '{"type":"publish","ref":"s1","room":"r","id":"1","text":"\\udead"}',
    { code: 'bad_request', message: 'text is not valid Unicode' },
  ],
  ['a binary frame', Buffer.from([1, 2, 3]), { code: 'bad_request', message: 'binary frames are not supported' }],
]

describe('bad input after hello', () => {
  it.each(cases)('answers %s with the documented error and stays open', async (_name, data, expected) => {
    const c = await client()
    c.ws.send(data)
    expect(await c.nextOf('error')).toMatchObject({ type: 'error', ...expected })
    c.send({ type: 'ping', ref: 'alive' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'alive' })
    await relayStillServes()
  })

  it('answers text over the limit with too_large', async () => {
    const c = await client()
    await c.join('big')
    const answer = await c.publish('big', 'x'.repeat(4001))
    expect(answer).toMatchObject({ type: 'error', code: 'too_large', room: 'big' })
  })

  it('closes an oversize frame with 1009', async () => {
    const c = await client()
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70_000) }))
    expect((await c.closedWith()).code).toBe(1009)
    await relayStillServes()
  })

  it('refuses 100,000 levels of nesting when the frame limit lets them through', async () => {
    const roomy = await scope.relayWith({ limits: { maxPayload: 1_048_576 } })
    const c = await scope.client(roomy)
    c.send(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    expect(await c.nextOf('error')).toMatchObject({ code: 'bad_request', message: 'JSON nested deeper than 32' })
    c.send({ type: 'ping', ref: 'alive' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'alive' })
  })

  it('never stores or broadcasts a __proto__, constructor or prototype key, escaped or not', async () => {
    const c = await client()
    const other = await client()
    await c.join('proto')
    await other.join('proto')
    const keys: Array<[string, string]> = [
      ['__proto__', '__proto__'],
      ['\\u005f_proto__', '__proto__'],
      ['\\u005F\\u005Fproto\\u005F\\u005F', '__proto__'],
      ['constr\\u0075ctor', 'constructor'],
      ['\\u0070rototype', 'prototype'],
    ]
    for (const [i, [written, key]] of keys.entries()) {
      c.send(
        `{"type":"publish","ref":"x${i}","room":"proto","id":"p${i}","text":"t","meta":{"${written}":{"polluted":true}}}`,
      )
      // Refused while parsing, yet pointing back at the frame's ref and room.
      expect(await c.nextOf('error')).toEqual({
        type: 'error',
        code: 'bad_request',
        message: `key "${key}" is not allowed`,
        ref: `x${i}`,
        room: 'proto',
      })
    }
    c.send({ type: 'history', ref: 'h', room: 'proto' })
    expect(await c.next((f) => f.ref === 'h')).toMatchObject({ type: 'history', messages: [] })
    const ack = await c.publish('proto', 'clean', { meta: { note: '\u005f' } })
    expect(ack.type).toBe('ack')
    const message = await other.nextOf('message')
    expect(message).toMatchObject({ text: 'clean', meta: { note: '_' } })
  })

  it('answers a publish refused while parsing with its ref and room, and the next publish is acked', async () => {
    const c = await client()
    await c.join('poison')
    c.send('{"type":"publish","ref":"bad","room":"poison","id":"m1","text":"hi","meta":{"card":{"prototype":"x"}}}')
    expect(await c.nextOf('error')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'key "prototype" is not allowed',
      ref: 'bad',
      room: 'poison',
    })
    const deep = `{"type":"publish","ref":"deep","room":"poison","id":"m2","text":"hi","meta":{"x":${'['.repeat(40)}${']'.repeat(40)}}}`
    c.send(deep)
    expect(await c.nextOf('error')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'JSON nested deeper than 32',
      ref: 'deep',
      room: 'poison',
    })
    expect(await c.publish('poison', 'second')).toMatchObject({ type: 'ack', room: 'poison', offset: 1 })
  })

  it('closes with 4000 when the hello itself is refused while parsing', async () => {
    const c = scope.track(new TestClient(wsUrl(relay())))
    await c.opened()
    c.send('{"type":"hello","name":"n","constructor":{}}')
    expect(await c.nextOf('error')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'key "constructor" is not allowed',
    })
    expect(await c.closedWith()).toEqual({ code: 4000, reason: 'bad_request' })
  })

  it('refuses a second hello', async () => {
    const c = await client()
    c.send({ type: 'hello', name: 'again' })
    expect(await c.nextOf('error')).toMatchObject({ code: 'bad_request', message: 'hello was already sent' })
  })

  it.each([
    ['an unsupported version', { type: 'hello', v: 2 }],
    ['a malformed field', { type: 'hello', name: 'x'.repeat(1001) }],
  ])('refuses a second hello with %s as already sent, and stays open', async (_case, hello) => {
    const c = await client()
    c.send(hello)
    expect(await c.nextOf('error')).toEqual({ type: 'error', code: 'bad_request', message: 'hello was already sent' })
    expect(await c.publish('anywhere', 'x')).toMatchObject({ code: 'bad_request', message: 'join the room first' })
    expect(c.closed).toBeNull()
  })

  it('ignores identity fields a client sends with a publish', async () => {
    const c = await client()
    await c.join('spoof')
    const ack = await c.publish('spoof', 'me', { from: { id: 'admin', name: 'Admin' }, offset: 999, ts: 1 })
    const message = await c.nextOf('message')
    expect(message.from).toEqual(c.frames[0]?.user)
    expect(message.offset).toBe(ack.offset)
    expect(message.ts).not.toBe(1)
  })

  it('closes with 4009 after a steady stream of bad frames', async () => {
    const c = await client()
    for (let i = 0; i < 40; i++) c.send('junk')
    expect((await c.closedWith()).code).toBe(4009)
    await relayStillServes()
  })
})

describe('bad input before hello', () => {
  it('answers a frame before hello with bad_request and still accepts hello', async () => {
    const c = new TestClient(wsUrl(relay()))
    scope.track(c)
    await c.opened()
    c.send({ type: 'join', ref: 'early', room: 'r' })
    expect(await c.nextOf('error')).toMatchObject({ code: 'bad_request', message: 'send hello first', ref: 'early' })
    expect(await c.hello()).toMatchObject({ type: 'welcome' })
  })

  it('closes with 4000 after a malformed hello, so the client does not resend it unchanged', async () => {
    const c = new TestClient(wsUrl(relay()))
    scope.track(c)
    await c.opened()
    c.send({ type: 'hello', name: 'x'.repeat(1001) })
    expect(await c.nextOf('error')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'name must be a string of at most 1000 characters',
    })
    expect(await c.closedWith()).toEqual({ code: 4000, reason: 'bad_request' })
    await relayStillServes()
  })

  it('closes with 4102 when no hello arrives in time', async () => {
    const quick = await startRelay({ limits: { helloTimeout: 100 } })
    try {
      const c = new TestClient(wsUrl(quick))
      scope.track(c)
      await c.opened()
      expect(await c.closedWith()).toEqual({ code: 4102, reason: 'no hello in time' })
    } finally {
      await quick.stop()
    }
  })
})

/** Writes raw bytes to the relay's port and resolves with everything it answers until it closes the connection. */
function rawRequest(target: Relay, request: string): Promise<string> {
  const { hostname, port } = new URL(target.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

describe('bad upgrade requests', () => {
  it.each(['//[', '/%', 'http://[::1', '*'])('answers an upgrade of %s with 404 and keeps serving', async (path) => {
    const answer = await rawRequest(
      relay(),
      `GET ${path} HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/)
    await relayStillServes()
  })

  it('still finds the WebSocket path behind a query string', async () => {
    const c = new TestClient(`${wsUrl(relay())}?v=1`)
    scope.track(c)
    expect(await c.hello()).toMatchObject({ type: 'welcome' })
  })
})
