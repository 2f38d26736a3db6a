import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { cleanName, cleanText, isEmoji, isVisible, MAX_USER_ID, userIdProblem } from '../src/text'
import { perTest, TestClient, wsUrl } from './helpers'

const { relayWith, client, track } = perTest()

describe('isEmoji (a reaction)', () => {
  it('accepts one emoji grapheme: plain, with a skin tone or variation selector, a flag, a ZWJ sequence', () => {
    for (const emoji of ['👍', '👍🏽', '❤️', '❤', '🇫🇷', '👩‍👩‍👧‍👦', '🏳️‍🌈', '🧑🏿‍🚀', '🫠'])
      expect(isEmoji(emoji), emoji).toBe(true)
  })

  it('refuses letters, digits, text smileys, several graphemes, blanks and anything over 32 code units', () => {
    const long = '👩🏽‍❤️‍💋‍👨🏾'.padEnd(33, '\u200d')
    for (const value of ['', 'a', 'ab', ':)', '1', '#', '😀😀', '👍 ', ' 👍', '\u200b', '👍\u0000', '\u202e👍', long]) {
      expect(isEmoji(value), JSON.stringify(value)).toBe(false)
    }
  })
})

describe('cleanText (message text as stored)', () => {
  it.each([
    ['bidi override in a link', 'http://example.com/\u202Etxt.exe', 'http://example.com/txt.exe'],
    [
      'every embedding, override and isolate',
      'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069j',
      'abcdefghij',
    ],
    ['NUL and BEL', 'ding\u0000\u0007!', 'ding!'],
    ['C1 controls and DEL', 'a\u0085b\u009fc\u007fd', 'abcd'],
    ['an ANSI colour escape, whole', '\u001b[31mred\u001b[0m text', 'red text'],
    ['an OSC title escape, whole', '\u001b]0;pwned\u0007hi', 'hi'],
    ['the one-byte CSI', '\u009b2Jclear', 'clear'],
    ['a lone ESC', 'a\u001bb', 'ab'],
    ['CRLF and CR as newlines', 'one\r\ntwo\rthree', 'one\ntwo\nthree'],
  ])('removes %s', (_case, text, stored) => {
    expect(cleanText(text)).toBe(stored)
  })

  it.each([
    ['newlines and tabs', 'line one\n\tline two'],
    ['right-to-left text and its marks', 'שלום \u200Fעולם\u200E ok \u061C'],
    ['emoji with joiners and variation selectors', '👩‍👩‍👧 ❤️'],
  ])('keeps %s', (_case, text) => {
    expect(cleanText(text)).toBe(text)
  })
})

describe('cleanName', () => {
  it.each([
    ['U+061C', '\u061C'],
    ['a soft hyphen', '\u00AD'],
    ['Hangul fillers', '\u3164\u115F\u1160\uFFA0'],
    ['zero-width characters and marks', '\u200B\u200C\u200D\u200E\u200F'],
    ['word joiners and invisible operators', '\u2060\u2061\u2062\u2063\u2064'],
    ['a byte order mark', '\uFEFF'],
    ['bidi controls', '\u202E\u2066\u2069'],
    ['controls and escapes', '\u0000\u0007\u001b[31m'],
    ['a braille blank and spaces', '\u2800 \u3000 \u00A0'],
    ['combining marks alone', '\u0301\u0301'],
  ])('leaves nothing of a name made of %s', (_case, name) => {
    expect(cleanName(name, 40)).toBe('')
  })

  it('keeps visible letters and strips the invisible ones between them', () => {
    expect(cleanName('Ki\u200Bra\u00AD \u3164 \u202EAdmin', 40)).toBe('Kira Admin')
    expect(cleanName('  José   María ', 40)).toBe('José María')
    expect(cleanName('李小龍', 40)).toBe('李小龍')
  })
})

describe('isVisible and userIdProblem', () => {
  it('counts only something a reader can see as text', () => {
    expect(isVisible(' \n\t\u200B\u3164')).toBe(false)
    expect(isVisible('\u200B.')).toBe(true)
  })

  it(`takes ids of 1 to ${MAX_USER_ID} characters without control characters`, () => {
    expect(userIdProblem('u-42')).toBeNull()
    expect(userIdProblem('x'.repeat(MAX_USER_ID))).toBeNull()
    expect(userIdProblem('x'.repeat(MAX_USER_ID + 1))).toBe('must be 1 to 64 characters')
    expect(userIdProblem('')).toBe('must be 1 to 64 characters')
    expect(userIdProblem('u\u0000')).toBe('must not contain control characters')
    expect(userIdProblem('\u200B\u3164')).toBe('must have a visible character')
  })
})

describe('through the relay', () => {
  it('stores and relays text without bidi overrides, controls or escapes', async () => {
    const relay = await relayWith()
    const [a, b] = await Promise.all([client(relay), client(relay)])
    await a.join('spoof')
    await b.join('spoof')
    const ack = await a.publish('spoof', 'see http://example.com/\u202Etxt.exe\u0007 \u001b[2J\u0000ok')
    expect(ack.type).toBe('ack')
    expect(await b.nextOf('message')).toMatchObject({ text: 'see http://example.com/txt.exe ok' })
    const page = await fetch(`${relay.url}/v1/rooms/spoof/messages`).then((r) => r.json())
    expect(page.messages.map((m: { text: string }) => m.text)).toEqual(['see http://example.com/txt.exe ok'])
  })

  it('refuses text that is nothing but invisible characters as empty', async () => {
    const relay = await relayWith()
    const a = await client(relay)
    await a.join('blank')
    expect(await a.publish('blank', '\u202E\u200B\u0000 \u3164')).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'text is empty',
    })
    const posted = await fetch(`${relay.url}/v1/rooms/blank/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '\u0007\u2066' }),
    })
    expect(posted.status).toBe(400)
    expect(await posted.json()).toEqual({ code: 'bad_request', message: 'text is empty' })
  })

  it('strips the same characters from text posted through the HTTP API', async () => {
    const relay = await relayWith()
    const posted = await fetch(`${relay.url}/v1/rooms/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'deploy\u0000 \u001b[32mdone\u001b[0m \u202Egnp.exe' }),
    })
    expect(posted.status).toBe(201)
    expect((await posted.json()).message.text).toBe('deploy done gnp.exe')
  })

  it('gives a guest whose name is invisible the guest name, as for no name', async () => {
    const relay = await relayWith()
    const c = new TestClient(wsUrl(relay))
    track(c)
    const welcome = await c.hello({ name: '\u3164\u200B\u00AD\u061C' })
    expect((welcome.user as { name: string }).name).toMatch(/^Guest [0-9a-f]{4}$/)
  })

  it('refuses a token whose sub is longer than 64 characters, holds a control character or shows nothing', async () => {
    const secret = 'a-test-secret-that-is-at-least-32-chars'
    const relay = await relayWith({ auth: { secret } })
    const token = (sub: string) =>
      new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret))
    for (const [sub, why] of [
      ['x'.repeat(5000), 'must be 1 to 64 characters'],
      ['u\u0007', 'must not contain control characters'],
      ['\u200B', 'must have a visible character'],
    ] as const) {
      const c = track(new TestClient(wsUrl(relay)))
      expect(await c.hello({ token: await token(sub) })).toEqual({
        type: 'error',
        code: 'unauthorized',
        message: `user id (the token's "sub") ${why}`,
      })
      expect(await c.closedWith()).toEqual({ code: 4001, reason: 'unauthorized' })
    }
    const ok = track(new TestClient(wsUrl(relay)))
    expect(await ok.hello({ token: await token('x'.repeat(64)) })).toMatchObject({ type: 'welcome' })
  })
})
