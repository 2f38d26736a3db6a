import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url))

// Tests import workspace packages from source, so a unit test never needs a build.
// Browser tests load the built files (`npm test` builds first).
const alias = [
  { find: /^@confab\/sdk\/protocol$/, replacement: src('sdk/src/protocol.ts') },
  { find: /^@confab\/sdk$/, replacement: src('sdk/src/index.ts') },
  { find: /^@confab\/relay$/, replacement: src('relay/src/index.ts') },
]

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sdk',
          include: ['packages/sdk/test/**/*.test.ts'],
          exclude: ['packages/sdk/test/browser/**'],
          environment: 'node',
        },
      },
      { extends: true, test: { name: 'relay', include: ['packages/relay/test/**/*.test.ts'], environment: 'node' } },
      {
        extends: true,
        test: {
          name: 'widget',
          include: ['packages/widget/test/**/*.test.ts'],
          exclude: ['packages/widget/test/browser/**'],
          environment: 'happy-dom',
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.test.ts', 'packages/*/test/browser/**/*.test.ts'],
          environment: 'node',
          // One Chromium at a time: the machine has two cores.
          fileParallelism: false,
        },
      },
    ],
  },
})
