// Cluster: Confab relays sharing one Redis (REDIS_URL, default 127.0.0.1:6379).
// The same fan-out run four ways, alternating: one node with the memory backend,
// one node on a SQLite file, one node on Redis, and two nodes on Redis with the receivers split between them
// and the sender on node A, so node B's latency is the cross-node path.
import { Redis } from 'ioredis'
import { measure } from '../fanout/measure.mjs'
import { median, ratio } from '../lib/stats.mjs'
import { print } from '../lib/table.mjs'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const SENDERS = 4

const ALL_CONFIGS = [
  { name: '1 node, memory', nodes: 1, redis: undefined },
  { name: '1 node, SQLite', nodes: 1, redis: undefined, sqlite: true },
  { name: '1 node, Redis', nodes: 1, redis: REDIS_URL },
  { name: '2 nodes, Redis', nodes: 2, redis: REDIS_URL },
]

// BENCH_CLUSTER_SETUPS=memory,sqlite runs only the setups whose name contains one of the words
// (case-insensitive), e.g. to compare two backends in one short run; memory always runs, as the base.
const only = process.env.BENCH_CLUSTER_SETUPS?.toLowerCase().split(',')
const CONFIGS = ALL_CONFIGS.filter(
  (c) => !only || c.name === '1 node, memory' || only.some((word) => c.name.toLowerCase().includes(word)),
)

async function redisUp() {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

/** Deletes the keys of the benchmark's rooms (the relay's default prefix, base64url room names). */
async function cleanUp(rooms) {
  const redis = new Redis(REDIS_URL)
  try {
    for (const room of rooms) {
      const pattern = `confab:room:{${Buffer.from(room).toString('base64url')}}*`
      for await (const keys of redis.scanStream({ match: pattern, count: 500 }))
        if (keys.length) await redis.del(...keys)
    }
  } finally {
    redis.disconnect()
  }
}

export async function runCluster({ full, log }) {
  if (!(await redisUp())) {
    log(`  cluster: skipped, no Redis at ${REDIS_URL}`)
    return { skipped: `no Redis at ${REDIS_URL}` }
  }
  const receivers = full ? 1000 : 200
  const reps = full ? 3 : 1
  const d = full ? 3000 : 1500
  const phases = [
    { id: 1, name: 'warm-up', warmup: true, send: { rate: 100, duration: 500 }, drain: 5000, quiet: 1000 },
    { id: 2, name: '100 msg/s', send: { rate: 100, duration: d }, drain: 15_000, quiet: 2000 },
    { id: 3, name: 'saturation', send: { window: 20, duration: d }, drain: 15_000, quiet: 2000 },
  ]
  const rooms = []
  const runs = []
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const config of CONFIGS) {
        const room = `bench-cluster-${process.pid}-${rep}-${config.nodes}-${config.redis ? 'r' : config.sqlite ? 's' : 'm'}`
        rooms.push(room)
        try {
          const results = await measure('confab', {
            receivers,
            workerCount: 2,
            // Several senders: one connection's publishes are handled in order, one store round trip each.
            senders: SENDERS,
            phases,
            nodes: config.nodes,
            room,
            serverOptions: { redis: config.redis, sqlite: config.sqlite },
          })
          runs.push({ config: config.name, rep, results })
          log(`  cluster ${config.name} rep ${rep}: done`)
        } catch (error) {
          runs.push({ config: config.name, rep, error: error.message })
          log(`  cluster ${config.name} rep ${rep}: FAILED ${error.message}`)
        }
      }
    }
  } finally {
    await cleanUp(rooms).catch((error) => log(`  cluster: Redis clean-up failed: ${error.message}`))
  }
  const rows = []
  for (const phase of phases.filter((p) => !p.warmup)) {
    for (const config of CONFIGS) {
      const results = runs
        .filter((r) => r.config === config.name && r.results)
        .map((r) => r.results.find((x) => x.phase === phase.name))
      const pick = (f) => median(results.map(f))
      rows.push({
        phase: phase.name,
        config: config.name,
        deliveredPerSec: pick((x) => x?.deliveredPerSec),
        usPerDelivery: pick((x) => x?.usPerDelivery),
        p50: pick((x) => x?.p50),
        p99: pick((x) => x?.p99),
        p99A: pick((x) => x?.byNode?.[0]?.p99 ?? x?.p99),
        p99B: pick((x) => x?.byNode?.[1]?.p99),
        // Paired within each run, so both nodes' latencies share the same moment's noise.
        bMinusA: pick((x) => (x?.byNode ? x.byNode[1].p99 - x.byNode[0].p99 : null)),
        completeness: pick((x) => x?.completeness),
      })
    }
  }
  for (const row of rows) {
    const one = rows.find((r) => r.phase === row.phase && r.config === '1 node, Redis')
    const memory = rows.find((r) => r.phase === row.phase && r.config === '1 node, memory')
    row.p99VsOneNode = row.p99 === null || !one || one.p99 === null ? null : row.p99 - one.p99
    row.p99VsMemory = row.p99 === null || memory.p99 === null ? null : row.p99 - memory.p99
    row.deliveredRatio = ratio(
      row.deliveredPerSec,
      rows.find((r) => r.phase === row.phase && r.config === '1 node, memory').deliveredPerSec,
    )
  }
  return { receivers, reps, rows, runs }
}

export function printCluster(result) {
  if (result.skipped) {
    console.log(`\n### Cluster\n\nskipped: ${result.skipped}\n`)
    return
  }
  print(
    `Cluster: Confab on memory, SQLite and Redis, ${result.receivers.toLocaleString('en-US')} receivers, ${SENDERS} senders on node A (median of ${result.reps})`,
    [
      { key: 'phase', label: 'phase' },
      { key: 'config', label: 'setup' },
      { key: 'deliveredPerSec', label: 'delivered/s', digits: 0 },
      { key: 'deliveredRatio', label: 'x memory', digits: 2 },
      { key: 'usPerDelivery', label: 'server µs/delivery', digits: 2 },
      { key: 'p50', label: 'p50 ms', digits: 1 },
      { key: 'p99', label: 'p99 ms', digits: 1 },
      { key: 'p99VsMemory', label: 'p99 - memory node ms', digits: 1 },
      { key: 'p99VsOneNode', label: 'p99 - 1 Redis node ms', digits: 1 },
      { key: 'p99A', label: 'p99 node A ms', digits: 1 },
      { key: 'p99B', label: 'p99 node B ms', digits: 1 },
      { key: 'bMinusA', label: 'B - A ms (paired)', digits: 1 },
      { key: 'completeness', label: 'complete', digits: 4 },
    ],
    result.rows,
  )
}
