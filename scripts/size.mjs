// Measures what a browser user downloads for one import: rollup + terser + gzip -9,
// the same way for Confab's packages (size budgets in `npm test`) and for peers (bench/size).
import { gzipSync } from 'node:zlib'
import nodeResolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'

const ENTRY = '\0size-entry'

/**
 * Bundles `code` (an ES module, e.g. `export { connect } from '@confab/sdk'`) for browsers,
 * minifies it and returns `{ min, gzip }` in bytes. Imports resolve from `cwd`'s node_modules.
 */
export async function bundleSize(code, { cwd = process.cwd() } = {}) {
  const bundle = await rollup({
    input: ENTRY,
    onwarn: () => {},
    plugins: [
      {
        name: 'size-entry',
        resolveId: (id) => (id === ENTRY ? ENTRY : null),
        load: (id) => (id === ENTRY ? code : null),
      },
      nodeResolve({ browser: true, rootDir: cwd, exportConditions: ['browser', 'import', 'module', 'default'] }),
      terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } }),
    ],
  })
  try {
    const { output } = await bundle.generate({ format: 'es' })
    const text = output.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('')
    return { min: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length }
  } finally {
    await bundle.close()
  }
}

/** Gzip -9 size of a file that is already a minified bundle (the widget's IIFE). */
export function gzipSize(text) {
  return gzipSync(text, { level: 9 }).length
}
