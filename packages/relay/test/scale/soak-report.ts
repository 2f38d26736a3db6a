// The soak's report: one line per phase for the log, and Markdown for the console and
// bench/results (a table of phases, then the invariants).
import type { PhaseReport, SoakResult } from './soak-cluster'
import type { ErrorLine } from './soak-node'

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)}`

/** One line per phase, for the log and the report. */
export function formatPhase(p: PhaseReport): string {
  const nodes = Object.entries(p.nodes)
    .map(([name, s]) => `${name} ${mb(s.rss)}/${mb(s.heap)} MB`)
    .join(', ')
  const parts = [
    `${p.phase} (cycle ${p.cycle}, ${p.seconds} s): ${p.acked} acked, ${p.delivered} delivered`,
    `ack p50/p99/max ${p.ackLatency.p50}/${p.ackLatency.p99}/${p.ackLatency.max} ms, longest pause ${p.ackPause} ms`,
  ]
  if (p.unavailable > 0) parts.push(`${p.unavailable} unavailable answers`)
  if (p.reconnects)
    parts.push(
      `${p.reconnects.count} reconnects (p50 ${p.reconnects.p50} ms, max ${p.reconnects.max} ms; backoff p50 ${p.reconnects.backoffP50} ms; up to ${p.reconnects.attemptsMax} sockets each)`,
    )
  if (p.failover)
    parts.push(
      `failover: promoted ${p.failover.promoted} ms, replica following ${p.failover.reconfigured} ms, first ack ${p.failover.firstAck} ms, healed ${p.failover.healed} ms`,
    )
  parts.push(`rss/heap ${nodes}`)
  return parts.join('; ')
}

/** A pino line's fields; undefined for stderr text and lines that are not JSON (grouped by their start instead). */
function fields(line: string): { msg?: string; err?: { message?: string } } | undefined {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

/** Error lines grouped by node, message and cause, with counts. */
function summarize(errors: ErrorLine[]): string {
  const counts = new Map<string, number>()
  for (const { node, line } of errors) {
    let key = line.slice(0, 120)
    const entry = fields(line)
    if (entry) key = `${entry.msg}: ${entry.err?.message ?? '(no err)'}`
    counts.set(`${node} ${key}`, (counts.get(`${node} ${key}`) ?? 0) + 1)
  }
  return [...counts].map(([key, n]) => `\n  ${n} x ${key}`).join('')
}

/** The report as Markdown: a table of phases, then the invariants. */
export function formatReport(result: SoakResult): string {
  const rows = result.phases.map((p) => {
    const memory = ['one', 'two'].map((name) => {
      const s = p.nodes[name]
      return s ? `${mb(s.rss)} / ${mb(s.heap)}` : 'down'
    })
    const reconnects = p.reconnects
      ? `${p.reconnects.count}: p50 ${p.reconnects.p50}, max ${p.reconnects.max} (backoff p50 ${p.reconnects.backoffP50}; ≤ ${p.reconnects.attemptsMax} sockets)`
      : ''
    const failover = p.failover
      ? `promoted ${p.failover.promoted}, replica following ${p.failover.reconfigured}, first ack ${p.failover.firstAck}, healed ${p.failover.healed}`
      : ''
    return `| ${p.cycle} | ${p.phase} | ${p.seconds} | ${p.acked} | ${p.delivered} | ${p.ackLatency.p50} / ${p.ackLatency.p99} / ${p.ackLatency.max} | ${p.ackPause} | ${p.unavailable} | ${reconnects} | ${failover} | ${memory[0]} | ${memory[1]} |`
  })
  const sum = (key: 'lost' | 'duplicates' | 'outOfOrder' | 'gaps' | 'mismatches' | 'resets') =>
    result.verdicts.reduce((n, v) => n + v[key], 0)
  const uncaused = result.errors.filter((e) => !e.caused)
  const { profile } = result
  return [
    `Soak: ${profile.seconds} s of phases, ${profile.clients} SDK clients (${profile.rooms} rooms, ${profile.publishersPerRoom} publishers each, one send per ${profile.publishEvery} ms), ${result.joined} clients joined over the run, plus ${result.wire.length} wire listeners`,
    '',
    '| cycle | phase | s | acked | delivered | ack ms p50 / p99 / max | longest ack pause ms | unavailable | reconnects (ms) | Redis failover (ms) | node one RSS / heap MB | node two RSS / heap MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `listeners: ${result.verdicts.length} (${result.verdicts.filter((v) => v.live).length} live at the end); lost=${sum('lost')} duplicates=${sum('duplicates')} out-of-order=${sum('outOfOrder')} gaps=${sum('gaps')} id-mismatches=${sum('mismatches')} resets=${sum('resets')} ack-mismatches=${result.ackMismatches}; complete=${result.complete}`,
    `sends: ${Object.keys(result.rejected).length === 0 ? 'none rejected' : JSON.stringify(result.rejected)}; ${result.timeouts} timeouts (waited for under their id); ${result.unsettled} unsettled at the end`,
    `wire listeners: ${result.wire.map((w) => `${w.room}: ${w.reconnects} reconnects, ${w.duplicates} duplicate frames, ${w.gaps} gaps, ${w.unrecovered} unrecovered`).join('; ')}`,
    `relay logs: ${result.errors.length} error lines (${uncaused.length} without err/cause), ${result.warnings} warnings${summarize(result.errors)}`,
    ...uncaused.slice(0, 10).map((e) => `  ${e.node}: ${e.line.slice(0, 400)}`),
  ].join('\n')
}
