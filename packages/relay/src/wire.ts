import type { Duplex } from 'node:stream'
import type WebSocket from 'ws'
import * as ws from 'ws'

/** An unmasked, final, uncompressed text frame: what a server sends with permessage-deflate off. */
const TEXT_FRAME = { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false } as const

/** Send options for the fallback path: text opcode even for a Buffer. One object, not one per send. */
const TEXT = { binary: false } as const

/** `ws`'s frame builder (`Sender.frame`), which @types/ws does not describe. */
type Frame = (data: Buffer, options: typeof TEXT_FRAME) => Buffer[]

/** The parts of a `ws` WebSocket that writing a ready-made frame relies on (ws 8 internals, checked on every use). */
interface WsInternals {
  _socket?: Duplex | null
  _sender?: { _state?: unknown; _queue?: unknown } | null
}

/**
 * True when `ws` builds frames the way this relay expects: checked once at
 * startup by framing a known payload, so that a `ws` release that changes
 * `Sender.frame` turns pre-framing off instead of corrupting the stream.
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

/** Whether broadcasts are framed once and the bytes written straight to each socket. Tests switch it off to cover the fallback. */
export const preframing = { enabled: frameOf !== null }

/**
 * One or more frames sent to many sockets: each JSON payload is encoded to
 * UTF-8 once and, when pre-framing is on, the WebSocket frames (header and
 * payload, back to back) are built once too, so each recipient costs one
 * socket write and no allocation, however many messages the batch holds.
 */
export class SharedFrame {
  /** The UTF-8 JSON payloads, one per WebSocket message, in order. */
  readonly payloads: readonly Buffer[]
  /** Every frame, header and payload, in one buffer; null when pre-framing is off. */
  readonly wire: Buffer | null
  /** Bytes on the wire. */
  readonly size: number

  private constructor(payloads: readonly Buffer[], wire: Buffer | null) {
    this.payloads = payloads
    this.wire = wire
    this.size = wire?.length ?? payloads.reduce((sum, payload) => sum + payload.length, 0)
  }

  /** One message. */
  static of(json: string): SharedFrame {
    const payload = Buffer.from(json)
    const wire = preframing.enabled && frameOf !== null ? Buffer.concat(frameOf(payload, TEXT_FRAME)) : null
    return new SharedFrame([payload], wire)
  }

  /** Several messages written as one: the same bytes, one write per socket instead of one per message. */
  static join(frames: readonly SharedFrame[]): SharedFrame {
    const payloads = frames.flatMap((frame) => frame.payloads)
    const wires = frames.map((frame) => frame.wire)
    const wire = wires.every((w) => w !== null) ? Buffer.concat(wires as Buffer[]) : null
    return new SharedFrame(payloads, wire)
  }
}

/**
 * Writes a shared frame to an open socket. The ready-made bytes go straight
 * to the TCP socket only while ws's sender is idle (nothing queued inside ws,
 * which happens only with compression or Blobs, both unused here), so frames
 * never interleave; otherwise ws frames the payload itself.
 */
export function writeShared(socket: WebSocket, frame: SharedFrame): void {
  const { wire } = frame
  if (wire !== null) {
    const { _sender: sender, _socket: raw } = socket as unknown as WsInternals
    if (sender?._state === 0 && (sender._queue as unknown[] | undefined)?.length === 0 && raw) {
      raw.write(wire)
      return
    }
  }
  for (const payload of frame.payloads) socket.send(payload, TEXT)
}

/** Sends one serialized frame to one socket (acks, errors, `joined`): plain ws. */
export function writeText(socket: WebSocket, data: string): void {
  socket.send(data, TEXT)
}
