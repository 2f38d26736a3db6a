// The published declarations work for apps compiled with Node16/NodeNext resolution (which
// needs `.js` extensions in relative imports of .d.ts files) and with Bundler resolution.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

// __dirname, not import.meta.url: under happy-dom the latter is an http: URL.
const tsc = createRequire(resolve(__dirname, 'types.test.ts')).resolve('typescript/bin/tsc')
const fixture = resolve(__dirname, 'fixtures/consumer.ts')
const DIST = [resolve(__dirname, '../dist/index.d.ts'), resolve(__dirname, '../../sdk/dist/index.d.ts')]

describe('published types', () => {
  it.each([
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])('an app compiled with module %s, resolution %s type-checks against dist', (module, resolution) => {
    for (const file of DIST) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`)
    }
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--lib', 'es2022,dom']
    let output = ''
    try {
      execFileSync(
        process.execPath,
        [tsc, ...args, '--module', module, '--moduleResolution', resolution, '--types', 'node', fixture],
        { encoding: 'utf8' },
      )
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  })
})

describe('JSX typings', () => {
  it.each([
    ['React 19', 'react-app.tsx', 'react'],
    ['Preact', 'preact-app.tsx', 'preact'],
  ])(
    '%s: <confab-chat> takes its attributes, strings and typed confab-* handlers',
    (_name, file, source) => {
      const args = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022,dom']
      const jsx = ['--jsx', 'react-jsx', '--jsxImportSource', source, '--types', 'node']
      let output = ''
      try {
        execFileSync(
          process.execPath,
          [
            tsc,
            ...args,
            ...jsx,
            '--module',
            'nodenext',
            '--moduleResolution',
            'nodenext',
            resolve(__dirname, 'fixtures', file),
          ],
          { encoding: 'utf8' },
        )
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error)
      }
      expect(output).toBe('')
    },
    60_000,
  )
})

describe('examples/react', () => {
  it('type-checks against the built widget (React 19 JSX, typed event props)', () => {
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', resolve(__dirname, '../../../examples/react')], { encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  }, 60_000)
})

describe('server-side rendering', () => {
  it('importing the built package in plain Node (no HTMLElement) defines nothing and throws nothing', () => {
    const script = `
      const m = await import(${JSON.stringify(resolve(__dirname, '../dist/index.js'))})
      console.log(typeof m.ConfabChat, typeof globalThis.HTMLElement, typeof globalThis.customElements)`
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(output.trim()).toBe('function undefined undefined')
  })
})
