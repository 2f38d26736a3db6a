// Suites that need something from the machine (Chromium, Redis) skip loudly
// when it is missing locally, and fail under CI, where a skip would hide a hole.
import { existsSync } from 'node:fs'
import { createConnection } from 'node:net'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

/** Returns why a suite must be skipped, or null; throws under CI instead of skipping. */
function gate(what: string, missing: string | null): string | null {
  if (missing === null) return null
  const line = `\n*** SKIPPED: ${what} tests: ${missing} ***\n`
  if (IN_CI) throw new Error(`${what} is required under CI: ${missing}`)
  console.warn(line)
  return missing
}

/** Null when Chromium is installed; otherwise the reason (or a throw under CI). */
export function chromiumMissing(): string | null {
  return gate('browser', existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (apt-get install -y chromium)`)
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Null when a Redis server answers at REDIS_URL; otherwise the reason (or a throw under CI). */
export async function redisMissing(url = REDIS_URL): Promise<string | null> {
  const { hostname, port } = new URL(url)
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) })
    socket.setTimeout(1000)
    socket.once('connect', () => {
      socket.end()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
  return gate('Redis', reachable ? null : `no Redis server at ${url} (set REDIS_URL or start redis-server)`)
}
