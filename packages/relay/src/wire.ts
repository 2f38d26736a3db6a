import type { Duplex } from 'node:stream'
import WebSocket from 'ws'

/** An unmasked, final, uncompressed text frame: what a server sends with permessage-deflate off. */
const TEXT_FRAME = { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false } as const

/** Send options for the fallback path: text opcode even for a Buffer. One object, not one per send. */
const TEXT = { binary: false } as const

/** `ws`'s frame builder (`WebSocket.Sender.frame`), which @types/ws does not describe. */
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
  const frame = (WebSocket as unknown as { Sender?: { frame?: unknown } }).Sender?.frame
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
 * A frame sent to many sockets: the JSON is encoded to UTF-8 once and, when
 * pre-framing is on, the whole WebSocket frame (header and payload) is built
 * once too, so each recipient costs one socket write and no allocation.
 */
export class SharedFrame {
  /** The UTF-8 JSON payload. */
  readonly payload: Buffer
  /** Header and payload in one buffer; null when pre-framing is off. */
  readonly wire: Buffer | null

  constructor(json: string) {
    this.payload = Buffer.from(json)
    this.wire = preframing.enabled && frameOf !== null ? Buffer.concat(frameOf(this.payload, TEXT_FRAME)) : null
  }
}

/**
 * Writes a shared frame to an open socket. The ready-made bytes go straight
 * to the TCP socket only while ws's sender is idle (nothing queued inside ws,
 * which happens only with compression or Blobs, both unused here), so frames
 * never interleave; otherwise ws frames the payload itself.
 */
export function writeShared(ws: WebSocket, frame: SharedFrame): void {
  const { wire } = frame
  if (wire !== null) {
    const { _sender: sender, _socket: socket } = ws as unknown as WsInternals
    if (sender?._state === 0 && (sender._queue as unknown[] | undefined)?.length === 0 && socket) {
      socket.write(wire)
      return
    }
  }
  ws.send(frame.payload, TEXT)
}

/** Sends one serialized frame to one socket (acks, errors, `joined`): plain ws. */
export function writeText(ws: WebSocket, data: string): void {
  ws.send(data, TEXT)
}
