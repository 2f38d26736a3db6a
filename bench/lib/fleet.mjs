// Starting and stopping the processes of one measurement: a server child on the
// server core and load children on the load core, each with an RPC handle.
import { LOAD_CPU, SERVER_CPU, spawnNode, stop } from './proc.mjs'
import { client, whenReady } from './rpc.mjs'

const SERVER = new URL('./server-child.mjs', import.meta.url)
const LOAD = new URL('./load-child.mjs', import.meta.url)

/** Source addresses for client sockets, so 5,000+ connections never run out of ephemeral ports. */
export const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)

/** Starts `peer`'s server; resolves with `{ child, call, url, port }`. */
export async function startServer(peer, { port = 0, options = {}, nodeArgs = [], env } = {}) {
  const child = spawnNode(SERVER, [peer, port, JSON.stringify(options)], { cpu: SERVER_CPU, nodeArgs, env })
  const { port: actual } = await whenReady(child)
  return { child, call: client(child), port: actual, url: `ws://127.0.0.1:${actual}` }
}

/** Starts `count` load-generator processes. */
export async function startLoad(count) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawnNode(LOAD, [], { cpu: LOAD_CPU })
      await whenReady(child)
      return { child, call: client(child) }
    }),
  )
}

/** Kills every process in `procs` (servers and load children alike). */
export function stopAll(procs) {
  return Promise.all(procs.map((p) => stop(p.child)))
}
