import { mkdtempSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Relay } from '@confab/relay'
import { describe, expect, it } from 'vitest'
import { ABUSE, defaultMaxSockets, GatePolicy, RateGate, TokenBucket } from '../src/limits'
import { perTest, TestClient, wsUrl } from './helpers'

const { relayWith, client, joinedPair, track } = perTest()

/** Opens a socket and resolves with the HTTP status of a refused upgrade (or 101). */
function upgradeStatus(url: string, headers: Record<string, string> = {}, protocols = ['confab.v1']): Promise<number> {
  const c = new TestClient(url, { headers, protocols })
  track(c)
  return c.opened().then(
    () => 101,
    (error: Error) => Number(/HTTP (\d+)/.exec(error.message)?.[1] ?? 0),
  )
}

async function metric(relay: Relay, name: string): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return Number(line?.split(' ').at(-1))
}

describe('TokenBucket', () => {
  it('grants the burst, then one token per 1/rate seconds, and says how long to wait', () => {
    let now = 0
    const bucket = new TokenBucket(10, 3, () => now)
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0])
    expect(bucket.take()).toBe(100)
    now = 100
    expect(bucket.take()).toBe(0)
  })
})

describe('RateGate', () => {
  it('gives each refused frame its own slot, so retries at their hints are all granted', () => {
    let now = 0
    const gate = new RateGate(10, 2, 3, () => now)
    expect([gate.take(), gate.take()]).toEqual([0, 0])
    // A burst of five over the limit, all in flight at once: forgiven, told to come back 100 ms apart.
    const hints = [gate.take(), gate.take(), gate.take(), gate.take(), gate.take()]
    expect(hints).toEqual([100, 200, 300, 400, 500])
    for (const hint of hints) {
      now = hint
      expect(gate.take()).toBe(0)
    }
  })

  it('answers ABUSE once a sender ignores its hints past the grace, and forgives again once every hint came due', () => {
    let now = 0
    const gate = new RateGate(10, 1, 3, () => now)
    expect(gate.take()).toBe(0)
    expect(gate.take()).toBe(100)
    now = 50 // still within the grace: on its way before the first hint could be read
    expect(gate.take()).toBe(150)
    now = 100 // a token refilled: granted to whichever frame comes first
    expect(gate.take()).toBe(0)
    now = 120
    expect(gate.take()).toBeGreaterThan(0) // ignored hint 1
    expect(gate.take()).toBeGreaterThan(0) // 2
    expect(gate.take()).toBe(ABUSE) // 3
    now = 0
    const fresh = new RateGate(10, 1, 2, () => now)
    expect(fresh.take()).toBe(0)
    expect(fresh.take()).toBe(100)
    now = 200 // every hint came due and was honoured
    expect(fresh.take()).toBe(0)
    expect(fresh.take()).toBe(100)
    expect(fresh.take()).toBe(200)
  })

  it('rebuilt from the time it granted its first frame, answers as the gate that granted it', () => {
    for (const burst of [1, 2, 5]) {
      let now = 1000
      const policy = new GatePolicy(10, burst, 3, () => now)
      const made = new RateGate(policy)
      expect(made.take()).toBe(0)
      const rebuilt = new RateGate(policy, 1000)
      for (const step of [0, 0, 30, 0, 0, 0, 250, 10, 0, 0, 0, 0, 0, 1000, 0]) {
        now += step
        expect(rebuilt.take()).toBe(made.take())
      }
    }
  })

  it('keeps its own tokens and hints when gates share one policy', () => {
    let now = 0
    const policy = new GatePolicy(10, 1, 3, () => now)
    const busy = new RateGate(policy)
    const quiet = new RateGate(policy)
    expect([busy.take(), busy.take(), busy.take()]).toEqual([0, 100, 200])
    expect(quiet.take()).toBe(0)
    now = 100
    expect(quiet.take()).toBe(0)
    expect(busy.take()).toBe(0)
  })
})

describe('publish rate', () => {
  it('refuses publishes over the burst with rate_limited and a retryAfter in ms', async () => {
    const relay = await relayWith({ limits: { publishRate: 1, publishBurst: 2 } })
    const c = await client(relay)
    await c.join('rate')
    expect((await c.publish('rate', '1')).type).toBe('ack')
    expect((await c.publish('rate', '2')).type).toBe('ack')
    const refused = await c.publish('rate', '3')
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', message: 'publishing too fast', room: 'rate' })
    expect(refused.retryAfter).toBeGreaterThan(0)
    expect(refused.retryAfter).toBeLessThanOrEqual(1000)
  })

  it('closes with 4101 on sustained abuse', async () => {
    const relay = await relayWith({ limits: { publishRate: 1, publishBurst: 1, rateAbuse: 5 } })
    const c = await client(relay)
    await c.join('abuse')
    for (let i = 0; i < 10; i++) c.send({ type: 'publish', ref: `r${i}`, room: 'abuse', id: `i${i}`, text: 'spam' })
    expect(await c.closedWith()).toEqual({ code: 4101, reason: 'publishing too fast' })
  })
})

/** A join and a history request for each of 128 rooms, by ref. */
function joinsAndHistories(): Map<string, object> {
  const frames = new Map<string, object>()
  for (let i = 0; i < 128; i++) {
    frames.set(`j${i}`, { type: 'join', ref: `j${i}`, room: `r${i}` })
    frames.set(`h${i}`, { type: 'history', ref: `h${i}`, room: `r${i}`, limit: 20 })
  }
  return frames
}

describe('rate of other frames', () => {
  it('does not fan typing toggles sent without pause out to everyone: refused past the burst, then closed with 4101', async () => {
    const relay = await relayWith()
    const [a, b] = await joinedPair(relay, 'keys')
    // Sends on and on, never waiting for a retryAfter (a turn of the event loop every 100 frames lets replies in).
    for (let i = 0; !a.closed && i < 200_000; i++) {
      a.send({ type: 'typing', room: 'keys', active: i % 2 === 0 })
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(await a.closedWith()).toEqual({ code: 4101, reason: 'sending too fast' })
    // 49 refusals, then the 50th in a row closes (more if a token refilled in between and reset the count).
    const refused = a.frames.filter((f) => f.type === 'error')
    expect(refused.length).toBeGreaterThanOrEqual(49)
    for (const error of refused) {
      expect(error).toMatchObject({ code: 'rate_limited', message: 'sending too fast', room: 'keys' })
      expect(error.retryAfter).toBeGreaterThan(0)
    }
    // b hears at most the burst (200, minus the join) and what refilled meanwhile, then the typing stops.
    await b.next((f) => f.type === 'typing' && f.active === false && f.user !== undefined)
    await b.next((f) => f.type === 'presence' && (f.leaves as unknown[]).length === 1)
    const typing = b.frames.filter((f) => f.type === 'typing').length
    expect(typing).toBeLessThan(260)
    expect(b.closed).toBeNull()
  })

  it('never cuts a client that starts with 128 joins and 128 history requests at once and retries at its hints', async () => {
    const relay = await relayWith()
    const c = await client(relay)
    const frames = joinsAndHistories()
    expect(frames.size).toBe(256)
    for (const frame of frames.values()) c.send(frame)
    const answered = new Set<string>()
    let refusals = 0
    while (answered.size < 256) {
      const answer = await c.next((f) => typeof f.ref === 'string' && frames.has(f.ref), 15_000)
      const ref = answer.ref as string
      if (answer.type === 'error') {
        expect(answer).toMatchObject({ code: 'rate_limited', message: 'sending too fast' })
        refusals++
        // Honours the hint: the frame goes again once retryAfter has passed, not before.
        setTimeout(() => c.send(frames.get(ref) as object), answer.retryAfter as number)
      } else {
        answered.add(ref)
      }
    }
    expect(refusals).toBeGreaterThanOrEqual(50)
    expect(c.closed).toBeNull()
    c.send({ type: 'ping', ref: 'still' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'still' })
  })

  it('closes with 4101 a client that resends refused frames at once, ignoring retryAfter', async () => {
    const relay = await relayWith()
    const c = await client(relay)
    const frames = joinsAndHistories()
    c.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      if (frame.code === 'rate_limited') c.send(frames.get(frame.ref) as object)
    })
    for (const frame of frames.values()) c.send(frame)
    expect(await c.closedWith(10_000)).toEqual({ code: 4101, reason: 'sending too fast' })
  })

  it('refuses join, leave and history over the burst with rate_limited and a retryAfter', async () => {
    const relay = await relayWith({ limits: { frameRate: 1, frameBurst: 2 } })
    const c = await client(relay)
    expect(await c.join('one')).toMatchObject({ type: 'joined' })
    c.send({ type: 'history', ref: 'h1', room: 'one' })
    expect(await c.next((f) => f.ref === 'h1')).toMatchObject({ type: 'history' })
    c.send({ type: 'history', ref: 'h2', room: 'one' })
    const refused = await c.next((f) => f.ref === 'h2')
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited', message: 'sending too fast', room: 'one' })
    expect(refused.retryAfter).toBeGreaterThan(0)
    expect(refused.retryAfter).toBeLessThanOrEqual(1000)
    // Publishing has its own bucket; ping has none.
    expect(await c.publish('one', 'still here')).toMatchObject({ type: 'ack' })
    c.send({ type: 'ping', ref: 'k' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'k' })
  })
})

describe('connections per IP', () => {
  it('refuses the upgrade over the cap with HTTP 429 and accepts again after one closes', async () => {
    const relay = await relayWith({ limits: { connectionsPerIp: 2 } })
    const a = await client(relay)
    await client(relay)
    expect(await upgradeStatus(wsUrl(relay))).toBe(429)
    await a.close()
    await expect.poll(() => upgradeStatus(wsUrl(relay)), { timeout: 2000 }).toBe(101)
  })

  it('counts the X-Forwarded-For address only when the peer is a trusted proxy', async () => {
    const trusting = await relayWith({ limits: { connectionsPerIp: 1 }, trustProxy: ['127.0.0.1'] })
    expect(await upgradeStatus(wsUrl(trusting), { 'x-forwarded-for': '203.0.113.1' })).toBe(101)
    expect(await upgradeStatus(wsUrl(trusting), { 'x-forwarded-for': '203.0.113.2' })).toBe(101)
    expect(await upgradeStatus(wsUrl(trusting), { 'x-forwarded-for': '203.0.113.1' })).toBe(429)

    const wary = await relayWith({ limits: { connectionsPerIp: 1 } })
    expect(await upgradeStatus(wsUrl(wary), { 'x-forwarded-for': '203.0.113.1' })).toBe(101)
    // Without trust the header is ignored: both count against 127.0.0.1.
    expect(await upgradeStatus(wsUrl(wary), { 'x-forwarded-for': '203.0.113.2' })).toBe(429)
  })
})

describe('connections per node', () => {
  it('closes sockets over the cap with 1013 so clients retry after a short delay', async () => {
    const relay = await relayWith({ limits: { maxConnections: 2 } })
    await client(relay)
    await client(relay)
    const third = new TestClient(wsUrl(relay))
    track(third)
    expect(await third.closedWith()).toEqual({ code: 1013, reason: 'relay overloaded' })
    await expect.poll(() => metric(relay, 'confab_connections')).toBe(2)
  })
})

describe('upgrade checks', () => {
  it('refuses an origin outside the allow-list with HTTP 403 and no WebSocket', async () => {
    const relay = await relayWith({ origins: ['https://good.example'] })
    expect(await upgradeStatus(wsUrl(relay), { origin: 'https://evil.example' })).toBe(403)
    expect(await upgradeStatus(wsUrl(relay), { origin: 'https://good.example' })).toBe(101)
    expect(await metric(relay, 'confab_connections')).toBe(1)
  })

  it('allows any origin by default', async () => {
    const relay = await relayWith()
    expect(await upgradeStatus(wsUrl(relay), { origin: 'https://anywhere.example' })).toBe(101)
  })

  it('refuses a client that offers only other subprotocols', async () => {
    const relay = await relayWith()
    expect(await upgradeStatus(wsUrl(relay), {}, ['chat.v9'])).toBe(400)
  })

  it('answers 404 for upgrades on other paths', async () => {
    const relay = await relayWith()
    expect(await upgradeStatus(wsUrl(relay, '/elsewhere'))).toBe(404)
  })
})

describe('page size', () => {
  /** A relay whose send-queue bound is 64 KiB (pages up to 32 KiB), and 40 messages of about 2 KB in room `big`. */
  async function bigRoom() {
    const relay = await relayWith({ limits: { publishRate: 10_000, publishBurst: 10_000, maxBufferedBytes: 65_536 } })
    const writer = await client(relay)
    await writer.join('big')
    for (let i = 1; i <= 40; i++) expect((await writer.publish('big', `${i} ${'x'.repeat(2000)}`)).type).toBe('ack')
    return { relay, writer }
  }
  const bytes = (messages: unknown[]) =>
    messages.reduce<number>((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0)
  const offsets = (frame: Record<string, unknown>) => (frame.messages as Array<{ offset: number }>).map((m) => m.offset)

  it('cuts a history page at half the send-queue bound, newest first, with more: true', async () => {
    const { relay } = await bigRoom()
    const reader = await client(relay)
    reader.send({ type: 'history', ref: 'h', room: 'big', limit: 1000 })
    const page = await reader.next((f) => f.ref === 'h')
    const messages = page.messages as unknown[]
    expect(bytes(messages)).toBeLessThanOrEqual(32_768)
    expect(messages.length).toBeGreaterThan(5)
    expect(offsets(page).at(-1)).toBe(40)
    expect(page.more).toBe(true)
    // Paging back with `before` reaches the first message, each page within the budget.
    const seen = offsets(page)
    for (let before = seen[0] as number; before > 1; ) {
      reader.send({ type: 'history', ref: `h${before}`, room: 'big', before, limit: 1000 })
      const older = await reader.next((f) => f.ref === `h${before}`)
      expect(bytes(older.messages as unknown[])).toBeLessThanOrEqual(32_768)
      seen.unshift(...offsets(older))
      before = offsets(older)[0] as number
      expect(older.more).toBe(before > 1)
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(reader.closed).toBeNull()
  })

  it('cuts the history of a join at the same budget', async () => {
    const { relay } = await bigRoom()
    const reader = await client(relay)
    const joined = await reader.join('big', { history: 1000 })
    expect(bytes(joined.messages as unknown[])).toBeLessThanOrEqual(32_768)
    expect(offsets(joined).at(-1)).toBe(40)
    expect(joined.recovered).toBe(true)
  })

  it('never lets a reader that stopped reading queue more than the bound, however many pages it asks for', async () => {
    const relay = await relayWith({
      limits: { publishRate: 10_000, publishBurst: 10_000, frameBurst: 1000, maxBufferedBytes: 65_536 },
    })
    const writer = await client(relay)
    await writer.join('big')
    for (let i = 1; i <= 40; i++) expect((await writer.publish('big', `${i} ${'x'.repeat(2000)}`)).type).toBe('ack')
    const reader = await client(relay)
    reader.ws.pause()
    // 900 pages of about 32 KiB: some 29 MB, far past the bound and the kernel's socket buffers.
    for (let i = 0; i < 900; i++) reader.send({ type: 'history', ref: `h${i}`, room: 'big', limit: 1000 })
    await expect.poll(() => metric(relay, 'confab_send_queue_drops_total'), { timeout: 10_000, interval: 20 }).toBe(1)
    expect(await metric(relay, 'confab_send_queue_bytes')).toBeLessThanOrEqual(65_536)
  })

  it('answers a resume that missed more than one page with recovered: false and the newest page', async () => {
    const { relay } = await bigRoom()
    const first = await client(relay)
    const { epoch } = await first.join('big')
    const far = await client(relay)
    const resumed = await far.join('big', { since: { epoch, offset: 1 } })
    expect(resumed.recovered).toBe(false)
    expect(bytes(resumed.messages as unknown[])).toBeLessThanOrEqual(32_768)
    expect(offsets(resumed).at(-1)).toBe(40)
    const near = await client(relay)
    const caughtUp = await near.join('big', { since: { epoch, offset: 36 } })
    expect(caughtUp).toMatchObject({ recovered: true })
    expect(offsets(caughtUp)).toEqual([37, 38, 39, 40])
  })
})

describe('slow consumers', () => {
  /** A reader that stopped reading, a writer in the same room, and 50 KB of text per message. */
  async function firehose() {
    const relay = await relayWith({ limits: { publishRate: 10_000, publishBurst: 10_000, maxText: 60_000 } })
    const slow = await client(relay)
    await slow.join('firehose')
    slow.ws.pause()
    const writer = await client(relay)
    await writer.join('firehose')
    const pad = 'x'.repeat(50_000)
    const publish = async (i: number) => {
      const ack = await writer.publish('firehose', `m${i} ${pad}`)
      expect(ack.type).toBe('ack')
    }
    return { relay, slow, writer, publish }
  }

  it('cuts a reader that stops reading with 4100 and keeps the send queue bounded', async () => {
    const { relay, slow, writer, publish } = await firehose()
    // Up to 400 frames of 50 KB (20 MB, far beyond the 1 MiB bound and the kernel's socket buffers), until the cut.
    for (let i = 0; i < 400 && (await metric(relay, 'confab_send_queue_drops_total')) === 0; i++) await publish(i)
    expect(await metric(relay, 'confab_send_queue_drops_total')).toBe(1)
    // What stays queued is the bound plus the frame that crossed it, not 20 MB.
    expect(await metric(relay, 'confab_send_queue_bytes')).toBeLessThan(1_048_576 + 200_000)
    // A reader that catches up within the grace gets the close frame behind its queue.
    slow.ws.resume()
    expect(await slow.closedWith(10_000)).toEqual({ code: 4100, reason: 'send queue full' })
    // The writer was reading all along and is still connected.
    expect(writer.closed).toBeNull()
  }, 30_000)

  it('drops a cut reader that does not drain within the close grace, freeing its queue long before ws would', async () => {
    const { relay, slow, writer, publish } = await firehose()
    for (let i = 0; i < 400; i++) await publish(i)
    expect(await metric(relay, 'confab_send_queue_drops_total')).toBe(1)
    expect(await metric(relay, 'confab_send_queue_bytes')).toBeLessThan(1_048_576 + 200_000)
    // ws alone waits 30 s for the close handshake, with the megabyte still queued.
    await expect.poll(() => metric(relay, 'confab_send_queue_bytes'), { timeout: 10_000, interval: 50 }).toBe(0)
    await expect.poll(() => metric(relay, 'confab_connections'), { timeout: 5000, interval: 50 }).toBe(1)
    expect(writer.closed).toBeNull()
    // Dropped without a close frame: the client sees an abnormal close, and backs off as for 4100.
    slow.ws.resume()
    expect((await slow.closedWith(10_000)).code).toBe(1006)
  }, 30_000)
})

/** Opens a raw TCP connection from `localAddress` and resolves once it is connected. */
function rawSocket(relay: Relay, localAddress = '127.0.0.1'): Promise<Socket> {
  const { port } = new URL(relay.url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), localAddress })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** GET /healthz from `localAddress`: the status, or the error. */
function health(relay: Relay, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${relay.url}/healthz`, { localAddress, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.once('error', reject)
  })
}

/**
 * Opens a raw TCP connection, sends `first` and then `more` every 50 ms (none when omitted), and resolves with
 * the ms from connect to close. The close is watched from the connect on: a socket the relay cuts while the
 * test still opens others must not go unseen.
 */
function lifetime(relay: Relay, first?: string, more?: string): Promise<number> {
  const { port } = new URL(relay.url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    socket.once('error', reject)
    socket.once('connect', () => {
      const start = performance.now()
      socket.off('error', reject)
      // A reset when the relay cuts the socket mid-write ends in 'close' like any other cut.
      socket.on('error', () => {})
      let drip: ReturnType<typeof setInterval> | undefined
      if (first !== undefined) socket.write(first)
      if (more !== undefined) drip = setInterval(() => socket.destroyed || socket.write(more), 50)
      socket.once('close', () => {
        clearInterval(drip)
        resolve(performance.now() - start)
      })
    })
  })
}

describe('idle TCP connections', () => {
  it('keeps /healthz and new WebSockets answering within a second while one address holds 1,000 idle sockets', async () => {
    // Deadlines longer than the test: the 100 admitted sockets stay open however slowly the machine runs,
    // so no later socket can take a freed slot instead of being refused.
    const relay = await relayWith({ limits: { headersTimeout: 30_000, requestTimeout: 30_000 } })
    const idle: Socket[] = []
    try {
      let refused = 0
      // In waves well below the listen backlog (511): 1,000 connects at once overflow the accept queue, and
      // the kernel retries the dropped handshakes seconds later, so some sockets would reach the gate late.
      const WAVE = 250
      for (let opened = 0; opened < 1000; opened += WAVE) {
        const opening: Promise<Socket>[] = []
        for (let i = 0; i < WAVE; i++) opening.push(rawSocket(relay))
        for (const socket of await Promise.all(opening)) {
          idle.push(socket)
          socket.on('error', () => {})
          socket.once('data', (data) => {
            if (data.toString().startsWith('HTTP/1.1 429')) refused++
          })
        }
        // 100 (the per-address cap) stay open, every other one is answered 429 at once.
        await expect.poll(() => refused, { timeout: 5000 }).toBe(Math.max(0, opened + WAVE - 100))
      }

      let start = performance.now()
      expect(await health(relay, '127.0.0.2')).toBe(200)
      expect(performance.now() - start).toBeLessThan(1000)

      start = performance.now()
      const c = track(new TestClient(wsUrl(relay), { localAddress: '127.0.0.2' }))
      expect(await c.hello()).toMatchObject({ type: 'welcome' })
      expect(performance.now() - start).toBeLessThan(1000)
    } finally {
      for (const socket of idle) socket.destroy()
    }
  }, 20_000)

  it('closes a connection that sends nothing, one that trickles its headers, and one that trickles its body', async () => {
    const relay = await relayWith({ limits: { headersTimeout: 300, requestTimeout: 600 } })
    const times = await Promise.all([
      lifetime(relay),
      lifetime(relay, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-A: b\r\n'),
      lifetime(
        relay,
        'POST /v1/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
        ' ',
      ),
    ])
    for (const ms of times) expect(ms).toBeLessThan(3000)
    // The deadline under test is the 3 s above, timed from each connect. Known flake, not fixed: under load the
    // connection that sends nothing sometimes gets hapi's 28-byte "400 Bad Request" and then no FIN and no close
    // for 6 s and more (seen 5 times in 25 loaded runs of the three, never in 42 quieter ones); see the note of
    // 2026-12-06.
  }, 20_000)

  it("lets a slow handler answer after the header deadline: the deadlines are the client's, not the server's", async () => {
    const relay = await relayWith({ limits: { headersTimeout: 200, requestTimeout: 400 } })
    relay.server.route({
      method: 'GET',
      path: '/slow',
      handler: () => new Promise((resolve) => setTimeout(() => resolve('done'), 1000)),
    })
    const res = await fetch(`${relay.url}/slow`)
    expect(await res.text()).toBe('done')
  })

  it('answers 503 beyond limits.maxSockets open connections, and serves again once one closes', async () => {
    const relay = await relayWith({ limits: { maxSockets: 5, connectionsPerIp: 1000 } })
    const held = await Promise.all([1, 2, 3, 4, 5].map(() => rawSocket(relay)))
    const extra = await rawSocket(relay)
    const answer = await new Promise<string>((resolve) => extra.once('data', (d) => resolve(d.toString())))
    expect(answer).toMatch(/^HTTP\/1.1 503 Service Unavailable/)
    held[0]?.destroy()
    await expect.poll(() => health(relay, '127.0.0.2').catch(() => 0), { timeout: 3000 }).toBe(200)
    for (const socket of held) socket.destroy()
  })
})

describe('the default socket cap', () => {
  it('is the open-file limit less 64, or no cap when the limit cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'))
    const file = join(dir, 'limits')
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n',
    )
    expect(defaultMaxSockets(file)).toBe(960)
    expect(defaultMaxSockets(join(dir, 'missing'))).toBe(0)
  })
})
