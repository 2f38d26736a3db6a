// A TCP proxy that delays every byte by a fixed time each way, as a server on
// another host would (a Redis 2 ms away: `delay: 1`). Order is kept per
// direction; bandwidth is not limited. Listens on 127.0.0.1, port 0.
//   const proxy = await startLatencyProxy({ port: 6379, delay: 1 })
//   new Redis(proxy.port)
import { createServer, connect as tcpConnect } from 'node:net'

/** Forwards `from` to `to`, each chunk `delay` ms after it arrived. */
function delayed(from, to, delay) {
  const queue = [] // [due, chunk], in arrival order, so due times only grow
  let timer = null
  const flush = () => {
    timer = null
    const now = performance.now()
    while (queue.length > 0 && queue[0][0] <= now) to.write(queue.shift()[1])
    if (queue.length > 0) timer = setTimeout(flush, queue[0][0] - now)
  }
  from.on('data', (chunk) => {
    queue.push([performance.now() + delay, chunk])
    timer ??= setTimeout(flush, delay)
  })
  from.on('close', () => {
    if (timer !== null) clearTimeout(timer)
    to.destroy()
  })
  from.on('error', () => from.destroy())
}

/** Starts the proxy in front of `target` (host default 127.0.0.1), adding `delay` ms each way. */
export async function startLatencyProxy({ port, host = '127.0.0.1', delay }) {
  const sockets = new Set()
  const server = createServer((client) => {
    const upstream = tcpConnect(port, host)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    }
    delayed(client, upstream, delay)
    delayed(upstream, client, delay)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: server.address().port,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
