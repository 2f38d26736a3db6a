// Idle memory per connection: the server's RSS growth per idle connection that
// has joined one room, after forced GC (--expose-gc) before and after, so the
// figure is live memory rather than garbage not yet collected.
import { SOURCES, startLoad, startServer, stopAll } from '../lib/fleet.mjs'
import { median, ratio, sleep } from '../lib/stats.mjs'
import { print } from '../lib/table.mjs'

async function idle(peer, connections, workerCount) {
  const procs = []
  try {
    const server = await startServer(peer, { nodeArgs: ['--expose-gc'] })
    procs.push(server)
    const workers = await startLoad(workerCount)
    procs.push(...workers)
    // One throwaway connection first, so lazily loaded code is not counted per connection.
    await workers[0].call('receivers', { peerName: peer, url: server.url, room: 'idle', count: 1, sources: SOURCES })
    await sleep(300)
    const before = await server.call('gc')
    const share = Math.ceil((connections - 1) / workerCount)
    const opened = await Promise.all(
      workers.map((w, i) => {
        const count = Math.min(share, connections - 1 - i * share)
        return w.call('receivers', { peerName: peer, url: server.url, room: 'idle', count, sources: SOURCES })
      }),
    )
    const open = 1 + opened.reduce((a, o) => a + o.open, 0)
    if (open !== connections) throw new Error(`${peer}: only ${open} of ${connections} connected`)
    await sleep(1000)
    const after = await server.call('gc')
    const per = (key) => (after[key] - before[key]) / 1024 / (connections - 1)
    return {
      peer,
      connections,
      rssBeforeMB: before.rss / 2 ** 20,
      rssAfterMB: after.rss / 2 ** 20,
      kbPerConn: per('rss'),
      heapKbPerConn: per('heapUsed'),
      heapTotalKbPerConn: per('heapTotal'),
      externalKbPerConn: per('external'),
    }
  } finally {
    await stopAll(procs)
  }
}

/** Measures each peer `reps` times, alternating; medians and ratios to bare `ws`. */
export async function runMemory({ full, peers, log }) {
  const connections = full ? 5000 : 2000
  const reps = full ? 3 : 1
  const runs = []
  for (let rep = 1; rep <= reps; rep++) {
    for (const peer of peers) {
      try {
        runs.push({ rep, ...(await idle(peer, connections, 2)) })
        log(`  memory ${peer} rep ${rep}: ${runs.at(-1).kbPerConn.toFixed(1)} KB/connection`)
      } catch (error) {
        runs.push({ rep, peer, connections, error: error.message })
        log(`  memory ${peer} rep ${rep}: FAILED ${error.message}`)
      }
    }
  }
  const rows = peers.map((peer) => {
    const mine = runs.filter((r) => r.peer === peer)
    const pick = (key) => median(mine.map((r) => r[key]))
    return {
      peer,
      connections,
      kbPerConn: pick('kbPerConn'),
      heapKbPerConn: pick('heapKbPerConn'),
      heapTotalKbPerConn: pick('heapTotalKbPerConn'),
      externalKbPerConn: pick('externalKbPerConn'),
    }
  })
  const base = rows.find((r) => r.peer === 'ws')?.kbPerConn
  for (const row of rows) row.ratio = ratio(row.kbPerConn, base)
  return { runs, rows, reps }
}

export function printMemory({ rows, reps }) {
  print(
    `Idle memory: server RSS growth per connection at ${rows[0]?.connections.toLocaleString('en-US')} connections (median of ${reps})`,
    [
      { key: 'peer', label: 'peer' },
      { key: 'kbPerConn', label: 'KB/connection', digits: 1 },
      { key: 'ratio', label: 'x ws', digits: 2 },
      { key: 'heapKbPerConn', label: 'JS heap used KB', digits: 1 },
      { key: 'heapTotalKbPerConn', label: 'JS heap committed KB', digits: 1 },
      { key: 'externalKbPerConn', label: 'external KB', digits: 1 },
    ],
    rows,
  )
}
