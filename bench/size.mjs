// Client size: what a browser downloads for one realistic import of each client,
// all bundled the same way (rollup + node-resolve for browsers + terser + gzip -9,
// scripts/size.mjs). Run alone with `node bench/size.mjs`.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { bundleSize, gzipSize } from '../scripts/size.mjs'
import { ratio } from './lib/stats.mjs'
import { print } from './lib/table.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

/** @hapi/nes ships its client as one UMD file; wrapping it as a module lets rollup bundle it unchanged. */
async function nesEntry() {
  const source = await readFile(require.resolve('@hapi/nes/lib/client'), 'utf8')
  return `const module = { exports: {} }; const exports = module.exports;\n${source}\nexport const Client = module.exports.Client`
}

const ENTRIES = [
  { name: '@confab/sdk', entry: "export { connect } from '@confab/sdk'" },
  { name: '@confab/widget (widget.js, IIFE with SDK)', file: 'packages/widget/dist/widget.js' },
  { name: 'socket.io-client', entry: "export { io } from 'socket.io-client'" },
  { name: 'partysocket', entry: "export { default } from 'partysocket'" },
  { name: 'partysocket/ws', entry: "export { default } from 'partysocket/ws'" },
  { name: 'centrifuge', entry: "export { Centrifuge } from 'centrifuge'" },
  { name: '@hapi/nes client', entry: nesEntry },
]

async function sizeOf({ entry, file }) {
  if (file) {
    const text = await readFile(new URL(`../${file}`, import.meta.url), 'utf8')
    return { min: Buffer.byteLength(text), gzip: gzipSize(text) }
  }
  const code = typeof entry === 'function' ? await entry() : entry
  return bundleSize(code, { cwd: ROOT })
}

/** Measures every entry; a missing build is a row with its error, not a crash. */
export async function runSize({ log = console.log } = {}) {
  const rows = []
  for (const e of ENTRIES) {
    try {
      rows.push({ client: e.name, ...(await sizeOf(e)) })
    } catch (error) {
      log(`  size of ${e.name} failed: ${error.message.split('\n')[0]}`)
      rows.push({ client: e.name, min: null, gzip: null, error: error.message.split('\n')[0] })
    }
  }
  const sdk = rows[0]?.gzip
  for (const row of rows) row.vsSdk = ratio(row.gzip, sdk)
  return rows
}

export function printSize(rows) {
  print(
    'Client size (rollup + terser + gzip -9)',
    [
      { key: 'client', label: 'client' },
      { key: 'min', label: 'min bytes', digits: 0 },
      { key: 'gzip', label: 'min+gzip bytes', digits: 0 },
      { key: 'vsSdk', label: 'x @confab/sdk', digits: 2 },
    ],
    rows,
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printSize(await runSize())
