// Peer "Socket.IO 4": rooms on the default in-memory adapter, websocket transport
// only. Its clients here speak Engine.IO v4 / Socket.IO v5 packets over raw `ws`
// (`40` connect, `42[...]` event, `42N[...]` event with ack, `2`/`3` ping/pong).
import { createServer } from 'node:http'
import { exchange, open } from '../lib/socket.mjs'

export const label = 'Socket.IO 4'

const PATH = '/socket.io/?EIO=4&transport=websocket'

export async function startServer({ host, port }) {
  const { Server } = await import('socket.io')
  const http = createServer()
  const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false })
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(room)
      ack()
    })
    socket.on('publish', (frame, ack) => {
      io.to(frame.room).emit('message', { room: frame.room, id: frame.id, text: frame.text, ts: Date.now() })
      ack()
    })
  })
  await new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, host, resolve)
  })
  return {
    port: http.address().port,
    close: () => new Promise((done) => io.close(() => done())),
  }
}

/** Engine.IO ping (`2`): the server drops clients that do not answer `3`. */
export const answer = (text) => (text === '2' ? '3' : null)

async function connect(url, localAddress) {
  const ws = await open(url + PATH, { localAddress, greeting: (t) => t.startsWith('0') })
  await exchange(ws, '40', (t) => t.startsWith('40'))
  ws.on('message', (data) => {
    if (data.length === 1 && answer(data.toString())) ws.send('3')
  })
  return ws
}

/** A receiver: joins `room` and returns the socket; the load process reads its frames raw. */
export async function openReceiver(url, room, { localAddress }) {
  const ws = await connect(url, localAddress)
  await exchange(ws, `421${JSON.stringify(['join', room])}`, (t) => t.startsWith('431'))
  return ws
}

export async function openSender(url, room, { onAck, localAddress }) {
  const ws = await connect(url, localAddress)
  ws.on('message', (data) => {
    if (data[0] === 0x34 && data[1] === 0x33) onAck() // `43N[...]`: an ack
  })
  let ref = 0
  return {
    send: (text) => {
      ref++
      ws.send(`42${ref}${JSON.stringify(['publish', { room, id: `m${ref}`, text }])}`)
    },
    close: () => ws.terminate(),
  }
}
