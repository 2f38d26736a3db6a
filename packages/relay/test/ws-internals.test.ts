// Pins the `ws` internals the relay's broadcast path writes through (src/ws-internals.ts)
// to the supported range: the `ws` dependency of package.json. A `ws` release that
// renames or reshapes them fails here first, instead of silently losing the fast path.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { canPreframe, frameText, releaseReadBuffers, type WsInternals, writeFramed } from '../src/ws-internals'

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>
}
const installed = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version

/** `^major.minor.patch` as three numbers; the only range form this pin accepts. */
function caret(range: string): [number, number, number] {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
  if (!match) throw new Error(`ws range ${range} is not ^x.y.z: update this test with the new range`)
  return [Number(match[1]), Number(match[2]), Number(match[3])]
}

const servers: WebSocketServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A real server-side socket and the client talking to it. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  servers.push(wss)
  await once(wss, 'listening')
  const { port } = wss.address() as { port: number }
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  const [server] = (await once(wss, 'connection')) as [WebSocket]
  await once(client, 'open')
  return { server, client }
}

describe('ws internals (supported range: the ws dependency in package.json)', () => {
  it('the installed ws is inside the range package.json declares', () => {
    const range = manifest.dependencies.ws as string
    const [major, minor, patch] = caret(range)
    const [a, b, c] = installed.split('.').map(Number) as [number, number, number]
    expect(a).toBe(major)
    expect(b > minor || (b === minor && c >= patch)).toBe(true)
  })

  it('Sender.frame builds a complete unmasked text frame', () => {
    expect(canPreframe).toBe(true)
    expect(frameText(Buffer.from('ok'))).toEqual(Buffer.from([0x81, 0x02, 0x6f, 0x6b]))
    // 16-bit extended length.
    const long = frameText(Buffer.alloc(300, 0x61)) as Buffer
    expect([...long.subarray(0, 4)]).toEqual([0x81, 126, 0x01, 0x2c])
    expect(long.length).toBe(304)
  })

  it('a server socket has an idle _sender (_state 0, empty _queue array) and a net.Socket as _socket', async () => {
    const { server } = await pair()
    const internals = server as unknown as WsInternals
    expect(internals._socket).toBeInstanceOf(Socket)
    const sender = internals._sender
    expect(sender?._state).toBe(0)
    expect(sender?._queue).toEqual([])
  })

  it('bytes written through writeFramed arrive as ordinary text messages, in order with ws.send', async () => {
    const { server, client } = await pair()
    const got: string[] = []
    const all = new Promise<void>((resolve) => {
      client.on('message', (data, binary) => {
        got.push(`${binary ? 'binary' : 'text'}:${String(data)}`)
        if (got.length === 3) resolve()
      })
    })
    server.send('{"n":1}')
    expect(writeFramed(server, frameText(Buffer.from('{"n":2}')) as Buffer)).toBe(true)
    server.send('{"n":3}')
    await all
    expect(got).toEqual(['text:{"n":1}', 'text:{"n":2}', 'text:{"n":3}'])
  })

  it('a receiver keeps its chunks in _buffers and counts them in _bufferedBytes; a fresh list once empty still reads', async () => {
    const { server, client } = await pair()
    const receiver = (server as unknown as WsInternals)._receiver as { _buffers: unknown[]; _bufferedBytes: number }
    expect(Array.isArray(receiver._buffers)).toBe(true)
    const texts: string[] = []
    const lists: unknown[] = []
    server.on('message', (data) => {
      texts.push(String(data))
      if (receiver._bufferedBytes !== 0) return // more of the next frame came in the same chunk
      const before = receiver._buffers
      releaseReadBuffers(server)
      lists.push(before, receiver._buffers)
    })
    client.send('one')
    await expect.poll(() => texts).toEqual(['one'])
    client.send('two')
    await expect.poll(() => texts).toEqual(['one', 'two'])
    expect(lists).toHaveLength(4)
    expect(lists[1]).not.toBe(lists[0])
    expect(lists[1]).toEqual([])
    expect(lists[2]).toBe(lists[1]) // the fresh list took the second message
    // With bytes still buffered, the list is left alone.
    const busy = { _receiver: { _bufferedBytes: 3, _buffers: [Buffer.from('abc')] } }
    const kept = busy._receiver._buffers
    releaseReadBuffers(busy as unknown as WebSocket)
    expect(busy._receiver._buffers).toBe(kept)
  })
})
