// Tokens against a relay with JWT auth: refresh on reconnect, one retry on 4001, no storm.
import type { Relay } from '@confab/relay'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { client, closeClients, portOf, startRelay, statusOf } from './support'

const reconnect = { minDelay: 50, maxDelay: 400 }
let proxy: FaultProxy | undefined
const relays: Relay[] = []

afterEach(async () => {
  closeClients()
  await proxy?.close()
  for (const r of relays.splice(0)) await r.stop()
})

describe('auth', () => {
  const secret = 'a-test-secret-of-at-least-32-bytes!'
  const jwt = (sub: string, expiresIn: string | number) =>
    new SignJWT({ name: 'Alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt(Math.floor(Date.now() / 1_000) - 120)
      .setExpirationTime(expiresIn)
      .sign(new TextEncoder().encode(secret))

  it('refreshes an expired token through the token function, and calls it again on every reconnect', async () => {
    const secured = await startRelay({ auth: { secret } })
    relays.push(secured)
    proxy = await startFaultProxy({ port: portOf(secured) })
    let calls = 0
    const alice = client(proxy.url, {
      // The first token expired a minute ago (beyond the relay's 5 s leeway); later ones are fresh.
      token: () => jwt('u-alice', ++calls === 1 ? Math.floor(Date.now() / 1_000) - 60 : '1h'),
      reconnect,
    })
    await statusOf(alice, 'open')
    expect(calls).toBe(2)
    expect(alice.user).toEqual({ id: 'u-alice', name: 'Alice' })
    proxy.cut()
    await statusOf(alice, 'reconnecting')
    await statusOf(alice, 'open')
    expect(calls).toBe(3)
  })

  it('a permanently bad token gets one retry, then closed and an unauthorized error, no storm', async () => {
    const secured = await startRelay({ auth: { secret } })
    relays.push(secured)
    proxy = await startFaultProxy({ port: portOf(secured) })
    let calls = 0
    const alice = client(proxy.url, {
      token: () => `not-a-jwt-${++calls}`,
      reconnect,
    })
    const error = new Promise((resolve) => alice.on('error', (e) => e.code === 'unauthorized' && resolve(e)))
    await statusOf(alice, 'closed')
    await expect(error).resolves.toMatchObject({ code: 'unauthorized' })
    expect(calls).toBe(2)
    expect(proxy.accepted).toBe(2)
  })
})
