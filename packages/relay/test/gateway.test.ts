import type { Relay } from '@confab/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { connectClient, startRelay, TestClient, wsUrl } from './helpers'

const relays: Relay[] = []
const clients: TestClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(relays.splice(0).map((r) => r.stop()))
})

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

describe('gateway', () => {
  it('keeps no timer per socket waiting for its hello, and still closes late ones with 4102', async () => {
    const relay = await startRelay({ limits: { helloTimeout: 1000 } })
    relays.push(relay)
    const first = new TestClient(wsUrl(relay))
    clients.push(first)
    await first.opened()
    const before = timers()
    const waiting = Array.from({ length: 40 }, () => new TestClient(wsUrl(relay)))
    clients.push(...waiting)
    await Promise.all(waiting.map((c) => c.opened()))
    // One timer covers every pending hello: 40 sockets add none.
    expect(timers() - before).toBeLessThanOrEqual(1)
    for (const c of [first, ...waiting]) {
      expect(await c.closedWith()).toEqual({ code: 4102, reason: 'no hello in time' })
    }
  })

  it('gives every connection its own session id', async () => {
    const relay = await startRelay()
    relays.push(relay)
    const welcomes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const c = await connectClient(relay)
        clients.push(c)
        return c.frames[0]
      }),
    )
    const sessions = welcomes.map((w) => w?.session)
    for (const session of sessions) expect(session).toMatch(/^[\w-]{8,}$/)
    expect(new Set(sessions).size).toBe(20)
  })
})
