// The only module that relies on `ws` internals: `Sender.frame` (framing a
// payload once for many sockets), a socket's `_sender` and `_socket`
// (writing those bytes straight to TCP) and its `_receiver`'s chunk list. They are not public API: the
// supported range is the `ws` dependency of package.json, and
// test/ws-internals.test.ts fails when a release in it changes their shape.
// Every use is checked, so a change turns the fast path off, never corrupts a stream.
import type { Duplex } from 'node:stream'
import type WebSocket from 'ws'
import * as ws from 'ws'

/** An unmasked, final, uncompressed text frame: what a server sends with permessage-deflate off. */
const TEXT_FRAME = { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false } as const

/** `ws`'s frame builder (`Sender.frame`), which @types/ws does not describe. */
type Frame = (data: Buffer, options: typeof TEXT_FRAME) => Buffer[]

/** The parts of a `ws` WebSocket that writing a ready-made frame relies on. */
export interface WsInternals {
  _socket?: Duplex | null
  _sender?: { _state?: unknown; _queue?: unknown } | null
  _receiver?: { _bufferedBytes?: unknown; _buffers?: unknown } | null
}

/**
 * `Sender.frame`, when `ws` builds frames the way this relay expects: checked
 * once at startup by framing a known payload, so that a `ws` release that
 * changes it turns pre-framing off instead of corrupting the stream.
 */
function detect(): Frame | null {
  // A named export of ws's ESM entry (and a property of its CommonJS one); not a static of the WebSocket class.
  const frame = (ws as unknown as { Sender?: { frame?: unknown } }).Sender?.frame
  if (typeof frame !== 'function') return null
  const bound = frame as Frame
  const probe = bound(Buffer.from('ok'), TEXT_FRAME)
  if (!Array.isArray(probe) || !Buffer.concat(probe).equals(Buffer.from([0x81, 0x02, 0x6f, 0x6b]))) return null
  return bound
}

const frameOf = detect()

/** True when this `ws` can frame a payload ahead of time (`frameText` returns bytes). */
export const canPreframe = frameOf !== null

/** The complete WebSocket text frame (header and payload) of `payload`, or null when `ws` cannot build it. */
export function frameText(payload: Buffer): Buffer | null {
  return frameOf === null ? null : Buffer.concat(frameOf(payload, TEXT_FRAME))
}

/**
 * Writes ready-made frame bytes straight to the socket's TCP stream, only
 * while ws's sender is idle (nothing queued inside ws, which happens only
 * with compression or Blobs, both unused here), so frames never interleave.
 * False when it did not write: the caller sends through `ws.send` instead.
 */
export function writeFramed(socket: WebSocket, wire: Buffer): boolean {
  const { _sender: sender, _socket: raw } = socket as unknown as WsInternals
  if (sender?._state === 0 && (sender._queue as unknown[] | undefined)?.length === 0 && raw) {
    raw.write(wire)
    return true
  }
  return false
}

/**
 * Gives the socket's receiver a fresh chunk list once nothing is buffered. ws
 * `push`es each TCP chunk onto an array and `shift`s it off when read, which
 * leaves the array room for 17 chunks: about 140 bytes kept for the life of
 * every socket that has received anything, idle ones included. Called after
 * each message; the new array is empty, as the old one was.
 */
export function releaseReadBuffers(socket: WebSocket): void {
  const receiver = (socket as unknown as WsInternals)._receiver
  const buffers = receiver?._buffers
  if (receiver && receiver._bufferedBytes === 0 && Array.isArray(buffers) && buffers.length === 0) {
    receiver._buffers = []
  }
}
