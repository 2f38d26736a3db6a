// Child process that runs one peer's server: `node server-child.mjs <peer> <port> [json options]`.
// Reports its own CPU time and RSS over IPC, so µs per delivery counts only the server.
import { writeHeapSnapshot } from 'node:v8'
import { ready, serve } from './rpc.mjs'

const [peerName, portArg, optionsArg] = process.argv.slice(2)
const peer = await import(`../peers/${peerName}.mjs`)
const options = optionsArg ? JSON.parse(optionsArg) : {}
const server = await peer.startServer({ host: '127.0.0.1', port: Number(portArg) || 0, ...options })

// RSS is sampled so a phase can report its own peak (resourceUsage().maxRSS is lifetime only).
let peakRss = process.memoryUsage.rss()
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 50)
sampler.unref()

function stats() {
  const { user, system } = process.cpuUsage()
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage()
  return {
    cpuUs: user + system,
    rss,
    heapTotal,
    heapUsed,
    external,
    peakRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
  }
}

serve(
  new Map([
    ['stats', stats],
    [
      'resetPeak',
      () => {
        peakRss = process.memoryUsage.rss()
        return stats()
      },
    ],
    [
      'gc',
      async () => {
        // Twice, with a pause, so weak callbacks and finalizers run before RSS is read.
        for (let i = 0; i < 3; i++) {
          globalThis.gc?.()
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        return stats()
      },
    ],
    // bench/memory/snapshot.mjs: a heap snapshot after GC, written to `path`.
    [
      'snapshot',
      async ({ path }) => {
        for (let i = 0; i < 3; i++) {
          globalThis.gc?.()
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        return writeHeapSnapshot(path)
      },
    ],
    [
      'stop',
      async () => {
        await server.close()
        setImmediate(() => process.exit(0))
        return stats()
      },
    ],
  ]),
)
ready({ port: server.port })
