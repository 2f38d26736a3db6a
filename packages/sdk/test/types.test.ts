// The published declarations work for apps compiled with Node16/NodeNext resolution (which
// needs `.js` extensions in relative imports of .d.ts files) and with Bundler resolution.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const fixture = new URL('./fixtures/consumer.ts', import.meta.url).pathname
const DIST = new URL('../dist/index.d.ts', import.meta.url)

describe('published types', () => {
  it.each([
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])('an app compiled with module %s, resolution %s type-checks against dist', (module, resolution) => {
    if (!existsSync(DIST)) throw new Error(`${DIST.pathname} is missing: run \`npm run build\` first (npm test does)`)
    const args = [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      module,
      '--moduleResolution',
      resolution,
    ]
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, ...args, '--types', 'node', fixture], { encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  })
})
