// Store: appends measured on the store itself, without sockets: the built
// relay's SQLite backend (WAL, synchronous NORMAL and FULL) beside Redis
// (REDIS_URL, default 127.0.0.1:6379, skipped when down). One at a time gives
// the latency of one append; 20 in flight gives what a busy relay gets, where
// Redis can pipeline and SQLite, synchronous, cannot.
//   node bench/store/index.mjs [--full]
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { print } from '../lib/table.mjs'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROOMS = 100
const TEXT = 'x'.repeat(200) // a chat line with some room to spare
const from = { id: 'bench', name: 'Bench' }

/** The backends under test; each `open()` returns `{ store, close, file? }`. */
function configs(relay) {
  const sqlite = (durability) => async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confab-bench-store-'))
    const file = join(dir, 'confab.db')
    const backend = await relay.createSqliteBackend(file, {
      historyLimit: 1000,
      idempotencyWindow: 600_000,
      durability,
    })
    return {
      store: backend.store,
      file,
      close: async () => {
        await backend.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  }
  return [
    { name: 'SQLite, synchronous NORMAL (default)', open: sqlite('normal') },
    // An fsync per commit: a tenth of the appends keeps the run short.
    { name: 'SQLite, synchronous FULL', open: sqlite('full'), share: 0.1 },
    {
      name: 'Redis',
      open: async () => {
        const prefix = `confab-bench-store:${randomUUID()}:`
        const backend = await relay.createRedisBackend(REDIS_URL, { historyLimit: 1000, prefix })
        return {
          store: backend.store,
          close: async () => {
            const { Redis } = await import('ioredis')
            const redis = new Redis(REDIS_URL)
            for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }))
              if (keys.length) await redis.del(...keys)
            redis.disconnect()
            await backend.close()
          },
        }
      },
    },
  ]
}

/** The `p`th percentile of sorted numbers. */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null
}

let seq = 0
const draft = () => {
  seq++
  return { room: `bench-${seq % ROOMS}`, id: `m${seq}`, from, text: TEXT }
}

/** Appends `count` drafts with `inFlight` outstanding; returns per-append latencies (µs), wall time and CPU. */
async function appends(store, count, inFlight) {
  const latencies = new Float64Array(count)
  let next = 0
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  const lane = async () => {
    while (next < count) {
      const i = next++
      const t = process.hrtime.bigint()
      await store.append(draft())
      latencies[i] = Number(process.hrtime.bigint() - t) / 1000
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const { user, system } = process.cpuUsage(cpu)
  return { latencies: [...latencies].sort((a, b) => a - b), seconds, cpuUs: user + system }
}

export async function runStore({ full, log }) {
  const relay = await import('@confab/relay')
  if (typeof relay.createSqliteBackend !== 'function') {
    log('  store: skipped, the built relay does not export createSqliteBackend (run `npm run build`)')
    return { skipped: 'createSqliteBackend missing from packages/relay/dist' }
  }
  const count = full ? 100_000 : 20_000
  const rows = []
  for (const config of configs(relay)) {
    let opened
    try {
      opened = await config.open()
    } catch (error) {
      log(`  store ${config.name}: skipped, ${error.message}`)
      continue
    }
    try {
      await appends(opened.store, 2000, 1) // warm-up: JIT, page cache, the rooms exist
      const n = Math.round(count * (config.share ?? 1))
      for (const inFlight of [1, 20]) {
        const { latencies, seconds, cpuUs } = await appends(opened.store, n, inFlight)
        rows.push({
          config: config.name,
          inFlight,
          appends: n,
          appendsPerSec: n / seconds,
          usPerAppend: (seconds * 1e6) / n,
          cpuUsPerAppend: cpuUs / n,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
        })
      }
      // A page of history, as a join with `since` reads it.
      const reads = 2000
      const t = process.hrtime.bigint()
      for (let i = 0; i < reads; i++) await opened.store.after(`bench-${i % ROOMS}`, 900, 100)
      const readUs = Number(process.hrtime.bigint() - t) / 1000 / reads
      const size = opened.file ? (await stat(opened.file)).size + (await stat(`${opened.file}-wal`)).size : null
      for (const row of rows.filter((r) => r.config === config.name)) Object.assign(row, { readUs, size })
      log(`  store ${config.name}: done`)
    } finally {
      await opened.close()
    }
  }
  const base = rows.find((r) => r.inFlight === 1)
  for (const row of rows) row.ratio = base ? row.appendsPerSec / base.appendsPerSec : null
  return { count, rooms: ROOMS, rows }
}

export function printStore(result) {
  if (result.skipped) {
    console.log(`\n### Store\n\nskipped: ${result.skipped}\n`)
    return
  }
  print(
    `Store: appends of 200-character messages over ${result.rooms} rooms, history limit 1,000`,
    [
      { key: 'config', label: 'backend' },
      { key: 'appends', label: 'appends', digits: 0 },
      { key: 'inFlight', label: 'in flight', digits: 0 },
      { key: 'appendsPerSec', label: 'appends/s', digits: 0 },
      { key: 'ratio', label: 'x first row', digits: 2 },
      { key: 'usPerAppend', label: 'µs/append (wall)', digits: 1 },
      { key: 'cpuUsPerAppend', label: 'relay CPU µs/append', digits: 1 },
      { key: 'p50', label: 'p50 µs', digits: 1 },
      { key: 'p99', label: 'p99 µs', digits: 1 },
      { key: 'readUs', label: 'read 100 msgs µs', digits: 1 },
      { key: 'size', label: 'file + WAL bytes', digits: 0 },
    ],
    result.rows,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line) => console.log(line)
  printStore(await runStore({ full: process.argv.includes('--full'), log }))
  process.exit(0)
}
