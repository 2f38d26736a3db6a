// Where an idle connection's heap goes: `node bench/memory/snapshot.mjs [peer] [connections] [--by-type]`
// (default confab-guests 2000). Opens one throwaway connection, takes a heap
// snapshot of the server after GC, opens the rest, takes another, and prints the
// growth per connection by constructor (self sizes). Arrays and other internal
// objects are named by what holds them (`array:(object elements) <- Socket._events`).
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SOURCES, startLoad, startServer, stopAll } from '../lib/fleet.mjs'
import { sleep } from '../lib/stats.mjs'

const args = process.argv.slice(2)
const byType = args.includes('--by-type') // group by constructor only, not by holder
const [peer = 'confab-guests', countArg = '2000'] = args.filter((a) => !a.startsWith('--'))
const connections = Number(countArg)
const TOP = Number(process.env.TOP ?? 40)

/** Self size and count per label, from a .heapsnapshot file. */
function tally(path) {
  const snap = JSON.parse(readFileSync(path, 'utf8'))
  const { node_fields, node_types, edge_fields, edge_types } = snap.snapshot.meta
  const { nodes, edges, strings } = snap
  const nf = node_fields.length
  const ef = edge_fields.length
  const [typeAt, nameAt, sizeAt, edgesAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    node_fields.indexOf(f),
  )
  const [eTypeAt, eNameAt, eToAt] = ['type', 'name_or_index', 'to_node'].map((f) => edge_fields.indexOf(f))
  const nodeTypes = node_types[typeAt]
  const edgeTypes = edge_types[eTypeAt]
  const count = nodes.length / nf
  const label = (i) => `${nodeTypes[nodes[i * nf + typeAt]]}:${strings[nodes[i * nf + nameAt]]}`
  // First strong retainer of each node, to name internal objects by their holder.
  const holder = new Int32Array(count).fill(-1)
  const via = new Array(count)
  let e = 0
  for (let i = 0; i < count; i++) {
    const n = nodes[i * nf + edgesAt]
    for (let k = 0; k < n; k++, e += ef) {
      const kind = edgeTypes[edges[e + eTypeAt]]
      if (kind === 'weak' || kind === 'shortcut') continue
      const to = edges[e + eToAt] / nf
      if (holder[to] !== -1) continue
      holder[to] = i
      via[to] = kind === 'element' || kind === 'hidden' ? `[${edges[e + eNameAt]}]` : strings[edges[e + eNameAt]]
    }
  }
  const totals = new Map()
  for (let i = 0; i < count; i++) {
    const type = nodeTypes[nodes[i * nf + typeAt]]
    // Strings are named by their text: grouped by kind instead, or each would be a row of its own.
    let key = type.endsWith('string') ? type : label(i)
    if (!byType && type !== 'code') {
      const h = holder[i]
      if (h !== -1) key += ` <- ${strings[nodes[h * nf + nameAt]].slice(0, 30)}.${String(via[i]).slice(0, 30)}`
      // Containers (arrays, property stores, contexts) are named two holders up.
      const g = h === -1 ? -1 : holder[h]
      if (
        g !== -1 &&
        /^(Array|Object|system \/ Context|\(object elements\)|\(object properties\)|)$/.test(
          strings[nodes[h * nf + nameAt]],
        )
      ) {
        key += ` <- ${strings[nodes[g * nf + nameAt]].slice(0, 30)}.${String(via[h]).slice(0, 30)}`
      }
    }
    const t = totals.get(key) ?? { bytes: 0, count: 0 }
    t.bytes += nodes[i * nf + sizeAt]
    t.count++
    totals.set(key, t)
  }
  return totals
}

const procs = []
const files = [
  join(tmpdir(), `idle-${process.pid}-a.heapsnapshot`),
  join(tmpdir(), `idle-${process.pid}-b.heapsnapshot`),
]
try {
  const server = await startServer(peer, { nodeArgs: ['--expose-gc'] })
  procs.push(server)
  const workers = await startLoad(2)
  procs.push(...workers)
  const open = (w, count) =>
    w.call('receivers', { peerName: peer, url: server.url, room: 'idle', count, sources: SOURCES })
  await open(workers[0], 1)
  await sleep(300)
  const before = await server.call('gc')
  await server.call('snapshot', { path: files[0] })
  const half = Math.ceil((connections - 1) / 2)
  await Promise.all([open(workers[0], half), open(workers[1], connections - 1 - half)])
  await sleep(1000)
  const after = await server.call('gc')
  await server.call('snapshot', { path: files[1] })
  const per = (key) => (after[key] - before[key]) / (connections - 1)
  const a = tally(files[0])
  const b = tally(files[1])
  const rows = []
  let total = 0
  for (const [key, t] of b) {
    const d = t.bytes - (a.get(key)?.bytes ?? 0)
    total += d
    rows.push({ key, bytes: d / (connections - 1), count: (t.count - (a.get(key)?.count ?? 0)) / (connections - 1) })
  }
  rows.sort((x, y) => y.bytes - x.bytes)
  console.log(
    `${peer}, ${connections} connections: heap used ${per('heapUsed').toFixed(0)} B per connection; snapshot ${(total / (connections - 1)).toFixed(0)} B`,
  )
  for (const r of rows.slice(0, TOP))
    console.log(`${r.bytes.toFixed(1).padStart(8)} B ${r.count.toFixed(2).padStart(6)} x  ${r.key}`)
} finally {
  await stopAll(procs)
  if (!process.env.KEEP) for (const f of files) rmSync(f, { force: true })
  else console.log(files)
}
