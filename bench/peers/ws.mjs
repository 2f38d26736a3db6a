// Peer "bare ws": parse once, then `ws.send(sameString)` to every member. This is
// the floor every Node relay pays (ws frames and UTF-8-encodes per recipient).
import { WebSocket } from 'ws'
import { startRoomServer } from './ws-rooms.mjs'

export { openReceiver, openSender } from './ws-rooms.mjs'

export const label = 'bare ws'

export function startServer(options) {
  return startRoomServer(options, (sockets, text) => {
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(text)
  })
}
