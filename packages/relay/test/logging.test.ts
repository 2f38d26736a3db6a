import { connect } from 'node:net'
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

describe('requests that fail to parse', () => {
  /** Sends raw bytes and resolves with what the relay answered once it closes the connection. */
  function raw(url: string, bytes: string): Promise<string> {
    const { port } = new URL(url)
    return new Promise((resolve) => {
      let answer = ''
      const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => socket.write(bytes))
      socket.on('data', (d) => {
        answer += d.toString()
      })
      socket.on('error', () => {})
      socket.on('close', () => resolve(answer))
    })
  }

  it('never logs their raw bytes (the API key and cookies), logs them below error level, and at most a few a second', async () => {
    const { lines, stream } = collector()
    const apiKey = 'leaky-api-key-0123456789'
    const relay = await startRelay({ apiKey, logger: { level: 'trace', stream } })
    const smuggled =
      'POST /v1/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\n' +
      `Authorization: Bearer ${apiKey}\r\nCookie: session=cookie-secret-42\r\n` +
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
    const oversized = `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`
    try {
      expect(await raw(relay.url, smuggled)).toMatch(/^HTTP\/1.1 400/)
      expect(await raw(relay.url, oversized)).toMatch(/^HTTP\/1.1 4\d\d/)
      await Promise.all(Array.from({ length: 20 }, () => raw(relay.url, smuggled)))
    } finally {
      await relay.stop()
    }
    // pino writes a Buffer as its bytes: decode every byte array too, so the key cannot hide in one.
    const text = JSON.stringify(lines, (_key, value) =>
      value?.type === 'Buffer' && Array.isArray(value.data) ? Buffer.from(value.data).toString() : value,
    )
    expect(text).not.toContain(apiKey)
    expect(text).not.toContain('cookie-secret-42')
    expect(text).not.toContain('rawPacket')
    const bad = lines.filter((l) => l.msg === 'bad request from client')
    expect(bad.length).toBeGreaterThanOrEqual(2)
    // 22 bad requests in well under a second: the burst of 5 is logged, the rest counted as omitted.
    expect(bad.length).toBeLessThanOrEqual(6)
    expect(bad.every((l) => l.level === 30)).toBe(true)
    expect(lines.some((l) => (l.level as number) >= 50)).toBe(false)
  })
})
