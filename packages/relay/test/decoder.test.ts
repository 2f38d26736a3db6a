import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeFrame, jsonDepth, parseJson } from '../src/decoder'
import { ClientError } from '../src/errors'

const limits = { maxDepth: 32, maxText: 4000 }

function refused(text: string) {
  const decoded = decodeFrame(text, limits)
  if (decoded.ok) throw new Error(`accepted ${text}`)
  return { code: decoded.error.code, message: decoded.error.message, ref: decoded.ref, room: decoded.room }
}

describe('decodeFrame', () => {
  it('accepts every client frame type and keeps only protocol fields', () => {
    const publish = decodeFrame(
      JSON.stringify({ type: 'publish', ref: 'r', room: 'a', id: 'i', text: 'hi', from: { id: 'admin' }, ts: 1 }),
      limits,
    )
    expect(publish).toEqual({ ok: true, frame: { type: 'publish', ref: 'r', room: 'a', id: 'i', text: 'hi' } })
    expect(decodeFrame('{"type":"hello","name":"Kira"}', limits)).toEqual({
      ok: true,
      frame: { type: 'hello', name: 'Kira' },
    })
    expect(decodeFrame('{"type":"join","ref":"1","room":"r","since":{"epoch":"e","offset":3}}', limits)).toEqual({
      ok: true,
      frame: { type: 'join', ref: '1', room: 'r', since: { epoch: 'e', offset: 3 } },
    })
    expect(decodeFrame('{"type":"typing","room":"r"}', limits)).toEqual({
      ok: true,
      frame: { type: 'typing', room: 'r', active: true },
    })
    expect(decodeFrame('{"type":"history","ref":"h","room":"r","before":9,"limit":5}', limits)).toMatchObject({
      ok: true,
    })
    expect(decodeFrame('{"type":"leave","room":"r"}', limits)).toMatchObject({ ok: true })
    expect(decodeFrame('{"type":"ping"}', limits)).toEqual({ ok: true, frame: { type: 'ping' } })
  })

  it('refuses text that is not JSON', () => {
    expect(refused('hello')).toMatchObject({ code: 'bad_request', message: 'frame is not valid JSON' })
  })

  it('refuses JSON that is not an object', () => {
    expect(refused('[1,2]')).toMatchObject({ code: 'bad_request', message: 'frame must be a JSON object' })
    expect(refused('null')).toMatchObject({ code: 'bad_request' })
  })

  it('refuses unknown and missing types', () => {
    expect(refused('{"type":"shout"}')).toMatchObject({ code: 'bad_request', message: 'unknown frame type' })
    expect(refused('{"room":"x"}')).toMatchObject({ code: 'bad_request', message: 'frame has no type' })
  })

  it('refuses deep nesting before parsing it', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    expect(refused(deep)).toMatchObject({ code: 'bad_request', message: 'JSON nested deeper than 32' })
  })

  it('does not count brackets inside strings as nesting', () => {
    expect(jsonDepth('{"text":"[[[[{{{{\\"]]"}', 10)).toBe(1)
  })

  it('refuses __proto__, constructor and prototype keys anywhere', () => {
    expect(refused('{"type":"ping","__proto__":{"x":1}}')).toMatchObject({
      code: 'bad_request',
      message: 'key "__proto__" is not allowed',
    })
    expect(
      refused('{"type":"publish","ref":"r","room":"a","id":"i","text":"t","meta":{"constructor":{}}}'),
    ).toMatchObject({ code: 'bad_request', message: 'key "constructor" is not allowed' })
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('points a frame refused while parsing (forbidden key, too deep) back at its ref and room', () => {
    const poisoned =
      '{"type":"publish","ref":"p1","room":"lobby","id":"i","text":"t","meta":{"card":{"prototype":"x"}}}'
    expect(refused(poisoned)).toEqual({
      code: 'bad_request',
      message: 'key "prototype" is not allowed',
      ref: 'p1',
      room: 'lobby',
    })
    // Refs placed after the deep value, and nested keys of the same name, which must not be taken.
    const deep = `{"type":"publish","room":"lobby","meta":{"ref":"inner","x":${'['.repeat(100_000)}${']'.repeat(100_000)}},"ref":"p2"}`
    expect(refused(deep)).toEqual({
      code: 'bad_request',
      message: 'JSON nested deeper than 32',
      ref: 'p2',
      room: 'lobby',
    })
    // Only short, plain strings are echoed: a room name that is not one, or an over-long ref, is left out.
    expect(refused(`{"type":"join","ref":"${'r'.repeat(65)}","room":"a b","__proto__":1}`)).toEqual({
      code: 'bad_request',
      message: 'key "__proto__" is not allowed',
      ref: undefined,
      room: undefined,
    })
    expect(refused('{ "ref" : "p3" , "room" :"r", "type":"publish", "x": {"constructor": 1}}')).toMatchObject({
      ref: 'p3',
      room: 'r',
    })
    expect(decodeFrame('{"type":"hello","name":"n","__proto__":{}}', limits)).toMatchObject({ ok: false, hello: true })
  })

  it('refuses those keys when hidden behind \\u escapes', () => {
    const escaped: Array<[string, string]> = [
      ['\\u005f_proto__', '__proto__'],
      ['\\u005F\\u005F\\u0070roto__', '__proto__'],
      ['c\\u006fnstructor', 'constructor'],
      ['prot\\u006ftype', 'prototype'],
    ]
    for (const [written, key] of escaped) {
      const text = `{"type":"publish","ref":"r","room":"a","id":"i","text":"t","meta":{"${written}":{"polluted":1}}}`
      expect(refused(text)).toMatchObject({ code: 'bad_request', message: `key "${key}" is not allowed` })
    }
  })

  it('refuses meta larger than 2 KiB of JSON with too_large, pointing at the frame', () => {
    const frame = (pad: string) =>
      JSON.stringify({ type: 'publish', ref: 'r', room: 'a', id: 'i', text: 't', meta: { pad } })
    // {"pad":"…"} is 10 bytes around the string.
    expect(decodeFrame(frame('x'.repeat(2038)), limits)).toMatchObject({ ok: true })
    expect(refused(frame('x'.repeat(2039)))).toEqual({
      code: 'too_large',
      message: 'meta is larger than 2048 bytes',
      ref: 'r',
      room: 'a',
    })
    // Counted in UTF-8 bytes, not characters.
    expect(refused(frame('é'.repeat(1020))).code).toBe('too_large')
  })

  it('marks a refused hello, so the connection can close instead of waiting for the deadline', () => {
    expect(decodeFrame(JSON.stringify({ type: 'hello', name: 'x'.repeat(1001) }), limits)).toEqual({
      ok: false,
      error: new ClientError('bad_request', 'name must be a string of at most 1000 characters'),
      hello: true,
    })
    expect(decodeFrame('{"type":"join","ref":"j","room":5}', limits)).not.toHaveProperty('hello')
  })

  it('accepts the word constructor inside message text', () => {
    expect(
      decodeFrame('{"type":"publish","ref":"r","room":"a","id":"i","text":"\\"constructor\\""}', limits),
    ).toMatchObject({ ok: true })
  })

  it('refuses invalid room names with the allowed characters in the message, echoing the ref', () => {
    expect(refused('{"type":"join","ref":"j1","room":"no spaces"}')).toEqual({
      code: 'bad_request',
      message: 'room must be 1 to 64 characters: letters, digits, and _ - . : @',
      ref: 'j1',
      room: undefined,
    })
    expect(refused(`{"type":"join","ref":"j","room":"${'a'.repeat(65)}"}`)).toMatchObject({ code: 'bad_request' })
    expect(refused('{"type":"join","ref":"j","room":""}')).toMatchObject({ code: 'bad_request' })
  })

  it('refuses text over the limit with too_large, and empty text with bad_request', () => {
    const long = JSON.stringify({ type: 'publish', ref: 'r', room: 'a', id: 'i', text: 'x'.repeat(4001) })
    expect(refused(long)).toEqual({
      code: 'too_large',
      message: 'text is longer than 4000 characters',
      ref: 'r',
      room: 'a',
    })
    expect(refused('{"type":"publish","ref":"r","room":"a","id":"i","text":"   "}')).toMatchObject({
      code: 'bad_request',
      message: 'text is empty',
    })
  })

  it('refuses lone surrogates', () => {
    expect(refused('{"type":"publish","ref":"r","room":"a","id":"i","text":"\\ud800x"}')).toMatchObject({
      code: 'bad_request',
      message: 'text is not valid Unicode',
    })
    expect(refused('{"type":"hello","name":"\\udc00"}')).toMatchObject({ code: 'bad_request' })
  })

  it('refuses huge, negative and fractional numbers', () => {
    expect(refused('{"type":"history","ref":"h","room":"a","limit":1e308}')).toMatchObject({
      code: 'bad_request',
      message: 'limit must be a non-negative integer',
    })
    expect(refused('{"type":"join","ref":"j","room":"a","since":{"epoch":"e","offset":-1}}')).toMatchObject({
      code: 'bad_request',
    })
    expect(refused('{"type":"join","ref":"j","room":"a","history":1.5}')).toMatchObject({ code: 'bad_request' })
  })

  it('refuses wrong field types', () => {
    expect(refused('{"type":"publish","ref":"r","room":"a","id":7,"text":"t"}')).toMatchObject({
      code: 'bad_request',
      message: 'id must be a string of at most 64 characters',
    })
    expect(refused('{"type":"typing","room":"a","active":"yes"}')).toMatchObject({ code: 'bad_request' })
    expect(refused('{"type":"hello","v":2}')).toMatchObject({ message: 'unsupported protocol version' })
  })

  it('turns any input into a valid frame or a clean error, never a throw', () => {
    // Any UTF-16 code units, lone surrogates included.
    const units = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((a) => String.fromCharCode(...a))
    const jsonish = fc.oneof(
      units,
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          type: fc.constantFrom(
            'hello',
            'join',
            'leave',
            'publish',
            'typing',
            'history',
            'ping',
            'edit',
            'delete',
            'react',
            'nope',
          ),
          ref: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
          room: fc.oneof(fc.string(), fc.stringMatching(/^[a-z]{1,8}$/), fc.constant(undefined)),
          id: fc.oneof(fc.string(), fc.double()),
          text: fc.oneof(fc.string(), units, fc.string({ unit: 'binary' }), fc.constant('x'.repeat(5000))),
          history: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_VALUE)),
          meta: fc.jsonValue(),
          since: fc.anything(),
          offset: fc.oneof(fc.integer(), fc.double(), fc.string()),
          emoji: fc.oneof(fc.string(), units, fc.constantFrom('👍', '🇫🇷', '👩‍👩‍👧‍👦')),
          on: fc.anything(),
        })
        .map((v) => JSON.stringify(v)),
    )
    fc.assert(
      fc.property(jsonish, (text) => {
        const decoded = decodeFrame(text, limits)
        if (decoded.ok) {
          expect(typeof decoded.frame.type).toBe('string')
        } else {
          expect(decoded.error).toBeInstanceOf(ClientError)
          expect(['bad_request', 'too_large']).toContain(decoded.error.code)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('decodes edit, delete and react with only their protocol fields', () => {
    const decode = (frame: object) => decodeFrame(JSON.stringify(frame), limits)
    expect(
      decode({ type: 'edit', ref: 'r', room: 'a', id: 'e', offset: 3, text: 'x\r\ny', meta: { k: 1 }, from: 'z' }),
    ).toEqual({
      ok: true,
      frame: { type: 'edit', ref: 'r', room: 'a', id: 'e', offset: 3, text: 'x\ny', meta: { k: 1 } },
    })
    expect(decode({ type: 'delete', ref: 'r', room: 'a', id: 'd', offset: 1, text: 'ignored' })).toEqual({
      ok: true,
      frame: { type: 'delete', ref: 'r', room: 'a', id: 'd', offset: 1 },
    })
    expect(decode({ type: 'react', ref: 'r', room: 'a', id: 'x', offset: 2, emoji: '👍🏽', on: false })).toEqual({
      ok: true,
      frame: { type: 'react', ref: 'r', room: 'a', id: 'x', offset: 2, emoji: '👍🏽', on: false },
    })
    expect(refused(JSON.stringify({ type: 'react', ref: 'r', room: 'a', id: 'x', offset: 2, emoji: 'a' }))).toEqual({
      code: 'bad_request',
      message: 'emoji must be one emoji (a single grapheme of at most 32 UTF-16 code units)',
      ref: 'r',
      room: 'a',
    })
    expect(
      refused(JSON.stringify({ type: 'edit', ref: 'r', room: 'a', id: 'x', offset: 2, text: 'x'.repeat(4001) })),
    ).toMatchObject({
      code: 'too_large',
    })
  })

  it('parseJson reports invalid JSON as a client error', () => {
    expect(() => parseJson('{', 32)).toThrowError(ClientError)
  })
})
