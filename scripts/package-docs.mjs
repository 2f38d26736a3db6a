// Copies each package's manuals from docs/ into packages/<name>/docs/, so they ship in its tarball and
// the package README can link to them with absolute URLs that work on the registry's page (unpkg
// serves every file of a published tarball). Links between shipped docs are rewritten to where the
// target ships; a link to something no tarball ships (examples/, screenshots) keeps its text only.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(import.meta.dirname, '..')
/** Which docs each package ships. */
export const SHIPPED = {
  sdk: ['sdk.md', 'protocol.md', 'packages.md'],
  widget: ['widget.md', 'packages.md'],
  relay: ['relay.md', 'protocol.md', 'operations.md', 'security.md', 'scaling.md', 'packages.md'],
}
/** The absolute URL of a shipped doc: the package's own copy, as the CDN serves it. */
export const docUrl = (pkg, file) => `https://unpkg.com/@confab/${pkg}/docs/${file}`

function rewrite(pkg, text) {
  return text.replace(/(!?)\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, bang, label, target) => {
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) return whole
    const [path, anchor = ''] = target.split('#')
    const file = path.replace(/^\.\//, '')
    const hash = anchor ? `#${anchor}` : ''
    if (SHIPPED[pkg].includes(file)) return whole
    const owner = Object.keys(SHIPPED).find((p) => SHIPPED[p].includes(file))
    if (owner) return `${bang}[${label}](${docUrl(owner, file)}${hash})`
    return bang ? '' : label
  })
}

/** Writes packages/<name>/docs/ for every package. */
export function copyDocs() {
  for (const [pkg, files] of Object.entries(SHIPPED)) {
    const out = resolve(root, 'packages', pkg, 'docs')
    rmSync(out, { recursive: true, force: true })
    mkdirSync(out, { recursive: true })
    for (const file of files) {
      writeFileSync(resolve(out, file), rewrite(pkg, readFileSync(resolve(root, 'docs', file), 'utf8')))
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) copyDocs()
