import { createHmac } from 'node:crypto'
import type { Relay } from '@confab/relay'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, TestClient, wsUrl } from './helpers'

const SECRET = 'a-test-secret-that-is-at-least-32-chars'
const now = () => Math.floor(Date.now() / 1000)
const clients: TestClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function hs(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret))
}

function b64(value: object | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

async function hello(relay: Relay, token?: string): Promise<TestClient> {
  const c = new TestClient(wsUrl(relay))
  clients.push(c)
  await c.hello(token === undefined ? {} : { token })
  return c
}

/** The hello was refused with this code, then the socket closed with 4001. */
async function refused(c: TestClient, code: string): Promise<void> {
  expect(c.frames.at(-1)).toMatchObject({ type: 'error', code })
  expect((await c.closedWith()).code).toBe(4001)
}

describe('HS256 secret', () => {
  let relay: Relay
  beforeAll(async () => {
    relay = await startRelay({ auth: { secret: SECRET } })
  })
  afterAll(() => relay.stop())

  it('accepts a valid token: sub is the user id and name the display name', async () => {
    const c = await hello(relay, await hs({ sub: 'u-42', name: 'Kira', exp: now() + 60 }))
    expect(c.frames[0]).toMatchObject({ type: 'welcome', user: { id: 'u-42', name: 'Kira' } })
    expect(c.frames[0]?.resume).toBeUndefined()
  })

  it('refuses a hello without a token', async () => {
    const c = await hello(relay)
    expect(c.frames.at(-1)).toMatchObject({ code: 'unauthorized', message: 'a token is required' })
    expect((await c.closedWith()).code).toBe(4001)
  })

  it('refuses a token with a wrong signature, without echoing the token', async () => {
    const token = await hs({ sub: 'u', exp: now() + 60 }, 'another-secret-that-is-also-32-chars!!')
    const c = await hello(relay, token)
    await refused(c, 'unauthorized')
    expect(JSON.stringify(c.frames)).not.toContain(token)
  })

  it('refuses alg: none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin', exp: now() + 60 })}.`
    await refused(await hello(relay, token), 'unauthorized')
  })

  it('refuses an algorithm the server did not choose, even with a valid signature for it', async () => {
    const head = b64({ alg: 'HS512' })
    const body = b64({ sub: 'u', exp: now() + 60 })
    const sig = createHmac('sha512', SECRET).update(`${head}.${body}`).digest('base64url')
    await refused(await hello(relay, `${head}.${body}.${sig}`), 'unauthorized')
  })

  it('refuses an expired token with token_expired', async () => {
    await refused(await hello(relay, await hs({ sub: 'u', exp: now() - 60 })), 'token_expired')
  })

  it('accepts a token expired within the leeway', async () => {
    const c = await hello(relay, await hs({ sub: 'u', exp: now() - 2 }))
    expect(c.frames[0]?.type).toBe('welcome')
  })

  it('refuses a token that is not yet valid', async () => {
    await refused(await hello(relay, await hs({ sub: 'u', nbf: now() + 120, exp: now() + 600 })), 'unauthorized')
  })

  it('refuses a token without exp: it would never expire', async () => {
    const c = await hello(relay, await hs({ sub: 'u', name: 'Forever' }))
    expect(c.frames.at(-1)).toEqual({ type: 'error', code: 'unauthorized', message: 'token has no "exp" claim' })
    expect((await c.closedWith()).code).toBe(4001)
  })

  it('refuses a token without sub', async () => {
    const c = await hello(relay, await hs({ name: 'x', exp: now() + 60 }))
    expect(c.frames.at(-1)).toMatchObject({ code: 'unauthorized', message: 'token has no "sub" claim' })
  })

  it('lets the rooms claim restrict joins and publishes with forbidden', async () => {
    const c = await hello(relay, await hs({ sub: 'u', rooms: ['lobby', 'team-*'], exp: now() + 60 }))
    expect(await c.join('lobby')).toMatchObject({ type: 'joined' })
    expect(await c.join('team-red')).toMatchObject({ type: 'joined' })
    expect(await c.join('secret')).toMatchObject({
      type: 'error',
      code: 'forbidden',
      room: 'secret',
      message: 'not allowed in this room',
    })
    expect(await c.publish('secret', 'hi')).toMatchObject({ code: 'bad_request', message: 'join the room first' })
    c.send({ type: 'history', ref: 'h', room: 'secret' })
    expect(await c.next((f) => f.ref === 'h')).toMatchObject({ code: 'forbidden' })
  })

  it('ignores a display name sent in hello when a token names the user', async () => {
    const c = new TestClient(wsUrl(relay))
    clients.push(c)
    const welcome = await c.hello({ token: await hs({ sub: 'u-7', name: 'Real', exp: now() + 60 }), name: 'Fake' })
    expect(welcome.user).toEqual({ id: 'u-7', name: 'Real' })
  })
})

describe('requireExp: false', () => {
  it('accepts a token without exp, and still refuses an expired one', async () => {
    const relay = await startRelay({ auth: { secret: SECRET, requireExp: false } })
    try {
      const c = await hello(relay, await hs({ sub: 'svc', name: 'Service' }))
      expect(c.frames[0]).toMatchObject({ type: 'welcome', user: { id: 'svc', name: 'Service' } })
      await refused(await hello(relay, await hs({ sub: 'u', exp: now() - 60 })), 'token_expired')
    } finally {
      await relay.stop()
    }
  })
})

describe('RS256 public key', () => {
  let relay: Relay
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  let pem: string
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256')
    privateKey = pair.privateKey
    pem = await exportSPKI(pair.publicKey)
    relay = await startRelay({ auth: { publicKey: pem } })
  })
  afterAll(() => relay.stop())

  it('accepts a token signed with the private key', async () => {
    const token = await new SignJWT({ sub: 'rs-user' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('1m')
      .sign(privateKey)
    expect((await hello(relay, token)).frames[0]).toMatchObject({ type: 'welcome', user: { id: 'rs-user' } })
  })

  it('refuses HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    await refused(await hello(relay, await hs({ sub: 'admin', exp: now() + 60 }, pem)), 'unauthorized')
  })
})

describe('ES256 public key', () => {
  it('accepts a token signed with the EC private key', async () => {
    const pair = await generateKeyPair('ES256')
    const relay = await startRelay({ auth: { publicKey: await exportSPKI(pair.publicKey) } })
    try {
      const token = await new SignJWT({ sub: 'ec-user', name: 'Ec' })
        .setProtectedHeader({ alg: 'ES256' })
        .setExpirationTime('1m')
        .sign(pair.privateKey)
      expect((await hello(relay, token)).frames[0]).toMatchObject({ user: { id: 'ec-user', name: 'Ec' } })
    } finally {
      await relay.stop()
    }
  })
})

describe('custom verify', () => {
  it('uses the user the function returns and refuses what it throws on', async () => {
    const relay = await startRelay({
      auth: {
        verify: async (token) => {
          if (token !== 'open-sesame') throw new Error('nope')
          return { id: 'custom-1', name: 'Custom', rooms: ['only'] }
        },
      },
    })
    try {
      const ok = await hello(relay, 'open-sesame')
      expect(ok.frames[0]).toMatchObject({ user: { id: 'custom-1', name: 'Custom' } })
      expect(await ok.join('other')).toMatchObject({ code: 'forbidden' })
      const bad = await hello(relay, 'wrong')
      expect(bad.frames.at(-1)).toEqual({ type: 'error', code: 'unauthorized', message: 'token rejected' })
      expect((await bad.closedWith()).code).toBe(4001)
    } finally {
      await relay.stop()
    }
  })
})
