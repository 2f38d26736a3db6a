// Fails on a broken link in README.md, docs/*.md, the package READMEs and the examples' READMEs:
// a relative link must name an existing file (and, into a Markdown file, an existing heading), and
// an absolute link to a package's shipped docs must name a doc that package ships. Other web links
// are not fetched (CI may be offline). Run `npm run docs:api` first: docs link to docs/api/.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { docUrl, SHIPPED } from './package-docs.mjs'

const root = resolve(import.meta.dirname, '..')
const list = (dir, test) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter(test)
        .map((f) => join(dir, f))
    : []
const files = [
  'README.md',
  ...list('docs', (f) => f.endsWith('.md')),
  ...['sdk', 'widget', 'relay'].map((p) => `packages/${p}/README.md`),
  ...list('examples', (f) => existsSync(join(root, 'examples', f, 'README.md'))).map((d) => join(d, 'README.md')),
]
const shipped = new Set(Object.entries(SHIPPED).flatMap(([pkg, docs]) => docs.map((d) => docUrl(pkg, d))))

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown) {
  const out = new Set()
  const seen = new Map()
  for (const [, heading] of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[`*_]/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .trim()
      .replace(/\s/g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    out.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return out
}

const broken = []
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '')
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (target.startsWith('https://unpkg.com/@confab/')) {
      if (!shipped.has(target.split('#')[0])) broken.push(`${file}: ${target} (not a doc any package ships)`)
      continue
    }
    if (/^[a-z]+:/i.test(target)) continue
    const [path, anchor] = target.split('#')
    const absolute = path ? resolve(root, dirname(file), decodeURI(path)) : join(root, file)
    if (!existsSync(absolute)) {
      broken.push(`${file}: ${target} (no ${relative(root, absolute)})`)
      continue
    }
    if (anchor && absolute.endsWith('.md') && !anchors(readFileSync(absolute, 'utf8')).has(anchor)) {
      broken.push(`${file}: ${target} (no heading #${anchor})`)
    }
  }
}
if (broken.length > 0) {
  console.error(`links: ${broken.length} broken\n${broken.join('\n')}`)
  process.exit(1)
}
console.log(`links: ${files.length} files checked, none broken`)
