// Peer "Confab": the built relay (`@confab/relay`, packages/relay/dist) with the
// in-memory store (or Redis with `redis`, or a SQLite file with `sqlite: true`). All load comes from 127.0.0.x, so the per-client limits are
// raised; `overload: true` keeps the default 1 MiB send-queue bound, which is what
// the overload phase is meant to show. Clients speak protocol v1 over raw `ws`.
import { exchange, open } from '../lib/socket.mjs'

export const label = 'Confab'

const PROTOCOL = 'confab.v1'
const MANY = 100_000 // the largest value the relay accepts for its rate limits

/** Relay options for load from one machine: no rate or per-IP limits, no logs. */
export function relayOptions({ host, port, overload = false, redis, rooms }) {
  return {
    host,
    port,
    redis,
    rooms,
    logger: false,
    demo: false,
    limits: {
      publishRate: MANY,
      publishBurst: MANY,
      rateAbuse: MANY,
      connectionsPerIp: MANY,
      ...(overload ? {} : { maxBufferedBytes: 2 ** 30 }),
    },
  }
}

export async function startServer({ sqlite, ...options }) {
  const { createRelay, createSqliteBackend } = await import('@confab/relay')
  if (!sqlite) {
    const relay = await createRelay(relayOptions(options))
    await relay.start()
    return { port: relay.server.info.port, close: () => relay.stop() }
  }
  // A fresh file per server, removed at close: the benchmark measures appends, not a grown file.
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = await mkdtemp(join(tmpdir(), 'confab-bench-'))
  const backend = await createSqliteBackend(join(dir, 'confab.db'), { historyLimit: 1000, idempotencyWindow: 600_000 })
  const { store, broker, presence, resumeSecret } = backend
  const relay = await createRelay({ ...relayOptions(options), store, broker, presence, resumeSecret })
  await relay.start()
  return {
    port: relay.server.info.port,
    close: async () => {
      await relay.stop()
      await backend.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

// Every socket of one load process is the same guest (hello.resume), so joining
// 5,000 receivers does not broadcast 5,000 presence changes to a growing room:
// setup cost is not what this benchmark measures. BENCH_CONFAB_DISTINCT=1 gives every
// socket its own guest instead, to measure what presence costs when a room fills.
const SHARED_GUEST = process.env.BENCH_CONFAB_DISTINCT !== '1'
let resume

async function hello(url, localAddress) {
  const ws = await open(`${url}/ws`, { protocol: PROTOCOL, localAddress })
  const welcome = JSON.parse(
    await exchange(ws, JSON.stringify({ type: 'hello', name: 'bench', resume }), (t) => t.includes('"welcome"')),
  )
  if (SHARED_GUEST) resume ??= welcome.resume
  return ws
}

let refs = 0

/** A receiver: joins `room` and returns the socket; the load process reads its frames raw. */
export async function openReceiver(url, room, { localAddress }) {
  const ws = await hello(url, localAddress)
  const ref = `j${++refs}`
  await exchange(ws, JSON.stringify({ type: 'join', ref, room }), (t) => t.includes(`"ref":"${ref}"`))
  return ws
}

export async function openSender(url, room, { onAck, localAddress }) {
  const ws = await hello(url, localAddress)
  // The relay takes publishes only from members of the room.
  await exchange(ws, JSON.stringify({ type: 'join', ref: 's', room }), (t) => t.includes('"ref":"s"'))
  ws.on('message', (data) => {
    if (data.includes('"type":"ack"')) onAck()
    else if (data.includes('"type":"error"')) console.error(`confab sender: ${data}`)
  })
  let ref = 0
  const prefix = `${process.pid}-${Date.now()}-`
  return {
    send: (text) => {
      ref++
      ws.send(JSON.stringify({ type: 'publish', ref: String(ref), room, id: prefix + ref, text }))
    },
    close: () => ws.terminate(),
  }
}
