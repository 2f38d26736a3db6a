// The budget users download for `import { connect } from '@confab/sdk'`, measured on the
// built package (dist) the way scripts/size.mjs measures every package and its peers.
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs helper without type declarations
import { bundleSize } from '../../../scripts/size.mjs'

/** Bytes, minified and gzip -9: the @hapi/nes client is 3.0 KB, partysocket 4.1 KB. */
const BUDGET = 5 * 1024
const DIST = new URL('../dist/index.js', import.meta.url)

describe('bundle size', () => {
  it(`import { connect } stays within ${BUDGET} bytes min+gzip`, async () => {
    if (!existsSync(DIST)) {
      throw new Error(`${DIST.pathname} is missing: run \`npm run build\` first (npm test does)`)
    }
    const { gzip } = (await bundleSize("export { connect } from '@confab/sdk'")) as { min: number; gzip: number }
    console.info(`@confab/sdk connect: ${gzip} bytes min+gzip (budget ${BUDGET})`)
    expect(gzip).toBeLessThanOrEqual(BUDGET)
  })
})
