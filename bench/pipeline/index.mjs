// Pipeline: acked publishes per second of ONE connection, the relay in its own
// process on the memory store, on Redis (REDIS_URL, default 127.0.0.1:6379) and
// on the same Redis behind a proxy adding 1 ms each way (a Redis 2 ms away, as
// on another host). The client keeps `window` publishes unanswered: 1 is a
// sender that waits for each ack, 100 one that publishes back to back.
//   node bench/pipeline/index.mjs [--full]
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { startLatencyProxy } from '../lib/latency-proxy.mjs'
import { SERVER_CPU, spawnNode, stop } from '../lib/proc.mjs'
import { client as rpc, whenReady } from '../lib/rpc.mjs'
import { exchange, open } from '../lib/socket.mjs'
import { print } from '../lib/table.mjs'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const TEXT = 'x'.repeat(200)
const DELAY = 1 // ms each way through the proxy

async function redisUp() {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

async function deletePrefix(prefix) {
  const redis = new Redis(REDIS_URL)
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }))
      if (keys.length) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

/** Publishes `count` messages over one socket with `window` unanswered; resolves with acks/s and the ack latency. */
async function publish(url, count, window) {
  const ws = await open(`${url}/ws`, { protocol: 'confab.v1' })
  await exchange(ws, JSON.stringify({ type: 'hello', name: 'bench' }), (t) => t.includes('"welcome"'))
  await exchange(ws, JSON.stringify({ type: 'join', ref: 'j', room: 'pipeline' }), (t) => t.includes('"ref":"j"'))
  const prefix = randomUUID()
  const sentAt = new Float64Array(count)
  const latencies = []
  let sent = 0
  let acked = 0
  let lastOffset = 0
  const send = () => {
    sentAt[sent] = performance.now()
    ws.send(
      JSON.stringify({ type: 'publish', ref: String(sent), room: 'pipeline', id: `${prefix}-${sent}`, text: TEXT }),
    )
    sent++
  }
  const started = performance.now()
  const done = new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      if (frame.type === 'error') reject(new Error(`relay refused a publish: ${data}`))
      if (frame.type !== 'ack') return
      // Acks come in send order with offsets one apart: the relay's promise, checked while measuring.
      if (Number(frame.ref) !== acked || (lastOffset !== 0 && frame.offset !== lastOffset + 1)) {
        reject(new Error(`ack ${frame.ref} (offset ${frame.offset}) out of order after ${acked - 1} (${lastOffset})`))
      }
      lastOffset = frame.offset
      latencies.push(performance.now() - sentAt[acked])
      acked++
      if (sent < count) send()
      if (acked === count) resolve()
    })
  })
  while (sent < Math.min(window, count)) send()
  await done
  const seconds = (performance.now() - started) / 1000
  ws.close()
  latencies.sort((a, b) => a - b)
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  return { acksPerSec: count / seconds, p50: at(0.5), p99: at(0.99) }
}

async function startRelay(options) {
  const child = spawnNode(new URL('../lib/server-child.mjs', import.meta.url), ['confab', 0, JSON.stringify(options)], {
    cpu: SERVER_CPU,
  })
  const { port } = await whenReady(child)
  const call = rpc(child)
  return {
    url: `http://127.0.0.1:${port}`,
    cpuUs: async () => (await call('stats')).cpuUs,
    stop: async () => {
      await call('stop').catch(() => {})
      await stop(child)
    },
  }
}

export async function runPipeline({ full, log }) {
  const up = await redisUp()
  if (!up) log(`  pipeline: no Redis at ${REDIS_URL}, memory store only`)
  const proxy = up
    ? await startLatencyProxy({
        port: Number(new URL(REDIS_URL).port || 6379),
        host: new URL(REDIS_URL).hostname,
        delay: DELAY,
      })
    : null
  const configs = [{ name: 'memory store', options: {} }]
  if (up) {
    configs.push({ name: 'Redis, same host', redis: REDIS_URL })
    configs.push({ name: `Redis ${2 * DELAY} ms away (proxy)`, redis: `redis://127.0.0.1:${proxy.port}` })
  }
  const scale = full ? 3 : 1
  const windows = [
    { window: 1, count: 300 * scale },
    { window: 100, count: 5000 * scale },
  ]
  const rows = []
  try {
    for (const config of configs) {
      const prefix = `confab-bench-pipeline:${randomUUID()}:`
      const relay = await startRelay(config.redis ? { redis: { url: config.redis, prefix } } : {})
      try {
        await publish(relay.url, 500, 100) // warm-up: JIT, the room exists
        for (const { window, count } of windows) {
          const cpu = await relay.cpuUs()
          const result = await publish(relay.url, count, window)
          const cpuUsPerAck = ((await relay.cpuUs()) - cpu) / count
          rows.push({ config: config.name, window, count, ...result, cpuUsPerAck })
          log(`  pipeline ${config.name}, window ${window}: ${Math.round(result.acksPerSec)} acks/s`)
        }
      } finally {
        await relay.stop()
        if (config.redis) await deletePrefix(prefix)
      }
    }
  } finally {
    await proxy?.close()
  }
  return { rows }
}

export function printPipeline(result) {
  print(
    'Pipeline: acked publishes of one connection (200-character messages, one room)',
    [
      { key: 'config', label: 'store' },
      { key: 'window', label: 'unacked at most', digits: 0 },
      { key: 'count', label: 'publishes', digits: 0 },
      { key: 'acksPerSec', label: 'acks/s', digits: 0 },
      { key: 'p50', label: 'ack p50 ms', digits: 2 },
      { key: 'p99', label: 'ack p99 ms', digits: 2 },
      { key: 'cpuUsPerAck', label: 'relay CPU µs/publish', digits: 0 },
    ],
    result.rows,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line) => console.log(line)
  printPipeline(await runPipeline({ full: process.argv.includes('--full'), log }))
  process.exit(0)
}
