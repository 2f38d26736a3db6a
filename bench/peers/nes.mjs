// Peer "@hapi/nes": hapi's own WebSocket layer. Receivers subscribe to
// `/rooms/{room}`; senders publish through a nes request to a hapi route, which
// calls `server.publish`. Clients speak nes protocol v2 JSON over raw `ws`.
import { exchange, open } from '../lib/socket.mjs'

export const label = '@hapi/nes'

export async function startServer({ host, port }) {
  const Hapi = await import('@hapi/hapi')
  const Nes = await import('@hapi/nes')
  const server = Hapi.server({ host, port })
  await server.register({ plugin: Nes.default ?? Nes })
  server.subscription('/rooms/{room}')
  server.route({
    method: 'POST',
    path: '/publish',
    handler: (request) => {
      const { room, id, text } = request.payload
      server.publish(`/rooms/${room}`, { room, id, text, ts: Date.now() })
      return { ok: true }
    },
  })
  await server.start()
  return { port: server.info.port, close: () => server.stop({ timeout: 1000 }) }
}

let ids = 0

async function connect(url, room, localAddress) {
  const ws = await open(url, { localAddress })
  const hello = { type: 'hello', id: ++ids, version: '2', subs: room ? [`/rooms/${room}`] : undefined }
  await exchange(ws, JSON.stringify(hello), (t) => t.includes('"hello"'))
  ws.on('message', (data) => {
    const reply = data.length < 64 ? answer(data.toString()) : null
    if (reply) ws.send(reply)
  })
  return ws
}

/** nes heartbeat: the server drops sockets that do not answer its `ping`. */
export function answer(text) {
  return text.includes('"type":"ping"') ? `{"type":"ping","id":${++ids}}` : null
}

/** A receiver: joins `room` and returns the socket; the load process reads its frames raw. */
export async function openReceiver(url, room, { localAddress }) {
  const ws = await connect(url, room, localAddress)
  return ws
}

export async function openSender(url, room, { onAck, localAddress }) {
  const ws = await connect(url, undefined, localAddress)
  ws.on('message', (data) => {
    if (data.includes('"statusCode":200')) onAck()
  })
  return {
    send: (text) => {
      const id = ++ids
      const payload = { room, id: `m${id}`, text }
      ws.send(JSON.stringify({ type: 'request', id, method: 'POST', path: '/publish', payload }))
    },
    close: () => ws.terminate(),
  }
}
