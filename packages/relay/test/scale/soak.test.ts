// A real relay process under a small heap cap, fed a few hundred MB through the HTTP API:
// its memory must be bounded by configuration (history limit, idempotency window by time
// and by count), not by the volume that went through it.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/confab-relay.js', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const KEY = randomBytes(16).toString('hex')

/** Bytes of request bodies to post: far beyond the 64 MB heap the relay gets. */
const VOLUME = 160 * 1024 * 1024 // 160 MiB
const POSTERS = 16
/** 4,000 characters (the default text limit) of 3-byte UTF-8: a 12 KB body, 8 KB as a V8 string. */
const TEXT = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20_000))).join('')
const BODY = JSON.stringify({ text: TEXT })

/** Heap in use right after one of the relay's full (mark-compact) collections: its live set then, in bytes. */
interface FullGc {
  live: number
}

/**
 * Starts the built CLI with `--max-old-space-size=64` and `--trace-gc`; resolves with the process, its HTTP
 * base URL, and a listener for its full collections (from V8's trace on stdout).
 */
async function startCapped(): Promise<{
  child: ChildProcess
  base: string
  log: () => string
  onGc: (listener: (gc: FullGc) => void) => void
}> {
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=64',
      '--trace-gc',
      BIN,
      '--memory',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--api-key',
      KEY,
      '--history-limit',
      '1000',
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn', REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  let onGc: (gc: FullGc) => void = () => {}
  // V8 prints `Mark-Compact 33.8 (66.7) -> 7.4 (44.4) MB, …` after each full collection: the number after
  // the arrow is the heap still in use once garbage is gone.
  let pending = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const live = line.match(/Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/)?.[1]
      if (live) onGc({ live: Number(live) * MB })
    }
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start in 10 s:\n${log}`)), 10_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      const found = log.match(/WebSocket: ws:\/\/[^:/\s]+:(\d+)\//)?.[1]
      if (found) {
        clearTimeout(timer)
        resolve(Number(found))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`relay exited (${code ?? signal}) before listening:\n${log}`))
    })
  })
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    log: () => log.replace(/^\[\d+:0x[0-9a-f]+\].*\n/gm, ''),
    onGc: (listener) => {
      onGc = listener
    },
  }
}

/** Resident and heap-used bytes of the relay, from its own /metrics. */
async function memory(base: string): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text()
  const read = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+(?:\\.\\d+)?)`, 'm'))?.[1] ?? Number.NaN)
  return { rss: read('confab_process_resident_memory_bytes'), heap: read('confab_nodejs_heap_size_used_bytes') }
}

const MB = 1024 * 1024

describe.skipIf(!existsSync(DIST))('relay memory under HTTP API volume (built CLI, 64 MB heap)', () => {
  let relay: Awaited<ReturnType<typeof startCapped>>

  beforeAll(async () => {
    relay = await startCapped()
  })
  afterAll(() => {
    relay?.child.kill('SIGKILL')
  })

  it('stays up and levels off while 160 MB of 12 KB messages are posted into one room', async () => {
    const { base, child } = relay
    const url = `${base}/v1/rooms/soak/messages`
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
    const posts = Math.ceil(VOLUME / Buffer.byteLength(BODY))
    const samples: Array<{ posted: number; rss: number; heap: number }> = []
    let next = 0
    let done = 0
    // The live heap after each full collection, with how many posts had completed by then.
    const collections: Array<{ posted: number; live: number }> = []
    relay.onGc(({ live }) => collections.push({ posted: done, live }))
    const statuses = new Map<number, number>()
    const poster = async () => {
      while (next < posts && child.exitCode === null) {
        next++
        // A relay that died of its heap resets the connection: counted as status 0, then the log says why.
        const status = await fetch(url, { method: 'POST', headers, body: BODY }).then(
          async (response) => {
            await response.arrayBuffer()
            return response.status
          },
          () => 0,
        )
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        if (status === 0) break
        if (++done % 1000 === 0) samples.push({ posted: done, ...(await memory(base)) })
      }
    }
    await Promise.all(Array.from({ length: POSTERS }, poster))

    await new Promise((resolve) => setImmediate(resolve))
    expect(child.exitCode, relay.log().slice(-2000)).toBeNull()
    expect(Object.fromEntries(statuses)).toEqual({ 201: posts })
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    // History is trimmed to the limit: the newest 1,000 messages are kept, nothing older.
    const page = async (query: string) =>
      (
        (await (await fetch(`${url}?${query}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
          messages: Array<{ offset: number }>
        }
      ).messages.map((m) => m.offset)
    expect(await page('limit=1')).toEqual([posts])
    expect(await page(`before=${posts - 998}&limit=5`)).toEqual([posts - 999])

    // Levels off: the last third of the run peaks no higher than the first third (by more than noise).
    // The heap is judged by what survives each full collection (the live set): heap in use at a random
    // sample mostly says how much garbage waited for the next collection, which swings by 10 MB here.
    const third = Math.floor(samples.length / 3)
    const peak = (list: typeof samples, key: 'rss' | 'heap') => Math.max(...list.map((s) => s[key]))
    const early = samples.slice(0, third)
    const late = samples.slice(-third)
    const report = samples.map(
      (s) => `${s.posted}: rss ${Math.round(s.rss / MB)} MB, heap ${Math.round(s.heap / MB)} MB`,
    )
    const live = (from: number, to: number) =>
      Math.max(...collections.filter((c) => c.posted >= from && c.posted < to).map((c) => c.live))
    const gcReport = collections.map((c) => `${c.posted}: live ${(c.live / MB).toFixed(1)} MB`).join('\n')
    const liveEarly = live(posts / 3, (posts * 2) / 3)
    const liveLate = live((posts * 2) / 3, Number.POSITIVE_INFINITY)
    // Full collections happen all through the run (a 64 MB heap fills every few hundred posts).
    expect(Number.isFinite(liveEarly) && Number.isFinite(liveLate), gcReport).toBe(true)
    expect(liveLate, gcReport).toBeLessThan(liveEarly + 4 * MB)
    expect(peak(late, 'rss'), report.join('\n')).toBeLessThan(peak(early, 'rss') + 16 * MB)
  }, 90_000)
})
