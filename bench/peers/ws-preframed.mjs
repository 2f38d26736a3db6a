// Peer "pre-framed ws": the WebSocket frame (header + UTF-8 payload) is built once
// per message with ws's own `Sender.frame` and the same Buffer is written to every
// socket. Valid because permessage-deflate is off, so no per-socket state is involved.
import { Sender, WebSocket } from 'ws'
import { startRoomServer } from './ws-rooms.mjs'

export { openReceiver, openSender } from './ws-rooms.mjs'

export const label = 'pre-framed ws'

const TEXT_FRAME = { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false }

export function startServer(options) {
  return startRoomServer(options, (sockets, text) => {
    const frame = Buffer.concat(Sender.frame(Buffer.from(text), TEXT_FRAME))
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws._socket.write(frame)
  })
}
