// Reads a V8 .cpuprofile (from BENCH_PROFILE_DIR) and prints the functions with the
// most self time, and the totals by file: `node bench/lib/profile-top.mjs FILE [N]`.
import { readFile } from 'node:fs/promises'

const [file, limit = '25'] = process.argv.slice(2)
const profile = JSON.parse(await readFile(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const interval = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  interval.set(id, (interval.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
let total = 0
for (const [id, us] of interval) {
  const { callFrame } = byId.get(id)
  const where = callFrame.url.replace(/^.*\/(node_modules|packages)\//, '$1/')
  const key = `${callFrame.functionName || '(anonymous)'} ${where}:${callFrame.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + us)
  total += us
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))
for (const [key, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`)
