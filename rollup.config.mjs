// One config that builds every package. Libraries ship readable ESM with
// declarations; the widget also ships one minified IIFE for a <script> tag.

import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { resolve } from 'node:path'
import nodeResolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

const pkg = (name) => JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'))

/** Everything a package depends on stays an import; node builtins too. */
function externals(name) {
  const deps = Object.keys(pkg(name).dependencies ?? {})
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)])
  return (id) => builtins.has(id) || deps.some((d) => id === d || id.startsWith(`${d}/`))
}

/**
 * Minifies the CSS of the widget's styles.ts: every template literal marked with a comment reading css, written
 * formatted with comments beside the rules, loses its comments and the whitespace CSS does not need.
 * `${...}` interpolations are kept whole. Whitespace before `:` stays (`.header :focus-visible` is a descendant).
 */
export function minifyCss() {
  const squeeze = (css) =>
    css
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\s+/g, ' ')
      .replace(/\s*([{};,>])\s*/g, '$1')
      .replace(/:\s+/g, ':')
      .replace(/;}/g, '}')
      .trim()
  return {
    name: 'confab-minify-css',
    transform(code, id) {
      if (!/packages\/widget\/src\/(inbox\/)?styles\.ts$/.test(id.replaceAll('\\', '/'))) return null
      const marker = '/* css */ `'
      let out = ''
      let at = 0
      for (let start = code.indexOf(marker); start !== -1; start = code.indexOf(marker, at)) {
        const body = start + marker.length
        const end = code.indexOf('`', body)
        out += `${code.slice(at, start)}\`${squeeze(code.slice(body, end))}\``
        at = end + 1
      }
      return { code: out + code.slice(at), map: null }
    },
  }
}

/** TypeScript for one package: declarations next to the JS, workspace packages resolved from their dist. */
function ts(name) {
  return typescript({
    tsconfig: `packages/${name}/tsconfig.json`,
    compilerOptions: {
      noEmit: false,
      declaration: true,
      declarationDir: resolve(`packages/${name}/dist`),
      rootDir: resolve(`packages/${name}/src`),
      outDir: resolve(`packages/${name}/dist`),
      paths: {},
    },
  })
}

/** A library build: readable ESM, one file per entry, shared code in chunks. */
function library(name, entries) {
  return {
    input: Object.fromEntries(entries.map((e) => [e, `packages/${name}/src/${e}.ts`])),
    external: externals(name),
    plugins: name === 'widget' ? [minifyCss(), ts(name)] : [ts(name)],
    output: {
      dir: `packages/${name}/dist`,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    },
  }
}

export default [
  library('sdk', ['index', 'protocol']),
  library('widget', ['index', 'element']),
  library('relay', ['index', 'cli']),
  {
    // <script src="/widget.js">: element, SDK and nanoevents in one file.
    input: 'packages/widget/src/auto.ts',
    plugins: [
      minifyCss(),
      nodeResolve(),
      typescript({
        tsconfig: 'packages/widget/tsconfig.json',
        compilerOptions: { paths: {}, declaration: false, noEmit: false, outDir: resolve('packages/widget/dist') },
      }),
      terser({ ecma: 2020, module: false, compress: { passes: 2 } }),
    ],
    output: { file: 'packages/widget/dist/widget.js', format: 'iife' },
  },
  {
    // <script src="/inbox.js">: the operator console, <confab-inbox>, with the SDK; the relay serves it at /inbox.
    input: 'packages/widget/src/inbox/auto.ts',
    plugins: [
      minifyCss(),
      nodeResolve(),
      typescript({
        tsconfig: 'packages/widget/tsconfig.json',
        compilerOptions: { paths: {}, declaration: false, noEmit: false, outDir: resolve('packages/widget/dist') },
      }),
      terser({ ecma: 2020, module: false, compress: { passes: 2 } }),
    ],
    output: { file: 'packages/widget/dist/inbox.js', format: 'iife' },
  },
]
