#!/usr/bin/env node
// The `confab-relay` command; everything lives in dist/cli.js (built by `npm run build`).
import { main } from '../dist/cli.js'

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
