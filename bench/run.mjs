// `npm run bench` (quick, about 2 minutes) and `npm run bench -- --full`.
// Options: --only=size,fanout,memory,storm,cluster,store,pipeline,room  --peers=ws,ws-preframed,socketio,nes,confab
// Prints Markdown tables with ratios and writes bench/results/<profile>-<time>.json.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { printCluster, runCluster } from './cluster/index.mjs'
import { overload, printRows, runScenario, scenarios, summarize } from './fanout/index.mjs'
import { printMemory, runMemory } from './memory/index.mjs'
import { printPipeline, runPipeline } from './pipeline/index.mjs'
import { printRoom, runRoom } from './room/index.mjs'
import { printSize, runSize } from './size.mjs'
import { printStore, runStore } from './store/index.mjs'
import { printStorm, runStorm } from './storm/index.mjs'

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const full = process.argv.includes('--full')
const suites = new Set((arg('only') ?? 'size,fanout,memory,storm,cluster,store,pipeline,room').split(','))
// Quick leaves out @hapi/nes: the slowest peer costs the most time and is not a target.
const peers = (
  arg('peers') ?? (full ? 'ws,ws-preframed,socketio,nes,confab' : 'ws,ws-preframed,socketio,confab')
).split(',')
const started = new Date()
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)

for (const dist of ['packages/relay/dist/index.js', 'packages/sdk/dist/index.js']) {
  if (!existsSync(new URL(`../${dist}`, import.meta.url))) {
    console.error(`${dist} is missing: run \`npm run build\` first.`)
    process.exit(1)
  }
}

const machine = {
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  kernel: os.release(),
  loadAverageAtStart: os.loadavg(),
}
// The relay and SDK change while they are worked on: record which build was measured.
const build = {
  commit: (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    } catch {
      return null
    }
  })(),
  relayDistBuilt: statSync(new URL('../packages/relay/dist/index.js', import.meta.url)).mtime.toISOString(),
}
const report = { profile: full ? 'full' : 'quick', started: started.toISOString(), machine, build, peers }
const out = new URL(`./results/${report.profile}-${started.toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url)

/** Written after every suite, so an interrupted run still leaves its figures. */
async function save() {
  report.seconds = (Date.now() - started) / 1000
  report.machine.loadAverageAtEnd = os.loadavg()
  await mkdir(new URL('./results/', import.meta.url), { recursive: true })
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`)
}

log(`profile ${report.profile}, peers ${peers.join(' ')}, ${machine.cores} x ${machine.cpu}, Node ${machine.node}`)
log(`commit ${build.commit}, relay dist built ${build.relayDistBuilt}`)

if (suites.has('size')) {
  log('client size')
  report.size = await runSize({ log })
  printSize(report.size)
  await save()
}

if (suites.has('fanout')) {
  const reps = full ? 3 : 1
  const workerCount = full ? 4 : 2
  report.fanout = { reps, scenarios: [] }
  for (const scenario of scenarios(full)) {
    log(`fan-out: ${scenario.receivers} receivers`)
    const runs = await runScenario(scenario, peers, { reps, workerCount, log })
    const rows = summarize(scenario, runs, peers)
    report.fanout.scenarios.push({ receivers: scenario.receivers, phases: scenario.phases, runs, rows })
    printRows(rows, reps)
    await save()
  }
  if (full) {
    // Offered 5x what bare ws delivered at saturation with the same 5,000 receivers.
    const last = report.fanout.scenarios.at(-1)
    const capacity = last.rows.find((r) => r.peer === 'ws' && r.phase === 'saturation')?.deliveredPerSec
    const scenario = overload(last.receivers, (capacity ?? 50_000) / last.receivers)
    log(`fan-out overload: ${scenario.receivers} receivers at ${scenario.rate} msg/s`)
    const runs = await runScenario(scenario, peers, { reps: 1, workerCount, log })
    const rows = summarize(scenario, runs, peers)
    report.fanout.scenarios.push({ receivers: scenario.receivers, phases: scenario.phases, runs, rows })
    printRows(rows, 1)
    await save()
    // A relay that keeps up with 5x bare ws is not overloaded by it: offer Confab 5x its own
    // capacity too, alone (the other servers would only queue for minutes), to see the bound hold.
    const own = last.rows.find((r) => r.peer === 'confab' && r.phase === 'saturation')?.deliveredPerSec
    if (own && peers.includes('confab')) {
      const heavy = overload(last.receivers, own / last.receivers)
      log(`fan-out overload: ${heavy.receivers} receivers at ${heavy.rate} msg/s (5x Confab's saturation)`)
      const heavyRuns = await runScenario(heavy, ['confab'], { reps: 1, workerCount, log })
      const heavyRows = summarize(heavy, heavyRuns, ['confab'])
      report.fanout.scenarios.push({
        receivers: heavy.receivers,
        phases: heavy.phases,
        runs: heavyRuns,
        rows: heavyRows,
      })
      printRows(heavyRows, 1)
      await save()
    }
  }
}

if (suites.has('memory')) {
  log('idle memory')
  // Beside `confab` (one shared guest per load process), `confab-guests`: a guest per socket, as on a real site.
  const memoryPeers = peers.flatMap((p) => (p === 'ws-preframed' ? [] : p === 'confab' ? [p, 'confab-guests'] : [p]))
  report.memory = await runMemory({ full, peers: memoryPeers, log })
  printMemory(report.memory)
  await save()
}

if (suites.has('storm')) {
  log('reconnect storm')
  report.storm = await runStorm({ full, log })
  printStorm(report.storm)
  await save()
}

if (suites.has('cluster')) {
  log('cluster')
  report.cluster = await runCluster({ full, log })
  printCluster(report.cluster)
  await save()
}

if (suites.has('store')) {
  log('store appends')
  report.store = await runStore({ full, log })
  printStore(report.store)
  await save()
}

if (suites.has('pipeline')) {
  log('pipelined publishes of one connection')
  report.pipeline = await runPipeline({ full, log })
  printPipeline(report.pipeline)
  await save()
}
if (suites.has('room')) {
  log('large room: distinct guests join one room')
  report.room = await runRoom({ full, log })
  printRoom(report.room)
  await save()
}

log(`done; figures in ${out.pathname}`)
process.exit(0)
