// The fault proxy itself (test/support/fault-proxy.ts), against a plain TCP echo server.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'

let echo: Server
let echoPort: number
let proxy: FaultProxy
const serverSides: Socket[] = []

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address()
      resolve(typeof a === 'object' && a ? a.port : 0)
    }),
  )
}

beforeEach(async () => {
  echo = createServer((s) => {
    serverSides.push(s)
    s.on('data', (d) => s.write(d))
    s.on('error', () => s.destroy())
  })
  echoPort = await listen(echo)
  proxy = await startFaultProxy({ port: echoPort })
})
afterEach(async () => {
  await proxy.close()
  for (const s of serverSides.splice(0)) s.destroy()
  await new Promise((resolve) => echo.close(resolve))
})

/** A client socket through the proxy that records what comes back. */
async function dial() {
  const socket = tcpConnect(proxy.port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  socket.on('data', (d) => {
    received += d.toString()
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => socket.destroy())
  return { socket, closed, received: () => received }
}

describe('fault proxy', () => {
  it('forwards both ways and counts connections', async () => {
    const c = await dial()
    c.socket.write('hello')
    await vi.waitFor(() => expect(c.received()).toBe('hello'))
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`)
    expect(proxy.open).toBe(1)
    expect(proxy.accepted).toBe(1)
  })

  it('cut closes every open connection', async () => {
    const c = await dial()
    proxy.cut()
    await c.closed
    expect(proxy.open).toBe(0)
  })

  it('blackhole drops bytes silently and keeps the socket open; new connections pass', async () => {
    const c = await dial()
    proxy.blackhole('down')
    c.socket.write('lost')
    await vi.waitFor(() => expect(serverSides[0]?.bytesRead).toBe(4)) // it went up...
    const fresh = await dial()
    fresh.socket.write('ok')
    await vi.waitFor(() => expect(fresh.received()).toBe('ok'))
    expect(c.received()).toBe('') // ...and never came back
    expect(c.socket.destroyed).toBe(false)
  })

  it('a black-holed side closing does not close the other side (half-open)', async () => {
    const c = await dial()
    await vi.waitFor(() => expect(serverSides).toHaveLength(1))
    proxy.blackhole('up')
    c.socket.destroy()
    await c.closed
    // A round trip on another connection gives the proxy time to act on that close.
    const other = await dial()
    other.socket.write('x')
    await vi.waitFor(() => expect(other.received()).toBe('x'))
    expect(serverSides[0]?.destroyed).toBe(false) // the server still believes in the connection
    expect(proxy.open).toBe(2)
  })

  it('stall holds bytes until resume, then delivers them in order', async () => {
    const c = await dial()
    proxy.stall('down')
    c.socket.write('a')
    c.socket.write('b')
    await vi.waitFor(() => expect(serverSides[0]?.bytesRead).toBe(2))
    expect(c.received()).toBe('')
    proxy.resume()
    await vi.waitFor(() => expect(c.received()).toBe('ab'))
  })

  it('refuse closes new connections at once until turned off', async () => {
    proxy.refuse()
    const refused = tcpConnect(proxy.port, '127.0.0.1')
    refused.on('error', () => refused.destroy())
    await new Promise((resolve) => refused.once('close', resolve))
    expect(proxy.accepted).toBe(1)
    expect(proxy.open).toBe(0)
    proxy.refuse(false)
    const c = await dial()
    c.socket.write('back')
    await vi.waitFor(() => expect(c.received()).toBe('back'))
  })

  it('retarget sends new connections elsewhere', async () => {
    const other = createServer((s) => {
      s.end('other')
    })
    const port = await listen(other)
    try {
      proxy.retarget({ port })
      const c = await dial()
      await vi.waitFor(() => expect(c.received()).toBe('other'))
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })
})
