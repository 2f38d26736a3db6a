import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs helper without type declarations
import { gzipSize } from '../../../scripts/size.mjs'

// __dirname, not import.meta.url: under happy-dom the latter is an http: URL.
const BUNDLE = resolve(__dirname, '../dist/widget.js')

/** The budget of DESIGN section 7: the whole script-tag file, SDK included, minified and gzipped. */
const BUDGET = 20 * 1024

describe('size', () => {
  it('dist/widget.js (SDK included) stays within 20 KB min+gzip', () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    const code = readFileSync(BUNDLE, 'utf8')
    const size = (gzipSize as (text: string) => number)(code)
    console.info(`widget.js: ${code.length} bytes minified, ${size} bytes gzip -9 (budget ${BUDGET})`)
    expect(size).toBeLessThanOrEqual(BUDGET)
  })

  it('dist/widget.js is minified and bundles the SDK (no import statements left)', () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    const code = readFileSync(BUNDLE, 'utf8')
    expect(code).not.toMatch(/^\s*import\s/m)
    expect(code.split('\n').length).toBeLessThan(10)
  })

  it('carries the stylesheet minified: no comments, no indentation, the significant spaces kept', () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    const code = readFileSync(BUNDLE, 'utf8')
    const css = code.slice(code.indexOf(':host{all:initial;'))
    expect(css.length).toBeGreaterThan(1000)
    expect(code).not.toMatch(/\/\*|\n {2}/)
    expect(css).toContain('.header :focus-visible{outline-color:var(--_accent-fg)}')
    expect(css).toContain('bottom:calc(var(--_offset) + 68px)')
    expect(css).toContain('@media (prefers-color-scheme:dark){:host(:not([theme=light])){')
  })
})

const INBOX = resolve(__dirname, '../dist/inbox.js')

/** The inbox's own budget (issue 13): the whole /inbox.js, SDK included, minified and gzipped. */
const INBOX_BUDGET = 40 * 1024

describe('inbox size', () => {
  it('dist/inbox.js (SDK included) stays within 40 KB min+gzip and is one minified file', () => {
    if (!existsSync(INBOX)) throw new Error(`${INBOX} is missing: run \`npm run build\` first`)
    const code = readFileSync(INBOX, 'utf8')
    const size = (gzipSize as (text: string) => number)(code)
    console.info(`inbox.js: ${code.length} bytes minified, ${size} bytes gzip -9 (budget ${INBOX_BUDGET})`)
    expect(size).toBeLessThanOrEqual(INBOX_BUDGET)
    expect(code).not.toMatch(/^\s*import\s/m)
    expect(code.split('\n').length).toBeLessThan(10)
    // Its stylesheet is minified like the widget's.
    expect(code).toContain('.filter[aria-pressed=true]{')
  })
})
