// One config that builds every package. Libraries ship readable ESM with
// declarations; the widget also ships one minified IIFE for a <script> tag.

import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { posix, resolve } from 'node:path'
import nodeResolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import typescript from '@rollup/plugin-typescript'

const pkg = (name) => JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8'))

/** Everything a package depends on stays an import; node builtins too. */
function externals(name) {
  const deps = Object.keys({ ...pkg(name).dependencies, ...pkg(name).peerDependencies })
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

/**
 * Gives every relative import in the emitted declarations its real file: `./config` becomes `./config.js`,
 * `./store` becomes `./store/index.js`. Node16/NodeNext resolution (what a Node app compiles with) finds
 * nothing behind an extensionless relative import and silently types the whole export as `any`; sources
 * stay extensionless so the packages' own code reads as it always did.
 */
export function declarationExtensions() {
  const specifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g
  return {
    name: 'confab-declaration-extensions',
    generateBundle: {
      order: 'post',
      handler(_options, bundle) {
        const names = new Set(Object.keys(bundle).map((name) => name.replaceAll('\\', '/')))
        for (const asset of Object.values(bundle)) {
          if (asset.type !== 'asset' || !asset.fileName.endsWith('.d.ts')) continue
          const from = posix.dirname(asset.fileName.replaceAll('\\', '/'))
          asset.source = String(asset.source).replace(specifier, (whole, lead, quote, path) => {
            if (/\.(m|c)?js$/.test(path)) return whole
            const target = posix.normalize(posix.join(from, path))
            if (names.has(`${target}.d.ts`)) return `${lead}${quote}${path}.js${quote}`
            if (names.has(`${target}/index.d.ts`)) return `${lead}${quote}${path}/index.js${quote}`
            this.error(`${asset.fileName}: cannot find the declaration file behind '${path}'`)
          })
        }
      },
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
    plugins: name === 'widget' ? [minifyCss(), ts(name), declarationExtensions()] : [ts(name), declarationExtensions()],
    output: {
      dir: `packages/${name}/dist`,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    },
  }
}

/** The widget's bundled locales, one module each (dist/locales/TAG.js; TAG.json is written after the build). */
const LOCALES = readdirSync('packages/widget/src/locales')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))

// A fresh dist per build, so a module that no longer exists cannot ship in a tarball.
for (const name of ['sdk', 'widget', 'relay']) rmSync(`packages/${name}/dist`, { recursive: true, force: true })

export default [
  library('sdk', ['index', 'protocol']),
  library('widget', ['index', 'element', 'react', 'preact', ...LOCALES.map((tag) => `locales/${tag}`)]),
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
      {
        // `import '@confab/widget/widget.js'` in a typed app: nothing to import, but the tag and events are typed.
        name: 'confab-widget-types',
        generateBundle() {
          const source =
            "// The script-tag build: registers <confab-chat>; nothing to import.\nimport './define.js';\nexport {};\n"
          this.emitFile({ type: 'asset', fileName: 'widget.d.ts', source })
        },
      },
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
