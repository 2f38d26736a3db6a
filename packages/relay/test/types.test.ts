// The published declarations of @confab/relay work for apps compiled with Node16/NodeNext resolution
// (which needs `.js` extensions in relative imports of .d.ts files, else every export silently becomes
// `any`) and with Bundler resolution, with skipLibCheck off so an error inside dist/*.d.ts counts too.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const fixture = resolve(here, 'fixtures/consumer.ts')
const DIST = resolve(here, '../dist/index.d.ts')

function compile(module: string, resolution: string): string {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does)`)
  const args = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022']
  try {
    execFileSync(
      process.execPath,
      [tsc, ...args, '--module', module, '--moduleResolution', resolution, '--types', 'node', fixture],
      { encoding: 'utf8' },
    )
    return ''
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error)
  }
}

describe('published relay types', () => {
  it.each([
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])(
    'an app compiled with module %s, resolution %s type-checks against dist',
    (module, resolution) => {
      expect(compile(module, resolution)).toBe('')
    },
    60_000,
  )
})
