import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { startRelay, TestClient, wsUrl } from './helpers'

/** A stream that keeps every JSON line written to it. */
function collector() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, stream }
}

describe('logs', () => {
  it('writes JSON lines at the configured level and never a token or API key', async () => {
    const { lines, stream } = collector()
    const apiKey = 'super-secret-api-key-123'
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const relay = await startRelay({
      apiKey,
      logger: { level: 'debug', stream },
      auth: { secret: 'x'.repeat(32) },
    })
    try {
      await fetch(`${relay.url}/v1/rooms/lobby/messages`, { headers: { authorization: `Bearer ${apiKey}` } })
      const c = new TestClient(wsUrl(relay))
      await c.hello({ token })
      await c.closedWith()
    } finally {
      await relay.stop()
    }
    const text = JSON.stringify(lines)
    expect(lines.some((l) => l.msg === 'closing socket' && l.code === 4001)).toBe(true)
    expect(
      lines.some((l) => (l.req as { headers?: Record<string, string> })?.headers?.authorization === '[Redacted]'),
    ).toBe(true)
    expect(text).not.toContain(apiKey)
    expect(text).not.toContain(token)
    expect(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number')).toBe(true)
  })

  it('stays quiet at level warn', async () => {
    const { lines, stream } = collector()
    const relay = await startRelay({ logger: { level: 'warn', stream } })
    await fetch(`${relay.url}/`)
    await relay.stop()
    expect(lines).toEqual([])
  })
})
