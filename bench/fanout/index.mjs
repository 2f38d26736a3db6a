// The fan-out suite: for each scenario (N receivers), every peer is measured in
// turn, A B C A B C …, so machine noise falls on all of them alike; figures are
// medians over the repetitions and ratios to bare `ws` from the same run.
import { median, ratio } from '../lib/stats.mjs'
import { print } from '../lib/table.mjs'
import { measure } from './measure.mjs'

const BASE = 'ws'

const warmup = (id, rate) => ({
  id,
  name: 'warm-up',
  warmup: true,
  send: { rate, duration: 500 },
  drain: 5000,
  quiet: 1000,
})
const fixed = (id, rate, duration) => ({
  id,
  name: `${rate} msg/s`,
  send: { rate, duration },
  drain: 15_000,
  quiet: 2000,
})
const saturated = (id, duration) => ({
  id,
  name: 'saturation',
  send: { window: 20, duration },
  drain: 15_000,
  quiet: 2000,
})

/** Scenarios per profile: the targets use 1,000 x 100 msg/s and 5,000 x 10 msg/s. */
export function scenarios(full) {
  const d = full ? 3000 : 1500
  const list = [
    { receivers: 100, rate: 100, phases: [warmup(1, 100), fixed(2, 100, d), saturated(3, d)] },
    { receivers: 1000, rate: 100, phases: [warmup(1, 100), fixed(2, 100, d), saturated(3, d)] },
  ]
  if (full) list.push({ receivers: 5000, rate: 10, phases: [warmup(1, 10), fixed(2, 10, 5000), saturated(3, d)] })
  return list
}

/**
 * Overload: offered 5x what bare `ws` delivered at saturation, for 5 s, with the
 * relay's default 1 MiB send-queue bound: peak RSS shows who buffers without limit.
 */
export function overload(receivers, capacity) {
  const rate = Math.max(10, Math.round(5 * capacity))
  return {
    receivers,
    rate,
    overload: true,
    phases: [
      warmup(1, 10),
      {
        id: 2,
        name: `overload ${rate} msg/s`,
        send: { rate, duration: 5000, ackTimeout: 30_000 },
        drain: 30_000,
        quiet: 3000,
      },
    ],
  }
}

/** Runs one scenario for every peer, `reps` times alternating; returns the raw runs. */
export async function runScenario(scenario, peers, { reps, workerCount, log }) {
  const runs = []
  for (let rep = 1; rep <= reps; rep++) {
    for (const peer of peers) {
      const started = Date.now()
      try {
        const results = await measure(peer, {
          receivers: scenario.receivers,
          workerCount,
          phases: scenario.phases,
          serverOptions: scenario.overload ? { overload: true } : {},
        })
        runs.push({ peer, rep, results })
        log(`  ${peer} N=${scenario.receivers} rep ${rep}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
      } catch (error) {
        runs.push({ peer, rep, error: error.message })
        log(`  ${peer} N=${scenario.receivers} rep ${rep}: FAILED ${error.message}`)
      }
    }
  }
  return runs
}

const FIGURES = ['deliveredPerSec', 'usPerDelivery', 'p50', 'p95', 'p99', 'peakRssMB', 'completeness']

/** Medians per peer and phase, with ratios to bare `ws`. */
export function summarize(scenario, runs, peers) {
  const rows = []
  for (const phase of scenario.phases.filter((p) => !p.warmup)) {
    const byPeer = new Map()
    for (const peer of peers) {
      const results = runs
        .filter((r) => r.peer === peer && r.results)
        .map((r) => r.results.find((x) => x.phase === phase.name))
      const row = { receivers: scenario.receivers, phase: phase.name, peer, runs: results.length }
      for (const key of FIGURES) row[key] = median(results.map((x) => x?.[key]))
      byPeer.set(peer, row)
    }
    const base = byPeer.get(BASE)
    for (const row of byPeer.values()) {
      row.deliveredRatio = ratio(row.deliveredPerSec, base?.deliveredPerSec)
      row.cpuRatio = ratio(row.usPerDelivery, base?.usPerDelivery)
      row.p99Ratio = ratio(row.p99, base?.p99)
      row.rssRatio = ratio(row.peakRssMB, base?.peakRssMB)
      rows.push(row)
    }
  }
  return rows
}

const COLUMNS = [
  { key: 'peer', label: 'peer' },
  { key: 'deliveredPerSec', label: 'delivered/s', digits: 0 },
  { key: 'deliveredRatio', label: 'x ws', digits: 2 },
  { key: 'usPerDelivery', label: 'µs/delivery', digits: 2 },
  { key: 'cpuRatio', label: 'x ws', digits: 2 },
  { key: 'p50', label: 'p50 ms', digits: 1 },
  { key: 'p95', label: 'p95 ms', digits: 1 },
  { key: 'p99', label: 'p99 ms', digits: 1 },
  { key: 'p99Ratio', label: 'x ws', digits: 2 },
  { key: 'peakRssMB', label: 'peak RSS MB', digits: 0 },
  { key: 'completeness', label: 'complete', digits: 4 },
]

/** Prints one table per scenario phase. */
export function printRows(rows, reps) {
  const keys = [...new Set(rows.map((r) => `${r.receivers}|${r.phase}`))]
  for (const key of keys) {
    const [receivers, phase] = key.split('|')
    const title = `Fan-out: ${Number(receivers).toLocaleString('en-US')} receivers, ${phase} (median of ${reps})`
    print(
      title,
      COLUMNS,
      rows.filter((r) => `${r.receivers}|${r.phase}` === key),
    )
  }
}
