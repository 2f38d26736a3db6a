import type { Socket } from 'node:net'
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

  it('hands a socket its events without listeners on its WebSocket: message, pong, error and close', async () => {
    const relay = await startRelay()
    relays.push(relay)
    let tcp: Socket | undefined
    relay.server.listener.on('upgrade', (_request, socket: Socket) => {
      tcp = socket
    })
    const c = await connectClient(relay)
    clients.push(c)
    const key = Object.getOwnPropertySymbols(tcp).find((k) => k.description === 'websocket')
    if (key === undefined) throw new Error('this ws keeps no WebSocket on its TCP socket under a "websocket" symbol')
    const ws = (tcp as unknown as Record<symbol, NodeJS.EventEmitter>)[key] as NodeJS.EventEmitter
    for (const event of ['message', 'pong', 'error', 'close']) expect(ws.listenerCount(event)).toBe(0)
    // Yet its frames are answered (pongs and close: presence.test.ts, errors: bad-input.test.ts).
    c.send({ type: 'ping', ref: 'p' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'p' })
  })
})
