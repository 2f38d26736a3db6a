// `npm run soak`: the cluster soak of packages/relay/test/scale/soak-cluster.test.ts for as long as asked.
//   npm run soak -- --minutes=30 [--clients=150] [--rooms=6]
// Without --minutes: the short profile `npm test` runs (about 75 s of phases). SOAK_MINUTES, SOAK_CLIENTS
// and SOAK_ROOMS work too. Needs redis-server on PATH and a build (`npm run build`).
// Writes the report (Markdown, then the raw figures as JSON) to bench/results/soak-<time>.md.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const settings = { minutes: 'SOAK_MINUTES', clients: 'SOAK_CLIENTS', rooms: 'SOAK_ROOMS' }
const env = { ...process.env }

for (const arg of process.argv.slice(2)) {
  if (arg === '--help' || arg === '-h') {
    console.log('npm run soak -- [--minutes=N] [--clients=N] [--rooms=N]   (see docs/scaling.md#soak)')
    process.exit(0)
  }
  const [, name, value] = arg.match(/^--(\w+)=(.+)$/) ?? []
  if (!name || !(name in settings)) {
    console.error(`soak: unknown argument "${arg}"; use --minutes=N, --clients=N, --rooms=N`)
    process.exit(2)
  }
  env[settings[name]] = value
}
if (!existsSync(new URL('../packages/relay/dist/cli.js', import.meta.url))) {
  console.error('packages/relay/dist/cli.js is missing: run `npm run build` first.')
  process.exit(1)
}

const started = new Date()
mkdirSync(new URL('../bench/results/', import.meta.url), { recursive: true })
env.SOAK_REPORT ??= fileURLToPath(
  new URL(`../bench/results/soak-${started.toISOString().replace(/[:.]/g, '-')}.md`, import.meta.url),
)
console.log(
  `soak: ${env.SOAK_MINUTES ?? 'short profile'} minutes, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}; report to ${env.SOAK_REPORT}`,
)
const vitest = spawn('npx', ['vitest', 'run', '--project', 'relay', 'packages/relay/test/scale/soak-cluster.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
})
vitest.on('exit', (code, signal) => {
  console.log(
    `soak: load average at the end ${os
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  )
  process.exit(code ?? (signal ? 1 : 0))
})
