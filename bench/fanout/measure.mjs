// One fan-out measurement: a fresh server for `peer`, N receivers spread over
// load processes, one sender process, then the phases in order (warm-up, fixed
// rate, saturation, overload). Each phase reports server CPU per delivery,
// delivered/s, latency percentiles, the server's peak RSS and completeness.
import { SOURCES, startLoad, startServer, stopAll } from '../lib/fleet.mjs'
import { addSparse, createHistogram, percentiles } from '../lib/histogram.mjs'
import { cpuUs, memory, resetPeak } from '../lib/procstat.mjs'
import { sleep, until } from '../lib/stats.mjs'

const ROOM = 'bench'

/** Server CPU (µs) summed and the largest peak RSS over every node, from /proc; `reset` starts a new peak. */
async function serverStats(servers, { reset = false } = {}) {
  const all = await Promise.all(
    servers.map(async ({ child: { pid } }) => {
      if (reset) await resetPeak(pid)
      return { cpuUs: await cpuUs(pid), ...(await memory(pid)) }
    }),
  )
  return { cpuUs: all.reduce((a, s) => a + s.cpuUs, 0), peakRss: Math.max(...all.map((s) => s.peakRss)) }
}

function latencies(reports) {
  const histogram = createHistogram()
  for (const r of reports) addSparse(histogram, r.histogram)
  return percentiles(histogram, [50, 95, 99])
}

async function phase(servers, workers, sender, receivers, spec) {
  await sleep(300) // let the previous phase's stragglers and GC settle
  const before = await serverStats(servers, { reset: true })
  const started = Date.now()
  const { sent, acked } = await sender.call('run', { phase: spec.id, ...spec.send })
  // Every sent message counts: one whose ack timed out may still have been stored and delivered.
  const expected = sent * receivers
  const received = async () =>
    (await Promise.all(workers.map((w) => w.call('count', { phase: spec.id })))).reduce((a, b) => a + b, 0)
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
  const after = await serverStats(servers)
  const reports = await Promise.all(workers.map((w) => w.call('report', { phase: spec.id, expected: sent })))
  let delivered = 0
  let complete = 0
  for (const r of reports) {
    delivered += r.received
    complete += r.complete
  }
  const [p50, p95, p99] = latencies(reports)
  // With several nodes, worker i reads from node i % nodes: latency per node shows the cross-node cost.
  const byNode = servers.map((_, n) => {
    const [p50, p95, p99] = latencies(reports.filter((_, i) => i % servers.length === n))
    return { p50, p95, p99 }
  })
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
    ...(servers.length > 1 ? { byNode } : {}),
  }
}

/**
 * Measures `peer` with `receivers` receivers over `workerCount` load processes and
 * the given phases (`{ id, name, send, drain, quiet }`). With `nodes` > 1, that many
 * servers share `serverOptions` (a Redis URL), worker i reads from node i % nodes and
 * the sender publishes to node 0. Always stops its processes.
 */
export async function measure(
  peer,
  { receivers, workerCount, senders = 1, phases, serverOptions = {}, nodes = 1, room = ROOM },
) {
  const procs = []
  const servers = []
  try {
    for (let n = 0; n < nodes; n++) {
      servers.push(await startServer(peer, { options: serverOptions }))
      procs.push(servers[n])
    }
    const load = await startLoad(workerCount + 1)
    procs.push(...load)
    const [sender, ...workers] = load
    const opened = await Promise.all(
      workers.map((w, i) => {
        const count = Math.floor(receivers / workerCount) + (i < receivers % workerCount ? 1 : 0)
        const sources = SOURCES.filter((_, j) => j % workerCount === i)
        return w.call('receivers', { peerName: peer, url: servers[i % nodes].url, room, count, sources })
      }),
    )
    const open = opened.reduce((a, o) => a + o.open, 0)
    if (open !== receivers) throw new Error(`${peer}: only ${open} of ${receivers} receivers connected`)
    await sender.call('senders', { peerName: peer, url: servers[0].url, room, count: senders })
    const results = []
    for (const spec of phases) {
      const result = await phase(servers, workers, sender, receivers, spec)
      if (!spec.warmup) results.push(result)
    }
    return results
  } finally {
    // A graceful stop lets clustered nodes leave Redis tidy; a hung one is killed anyway.
    if (nodes > 1) await Promise.all(servers.map((s) => s.call('stop', {}, 15_000).catch(() => {})))
    await stopAll(procs)
  }
}
