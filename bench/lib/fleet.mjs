// Starting and stopping the processes of one measurement: a server child on the
// server core and load children on the load core, each with an RPC handle.
import { LOAD_CPU, SERVER_CPU, spawnNode, stop } from './proc.mjs'
import { client, whenReady } from './rpc.mjs'

const SERVER = new URL('./server-child.mjs', import.meta.url)
const LOAD = new URL('./load-child.mjs', import.meta.url)

/** Source addresses for client sockets, so 5,000+ connections never run out of ephemeral ports. */
export const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)

/** With BENCH_PROFILE_DIR set, every server writes a V8 CPU profile there when it stops. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR
const PROFILE_ARGS = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []

/** Starts `peer`'s server; resolves with `{ child, call, url, port }`. */
export async function startServer(peer, { port = 0, options = {}, nodeArgs = [], env } = {}) {
  const args = [...PROFILE_ARGS, ...nodeArgs]
  const child = spawnNode(SERVER, [peer, port, JSON.stringify(options)], { cpu: SERVER_CPU, nodeArgs: args, env })
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

function exited(child, timeout) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeout)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Kills every process in `procs` (servers and load children alike); profiled servers stop cleanly first. */
export async function stopAll(procs) {
  if (PROFILE_DIR) {
    const servers = procs.filter((p) => p.url)
    await Promise.all(servers.map((p) => p.call('stop', {}, 15_000).catch(() => {})))
    // The profile is written while the process exits: give it time before any kill.
    await Promise.all(servers.map((p) => exited(p.child, 10_000)))
  }
  await Promise.all(procs.map((p) => stop(p.child)))
}
