// The raw-ws floor shared by the `ws` and `ws-preframed` peers: a room registry,
// a minimal JSON protocol (join, publish with ack, message), and a pluggable
// broadcast. Parsing happens once per publish; only the broadcast differs.
import { WebSocketServer } from 'ws'
import { exchange, open } from '../lib/socket.mjs'

/** Starts the room server; `broadcast(sockets, text)` sends one serialized message to every member. */
export function startRoomServer({ host, port }, broadcast) {
  const rooms = new Map()
  const wss = new WebSocketServer({ host, port, perMessageDeflate: false, maxPayload: 64 * 1024 })
  wss.on('connection', (ws) => {
    const joined = new Set()
    ws.on('message', (data) => {
      const frame = JSON.parse(data)
      switch (frame.type) {
        case 'join': {
          let members = rooms.get(frame.room)
          if (!members) {
            members = new Set()
            rooms.set(frame.room, members)
          }
          members.add(ws)
          joined.add(members)
          ws.send('{"type":"joined"}')
          break
        }
        case 'publish': {
          const out = JSON.stringify({
            type: 'message',
            room: frame.room,
            id: frame.id,
            text: frame.text,
            ts: Date.now(),
          })
          broadcast(rooms.get(frame.room) ?? [], out)
          ws.send(`{"type":"ack","ref":${JSON.stringify(frame.ref)}}`)
          break
        }
      }
    })
    ws.on('close', () => {
      for (const members of joined) members.delete(ws)
    })
  })
  return new Promise((resolve, reject) => {
    wss.once('error', reject)
    wss.once('listening', () =>
      resolve({
        port: wss.address().port,
        close: () =>
          new Promise((done) => {
            // ws 8 leaves open sockets alone on close(); its callback waits for them.
            for (const ws of wss.clients) ws.terminate()
            wss.close(() => done())
          }),
      }),
    )
  })
}

/** A receiver: joins `room` and returns the socket; the load process reads its frames raw. */
export async function openReceiver(url, room, { localAddress }) {
  const ws = await open(url, { localAddress })
  await exchange(ws, JSON.stringify({ type: 'join', room }), (t) => t.includes('"joined"'))
  return ws
}

/** A sender: `send(text)` publishes; `onAck()` runs once per acknowledged publish. */
export async function openSender(url, room, { onAck, localAddress }) {
  const ws = await open(url, { localAddress })
  ws.on('message', (data) => {
    if (data.includes('"ack"')) onAck()
  })
  let ref = 0
  return {
    send: (text) => {
      ref++
      ws.send(JSON.stringify({ type: 'publish', ref: String(ref), room, id: `m${ref}`, text }))
    },
    close: () => ws.terminate(),
  }
}
