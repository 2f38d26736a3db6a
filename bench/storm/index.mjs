// Reconnect storm: C SDK clients in R rooms over several processes, a publisher
// sending throughout, then the relay restarted on the same port, either killed
// (clients see a dropped socket and back off, with or without jitter) or stopped
// gracefully (clients get 1012 and come back after the SDK's short random delay).

import { SOURCES, startServer } from '../lib/fleet.mjs'
import { LOAD_CPU, spawnNode, stop } from '../lib/proc.mjs'
import { client, whenReady } from '../lib/rpc.mjs'
import { sleep, until } from '../lib/stats.mjs'
import { print } from '../lib/table.mjs'

const CHILD = new URL('./client-child.mjs', import.meta.url)
const PUBLISH_RATE = 20 // msg/s over all rooms

async function startChild() {
  const child = spawnNode(CHILD, [], { cpu: LOAD_CPU })
  await whenReady(child)
  return { child, call: client(child) }
}

/** Most events inside any 1-second window of the sorted times. */
function peakPerSecond(times) {
  let peak = 0
  let from = 0
  for (let to = 0; to < times.length; to++) {
    while (times[to] - times[from] >= 1000) from++
    peak = Math.max(peak, to - from + 1)
  }
  return peak
}

/** Seconds from `origin` until `share` of `total` had an event, or null if they never did. */
function timeToShare(times, total, share, origin) {
  const needed = Math.ceil(total * share)
  return times.length >= needed ? (times[needed - 1] - origin) / 1000 : null
}

/** One storm; always stops its processes. */
export async function storm({ clients, processes, rooms, jitter, restart, outage = 0, settle, log }) {
  const procs = []
  try {
    let server = await startServer('confab')
    procs.push(server)
    const workers = await Promise.all(Array.from({ length: processes }, startChild))
    const publisher = await startChild()
    procs.push(...workers, publisher)
    const per = Math.ceil(clients / processes)
    await Promise.all(
      workers.map((w, i) =>
        w.call('open', {
          url: server.url,
          count: Math.min(per, clients - i * per),
          rooms,
          firstIndex: i * per,
          jitter,
          sources: SOURCES,
        }),
      ),
    )
    await publisher.call('publish', { url: server.url, rooms, rate: PUBLISH_RATE })
    await sleep(2000)

    const downAt = Date.now()
    if (restart === 'graceful') await server.call('stop').catch(() => {})
    await stop(server.child, 'SIGKILL')
    // A fixed outage (a deploy, a crash and its restart) makes runs comparable: without it the
    // downtime is however long a new process takes to start on a busy machine.
    await sleep(Math.max(0, downAt + outage - Date.now()))
    server = await startServer('confab', { port: server.port })
    procs.push(server)
    const backAt = Date.now()

    const gather = () => Promise.all(workers.map((w) => w.call('report', { since: downAt })))
    await until(async () => (await gather()).reduce((a, r) => a + r.resumed.length, 0) >= clients, {
      timeout: settle,
      every: 500,
    })
    const recovery = await server.call('stats')
    const recoveredAt = Date.now()
    await sleep(2000) // messages sent just now reach everyone
    const { acked, errors: publishErrors } = await publisher.call('stopPublishing')
    await sleep(1000)
    const reports = await gather()

    const reopened = reports.flatMap((r) => r.reopened).sort((a, b) => a - b)
    const resumed = reports.flatMap((r) => r.resumed).sort((a, b) => a - b)
    const members = {}
    const received = {}
    for (const r of reports) {
      for (const [room, n] of Object.entries(r.members)) members[room] = (members[room] ?? 0) + n
      for (const [room, ids] of Object.entries(r.received)) {
        received[room] ??= {}
        for (const [id, n] of Object.entries(ids)) received[room][id] = (received[room][id] ?? 0) + n
      }
    }
    // Lost before the restart: acked by the old relay, not yet written to every member when it
    // went down (the memory store's history dies with it). After: acked by the new relay.
    let lostBefore = 0
    let lostAfter = 0
    for (const { room, id, at } of acked) {
      const missing = (members[room] ?? 0) - (received[room]?.[id] ?? 0)
      if (at < downAt) lostBefore += missing
      else lostAfter += missing
    }
    const errorCodes = {}
    for (const r of reports)
      for (const [code, n] of Object.entries(r.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + n
    const result = {
      clients,
      restart,
      jitter,
      outageSec: outage / 1000,
      downtimeSec: (backAt - downAt) / 1000,
      reopened99Sec: timeToShare(reopened, clients, 0.99, backAt),
      resumed99Sec: timeToShare(resumed, clients, 0.99, backAt),
      resumedAllSec: timeToShare(resumed, clients, 1, backAt),
      resumed: resumed.length,
      peakConnPerSec: peakPerSecond(reopened),
      // CPU the new relay used from its start until every client resumed (or the wait ended).
      relayCpuSec: recovery.cpuUs / 1e6,
      recoveryWallSec: (recoveredAt - backAt) / 1000,
      errors: reports.reduce((a, r) => a + r.errors, 0),
      errorCodes,
      published: acked.length,
      publishErrors,
      lost: lostBefore + lostAfter,
      lostBefore,
      lostAfter,
    }
    log(
      `  storm ${restart} jitter=${jitter} outage=${outage} ms: 99% resumed ${result.resumed99Sec ?? '-'} s after restart`,
    )
    return result
  } finally {
    await Promise.all(procs.map((p) => stop(p.child)))
  }
}

/** The storm suite: killed with and without jitter, and (full) a graceful restart. */
export async function runStorm({ full, log }) {
  const clients = full ? 5000 : 1000
  const base = { clients, processes: full ? 4 : 2, rooms: clients / 100, settle: full ? 60_000 : 30_000, log }
  // A 3 s outage outlasts the first retries (0.5 s, 1.5 s), which is where jitter matters.
  const runs = [
    { restart: 'kill', jitter: true, outage: 3000 },
    { restart: 'kill', jitter: false, outage: 3000 },
  ]
  if (full) {
    runs.unshift({ restart: 'kill', jitter: true }, { restart: 'kill', jitter: false })
    runs.push({ restart: 'graceful', jitter: true })
  }
  const results = []
  for (const run of runs) {
    try {
      results.push(await storm({ ...base, ...run }))
    } catch (error) {
      log(`  storm ${run.restart} jitter=${run.jitter}: FAILED ${error.message}`)
      results.push({ clients, ...run, error: error.message })
    }
  }
  return results
}

export function printStorm(rows) {
  print(
    `Reconnect storm: ${rows[0]?.clients.toLocaleString('en-US')} SDK clients, relay restarted on the same port`,
    [
      { key: 'restart', label: 'restart' },
      { key: 'jitter', label: 'jitter' },
      { key: 'outageSec', label: 'forced outage s', digits: 0 },
      { key: 'downtimeSec', label: 'relay down s', digits: 2 },
      { key: 'reopened99Sec', label: '99% reconnected s', digits: 2 },
      { key: 'resumed99Sec', label: '99% resumed s', digits: 2 },
      { key: 'resumedAllSec', label: '100% resumed s', digits: 2 },
      { key: 'peakConnPerSec', label: 'peak conn/s', digits: 0 },
      { key: 'relayCpuSec', label: 'relay CPU s', digits: 1 },
      { key: 'errors', label: 'SDK errors', digits: 0 },
      { key: 'published', label: 'acked msgs', digits: 0 },
      { key: 'lostBefore', label: 'lost, acked before restart', digits: 0 },
      { key: 'lostAfter', label: 'lost, acked after', digits: 0 },
    ],
    rows,
  )
}
