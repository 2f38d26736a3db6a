// One fan-out measurement: a fresh server for `peer`, N receivers spread over
// load processes, one sender process, then the phases in order (warm-up, fixed
// rate, saturation, overload). Each phase reports server CPU per delivery,
// delivered/s, latency percentiles, the server's peak RSS and completeness.
import { startLoad, startServer, SOURCES, stopAll } from '../lib/fleet.mjs'
import { addSparse, createHistogram, percentiles } from '../lib/histogram.mjs'
import { sleep, until } from '../lib/stats.mjs'

const ROOM = 'bench'

async function phase(server, workers, sender, receivers, spec) {
  await sleep(300) // let the previous phase's stragglers and GC settle
  const before = await server.call('resetPeak')
  const started = Date.now()
  const { sent, acked } = await sender.call('run', { phase: spec.id, ...spec.send })
  const expected = acked * receivers
  const received = async () => (await Promise.all(workers.map((w) => w.call('count', { phase: spec.id })))).reduce((a, b) => a + b, 0)
  // Drain: stop when every delivery arrived, or when nothing new arrived for `quiet` ms.
  let last = -1
  let lastChange = Date.now()
  await until(
    async () => {
      const now = await received()
      if (now !== last) [last, lastChange] = [now, Date.now()]
      return now >= expected || Date.now() - lastChange > spec.quiet
    },
    { timeout: spec.drain, every: 50 },
  )
  const elapsed = (Date.now() - started) / 1000
  const after = await server.call('stats')
  const reports = await Promise.all(workers.map((w) => w.call('report', { phase: spec.id, expected: acked })))
  const histogram = createHistogram()
  let delivered = 0
  let complete = 0
  for (const r of reports) {
    addSparse(histogram, r.histogram)
    delivered += r.received
    complete += r.complete
  }
  const [p50, p95, p99] = percentiles(histogram, [50, 95, 99])
  return {
    phase: spec.name,
    sent,
    acked,
    delivered,
    expected,
    seconds: elapsed,
    msgPerSec: acked / elapsed,
    deliveredPerSec: delivered / elapsed,
    usPerDelivery: delivered ? (after.cpuUs - before.cpuUs) / delivered : null,
    serverCpuShare: (after.cpuUs - before.cpuUs) / 1e6 / elapsed,
    p50,
    p95,
    p99,
    peakRssMB: after.peakRss / 2 ** 20,
    completeness: expected ? delivered / expected : null,
    completeReceivers: complete / receivers,
  }
}

/**
 * Measures `peer` with `receivers` receivers over `workerCount` load processes and
 * the given phases (`{ id, name, send, drain, quiet }`). Always stops its processes.
 */
export async function measure(peer, { receivers, workerCount, senders = 1, phases, serverOptions = {} }) {
  const procs = []
  try {
    const server = await startServer(peer, { options: serverOptions })
    procs.push(server)
    const load = await startLoad(workerCount + 1)
    procs.push(...load)
    const [sender, ...workers] = load
    const opened = await Promise.all(
      workers.map((w, i) => {
        const count = Math.floor(receivers / workerCount) + (i < receivers % workerCount ? 1 : 0)
        const sources = SOURCES.filter((_, j) => j % workerCount === i)
        return w.call('receivers', { peerName: peer, url: server.url, room: ROOM, count, sources })
      }),
    )
    const open = opened.reduce((a, o) => a + o.open, 0)
    if (open !== receivers) throw new Error(`${peer}: only ${open} of ${receivers} receivers connected`)
    await sender.call('senders', { peerName: peer, url: server.url, room: ROOM, count: senders })
    const results = []
    for (const spec of phases) {
      const result = await phase(server, workers, sender, receivers, spec)
      if (!spec.warmup) results.push(result)
    }
    return results
  } finally {
    await stopAll(procs)
  }
}
