// Writes packages/widget/dist/locales/TAG.json from the built TAG.js of each bundled locale: the form
// the script-tag widget fetches (from the relay's /locales/ or beside widget.js on a CDN).
import { readdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = resolve(import.meta.dirname, '../packages/widget/dist/locales')
for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
  const { default: table } = await import(pathToFileURL(resolve(dir, file)).href)
  writeFileSync(resolve(dir, file.replace(/\.js$/, '.json')), `${JSON.stringify(table)}\n`)
}
