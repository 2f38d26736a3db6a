// Launches Debian's Chromium through playwright-core (never a downloaded browser).
import { mkdirSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { CHROMIUM } from './env'

export const ARTIFACTS = new URL('../../test-results/', import.meta.url).pathname

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background network). */
export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}
