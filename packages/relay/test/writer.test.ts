import type { Duplex } from 'node:stream'
import type { Relay } from '@confab/relay'
import type { Member } from '@confab/sdk/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type WebSocket from 'ws'
import * as ws from 'ws'
import { preframing, SharedFrame, writeShared } from '../src/writer'
import { connectClient, startRelay, type TestClient } from './helpers'

type Decoded = { text: string; binary: boolean }

/** Decodes server-to-client bytes with ws's own parser, as a client would. */
function decode(bytes: Buffer): Decoded[] {
  const { Receiver } = ws as unknown as { Receiver: new (options: object) => NodeJS.WritableStream & Duplex }
  const receiver = new Receiver({ isServer: false })
  const out: Decoded[] = []
  receiver.on('message', (data: Buffer, binary: boolean) => out.push({ text: data.toString(), binary }))
  receiver.on('error', (error: Error) => {
    throw error
  })
  receiver.write(bytes)
  return out
}

/** A stand-in for a server-side ws socket: its sender state and raw socket are what writeShared looks at. */
function fakeSocket(state: number, queued: unknown[] = []) {
  const raw = { write: vi.fn() }
  const socket = { _sender: { _state: state, _queue: queued }, _socket: raw, send: vi.fn() }
  return { socket: socket as unknown as WebSocket, raw, send: socket.send }
}

afterEach(() => {
  preframing.enabled = true
})

describe('SharedFrame', () => {
  it('is pre-framed with the installed ws (the fast path is really taken)', () => {
    expect(preframing.enabled).toBe(true)
    expect(SharedFrame.of('{"a":1}').wire).not.toBeNull()
  })

  it.each([0, 1, 125, 126, 65_535, 65_536, 70_000])('frames a %i-byte payload as one valid text frame', (length) => {
    const json = JSON.stringify({ t: 'é'.repeat(Math.max(0, Math.floor((length - 8) / 2))) }).slice(0, length)
    const frame = SharedFrame.of(json)
    expect(frame.wire).not.toBeNull()
    expect(decode(frame.wire as Buffer)).toEqual([{ text: json, binary: false }])
    expect(frame.size).toBe((frame.wire as Buffer).length)
  })

  it('joins messages into one buffer that decodes to the same messages in order', () => {
    const texts = ['{"n":1}', JSON.stringify({ n: 2, pad: 'x'.repeat(300) }), '{"n":3}']
    const joined = SharedFrame.join(texts.map((t) => SharedFrame.of(t)))
    expect(joined.payloads.map((p) => p.toString())).toEqual(texts)
    expect(decode(joined.wire as Buffer).map((d) => d.text)).toEqual(texts)
  })

  it('keeps only the payloads when pre-framing is off', () => {
    preframing.enabled = false
    const frame = SharedFrame.of('{"n":1}')
    expect(frame.wire).toBeNull()
    expect(frame.size).toBe(7)
    expect(SharedFrame.join([frame, SharedFrame.of('{"n":2}')]).wire).toBeNull()
  })
})

describe('writeShared', () => {
  it('writes the ready-made bytes to the TCP socket while ws has nothing queued', () => {
    const { socket, raw, send } = fakeSocket(0)
    const frame = SharedFrame.of('{"n":1}')
    writeShared(socket, frame)
    expect(raw.write).toHaveBeenCalledWith(frame.wire)
    expect(send).not.toHaveBeenCalled()
  })

  it('leaves framing to ws.send while ws is busy or has frames queued, so frames never interleave', () => {
    const frame = SharedFrame.join([SharedFrame.of('{"n":1}'), SharedFrame.of('{"n":2}')])
    for (const { socket, raw, send } of [fakeSocket(1), fakeSocket(0, [['queued']])]) {
      writeShared(socket, frame)
      expect(raw.write).not.toHaveBeenCalled()
      expect(send.mock.calls.map(([data, options]) => [String(data), options])).toEqual([
        ['{"n":1}', { binary: false }],
        ['{"n":2}', { binary: false }],
      ])
    }
  })

  it('falls back to ws.send when the ws internals it relies on are missing', () => {
    const send = vi.fn()
    writeShared({ send } as unknown as WebSocket, SharedFrame.of('{"n":1}'))
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('sends each payload with ws.send when pre-framing is off', () => {
    preframing.enabled = false
    const { socket, raw, send } = fakeSocket(0)
    writeShared(socket, SharedFrame.of('{"n":1}'))
    expect(raw.write).not.toHaveBeenCalled()
    expect(send).toHaveBeenCalledTimes(1)
  })
})

describe.each([
  { enabled: true, path: 'pre-framed writes' },
  { enabled: false, path: 'ws.send fallback' },
])('broadcast through the relay ($path)', ({ enabled }) => {
  const relays: Relay[] = []
  const clients: TestClient[] = []

  afterEach(async () => {
    vi.restoreAllMocks()
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await Promise.all(relays.splice(0).map((r) => r.stop()))
  })

  async function client(relay: Relay): Promise<TestClient> {
    const c = await connectClient(relay)
    clients.push(c)
    return c
  }

  it('delivers a burst to every subscriber as valid frames, in offset order, before a later event', async () => {
    preframing.enabled = enabled
    // Every ws.send in this process, relay and test clients alike: only the relay sends `message` frames.
    const send = vi.spyOn(ws.WebSocket.prototype, 'send')
    const broadcastsThroughSend = () =>
      send.mock.calls.filter(([data]) => String(data).includes('"type":"message"')).length
    const relay = await startRelay({ limits: { publishRate: 1000, publishBurst: 1000 } })
    relays.push(relay)
    const readers = await Promise.all(Array.from({ length: 5 }, () => client(relay)))
    for (const reader of readers) await reader.join('wire')
    const writer = await client(relay)
    await writer.join('wire')
    // Sent back to back: the relay reads them together and delivers them in one turn.
    for (let i = 1; i <= 30; i++)
      writer.send({ type: 'publish', ref: `r${i}`, room: 'wire', id: `w${i}`, text: `m${i} é ✓` })
    await writer.next((f) => f.ref === 'r30')
    const late = await client(relay)
    await late.join('wire')
    for (const reader of readers) {
      const got: Array<{ offset: number; text: string }> = []
      for (let i = 0; i < 30; i++) got.push((await reader.nextOf('message')) as never)
      expect(got.map((m) => [m.offset, m.text])).toEqual(Array.from({ length: 30 }, (_, i) => [i + 1, `m${i + 1} é ✓`]))
      expect(await reader.nextOf('presence')).toMatchObject({
        room: 'wire',
        joins: [{ id: (late.frames[0]?.user as Member | undefined)?.id }],
      })
      // Nothing arrived out of order: the late joiner's presence frame is the one right after the 30th message.
      const types = reader.frames.map((f) => f.type)
      expect(types.slice(types.indexOf('message'))).toEqual([...Array(30).fill('message'), 'presence'])
    }
    // The fast path was really taken: with pre-framing on, no broadcast went through ws.send (a ws
    // release that renamed the internals writeShared checks would send them all that way).
    expect(broadcastsThroughSend()).toBe(enabled ? 0 : 30 * 6)
  })
})
