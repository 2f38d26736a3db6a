import type WebSocket from 'ws'
import { canPreframe, frameText, writeFramed } from './ws-internals'

/** Send options for the fallback path: text opcode even for a Buffer. One object, not one per send. */
const TEXT = { binary: false } as const

/** Whether broadcasts are framed once and the bytes written straight to each socket. Tests switch it off to cover the fallback. */
export const preframing = { enabled: canPreframe }

/**
 * One or more relay frames sent to many sockets: each JSON payload is
 * encoded to UTF-8 once and, when pre-framing is on, the WebSocket frames
 * (header and payload, back to back) are built once too, so each recipient
 * costs one socket write and no allocation, however many messages it holds.
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
    return new SharedFrame([payload], preframing.enabled ? frameText(payload) : null)
  }

  /** Several messages written as one: the same bytes, one write per socket instead of one per message. */
  static join(frames: readonly SharedFrame[]): SharedFrame {
    const payloads = frames.flatMap((frame) => frame.payloads)
    const wires = frames.map((frame) => frame.wire)
    const wire = wires.every((w) => w !== null) ? Buffer.concat(wires as Buffer[]) : null
    return new SharedFrame(payloads, wire)
  }
}

/** Writes a shared frame to an open socket: the ready-made bytes when ws is idle, else ws frames each payload itself. */
export function writeShared(socket: WebSocket, frame: SharedFrame): void {
  const { wire } = frame
  if (wire !== null && writeFramed(socket, wire)) return
  for (const payload of frame.payloads) socket.send(payload, TEXT)
}

/** Sends one serialized frame to one socket (acks, errors, `joined`): plain ws. */
export function writeText(socket: WebSocket, data: string): void {
  socket.send(data, TEXT)
}
