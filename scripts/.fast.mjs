import { gzipSync } from 'node:zlib'
import nodeResolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'
import { writeFileSync } from 'node:fs'
const bundle = await rollup({ input: '\0e', onwarn: () => {}, plugins: [
  { name: 'e', resolveId: (id) => (id === '\0e' ? id : null), load: (id) => (id === '\0e' ? "export { connect } from '/tmp/sdkout/index.js'" : null) },
  nodeResolve({ browser: true, rootDir: process.cwd(), exportConditions: ['browser', 'import', 'module', 'default'] }),
  terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } }) ] })
const { output } = await bundle.generate({ format: 'es' })
let text = output.map((c) => (c.type === 'chunk' ? c.code : '')).join('')
writeFileSync('/tmp/sdk.fast.js', text)
console.log(Buffer.byteLength(text), gzipSync(text, { level: 9 }).length)
