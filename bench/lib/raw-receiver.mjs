// Receivers are the load generator's bottleneck: at 1,000 receivers x 100 msg/s one
// core must take 100,000 frames a second. So after a peer's handshake over `ws`, the
// receiver takes the TCP socket back and scans server frames (unmasked, unfragmented,
// no compression: every peer here sends them so) without allocating per frame.

const MASKED_ZERO_KEY = Buffer.from([0, 0, 0, 0]) // a zero mask leaves the payload as is

/** Writes a client frame (clients must mask; a zero key keeps it a plain copy). */
function writeFrame(socket, opcode, payload) {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : null
  if (!head) throw new Error('raw receiver replies are short control or ping frames')
  socket.write(Buffer.concat([head, MASKED_ZERO_KEY, payload]))
}

/**
 * Takes over `ws`'s socket. `onText(buf, start, end)` gets every text frame's payload
 * range; `answer(text)` may return a reply for app-level pings (Socket.IO, nes).
 * ws-level pings are answered here with a pong.
 */
export function takeOver(ws, { onText, answer }) {
  const socket = ws._socket
  if (ws._receiver._bufferedBytes > 0) throw new Error('frames arrived before the receiver was ready')
  socket.removeAllListeners('data')
  let pending = null
  socket.on('data', (chunk) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk
    pending = null
    let at = 0
    while (buf.length - at >= 2) {
      const opcode = buf[at] & 0x0f
      let length = buf[at + 1] & 0x7f
      let head = 2
      if (length === 126) {
        if (buf.length - at < 4) break
        length = buf.readUInt16BE(at + 2)
        head = 4
      } else if (length === 127) {
        if (buf.length - at < 10) break
        length = buf.readUIntBE(at + 4, 6)
        head = 10
      }
      if (buf.length - at < head + length) break
      const start = at + head
      const end = start + length
      if (opcode === 0x1) {
        onText(buf, start, end)
        if (answer && length < 64) {
          const reply = answer(buf.toString('utf8', start, end))
          if (reply) writeFrame(socket, 0x1, Buffer.from(reply))
        }
      } else if (opcode === 0x9) {
        writeFrame(socket, 0xa, buf.subarray(start, end))
      } else if (opcode === 0x8) {
        // Echo the close so a draining server is not left waiting for its timeout.
        writeFrame(socket, 0x8, buf.subarray(start, Math.min(end, start + 2)))
        socket.end()
        return
      }
      at = end
    }
    if (at < buf.length) pending = buf.subarray(at)
  })
}
