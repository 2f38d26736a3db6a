import { afterEach, describe, expect, it } from 'vitest'
import { connectClient, startRelay, TestClient, wsUrl } from './helpers'

const clients: TestClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

describe('graceful shutdown', () => {
  it('closes every socket with 1012 so clients reconnect elsewhere', async () => {
    const relay = await startRelay()
    const a = await connectClient(relay)
    const b = await connectClient(relay)
    clients.push(a, b)
    await a.join('bye')
    await relay.stop()
    expect(await a.closedWith()).toEqual({ code: 1012, reason: 'relay restarting' })
    expect((await b.closedWith()).code).toBe(1012)
  })

  it('turns /readyz to 503 and refuses upgrades while draining, then finishes', async () => {
    const relay = await startRelay({ shutdownTimeout: 5000 })
    const stuck = await connectClient(relay)
    clients.push(stuck)
    // A reader that is not reading keeps the drain waiting for its close handshake.
    stuck.ws.pause()
    const stopped = relay.stop()
    await expect.poll(async () => (await fetch(`${relay.url}/readyz`)).status, { timeout: 3000 }).toBe(503)
    expect(await (await fetch(`${relay.url}/readyz`)).json()).toEqual({ status: 'draining' })
    const late = new TestClient(wsUrl(relay))
    clients.push(late)
    await expect(late.opened()).rejects.toThrow('HTTP 503')
    stuck.ws.resume()
    expect((await stuck.closedWith()).code).toBe(1012)
    await stopped
  })

  it('cuts sockets that do not close within the shutdown timeout', async () => {
    const relay = await startRelay({ shutdownTimeout: 200 })
    const stuck = await connectClient(relay)
    clients.push(stuck)
    stuck.ws.pause()
    const started = Date.now()
    await relay.stop()
    expect(Date.now() - started).toBeLessThan(3000)
    stuck.ws.resume()
    await stuck.closedWith()
  })
})
