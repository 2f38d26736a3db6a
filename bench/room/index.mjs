// Large room: N distinct guests (each its own hello, as the visitors of a real site) join one room, then
// messages go to all of them. Measures the relay's CPU for the fill, the presence bytes the clients got,
// and the relay's CPU µs per delivery at N receivers. `largeAt` high plays the relay before large rooms
// (every join to every member). The clients run in this process: only the relay's own CPU is counted.
import { SOURCES, startServer, stopAll } from '../lib/fleet.mjs'
import { exchange, open } from '../lib/socket.mjs'
import { until } from '../lib/stats.mjs'
import { print } from '../lib/table.mjs'

const ROOM = 'big'
const MESSAGES = 20
const CONCURRENCY = 50

/** Runs `task(i)` for i < n with at most `limit` at once. */
async function pool(n, limit, task) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await task(next++)
    }),
  )
}

/** One fill and fan-out; always stops the relay and closes the sockets. */
export async function largeRoom({ users, largeAt = 500, log }) {
  const server = await startServer('confab', { options: { rooms: { largeAt } } })
  const sockets = []
  const bytes = { presence: 0, joined: 0 }
  let messages = 0
  try {
    await pool(users, CONCURRENCY, async (i) => {
      const ws = await open(`${server.url}/ws`, { protocol: 'confab.v1', localAddress: SOURCES[i % SOURCES.length] })
      await exchange(ws, JSON.stringify({ type: 'hello', name: `guest ${i}` }), (t) => t.includes('"welcome"'))
      sockets[i] = ws
    })
    for (const ws of sockets) {
      ws.on('message', (data) => {
        const text = data.toString()
        if (text.startsWith('{"type":"presence"')) bytes.presence += data.length
        else if (text.startsWith('{"type":"joined"')) bytes.joined += data.length
        else if (text.startsWith('{"type":"message"')) messages++
      })
    }
    const before = await server.call('stats')
    const fillStarted = Date.now()
    await pool(users, CONCURRENCY, async (i) => {
      const ref = `j${i}`
      await exchange(sockets[i], JSON.stringify({ type: 'join', ref, room: ROOM }), (t) => t.includes(`"ref":"${ref}"`))
    })
    const fillWall = (Date.now() - fillStarted) / 1000
    const filled = await server.call('stats')
    // Count frames (at most one a second) and batched presence settle.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    log(`  ${users} users, largeAt ${largeAt}: filled in ${fillWall.toFixed(1)} s`)

    const publisher = sockets[0]
    const start = await server.call('stats')
    for (let m = 0; m < MESSAGES; m++) {
      const ref = `p${m}`
      const frame = { type: 'publish', ref, room: ROOM, id: `bench-${m}`, text: `message ${m}` }
      await exchange(publisher, JSON.stringify(frame), (t) => t.includes(`"ref":"${ref}"`))
    }
    await until(() => messages >= MESSAGES * users, { timeout: 120_000, every: 100 })
    const sent = await server.call('stats')
    return {
      users,
      largeAt,
      fillCpuSec: (filled.cpuUs - before.cpuUs) / 1e6,
      fillWallSec: fillWall,
      presenceMB: bytes.presence / 1e6,
      joinedMB: bytes.joined / 1e6,
      usPerDelivery: (sent.cpuUs - start.cpuUs) / (MESSAGES * users),
      rssMB: sent.rss / 2 ** 20,
    }
  } finally {
    for (const ws of sockets) ws?.terminate()
    await stopAll([server])
  }
}

/** The suite: 2,000 users before and after large rooms, then 5,000, 10,000 and (full) 20,000. */
export async function runRoom({ full, log }) {
  const runs = [{ users: 2000, largeAt: 100_000_000 }, { users: 2000 }, { users: 5000 }, { users: 10_000 }]
  if (full) runs.push({ users: 20_000 })
  const only = process.env.BENCH_ROOM_USERS
  // BENCH_ROOM_USERS=2000@100000000,20000: users, and optionally @largeAt.
  const chosen = only
    ? only.split(',').map((u) => {
        const [users, largeAt] = u.split('@').map(Number)
        return largeAt ? { users, largeAt } : { users }
      })
    : runs
  const results = []
  for (const run of chosen) {
    try {
      results.push(await largeRoom({ ...run, log }))
    } catch (error) {
      log(`  large room ${run.users}: FAILED ${error.message}`)
      results.push({ ...run, error: error.message })
    }
  }
  return results
}

export function printRoom(rows) {
  print(
    'Large room: distinct guests join one room, then 20 messages to all of them',
    [
      { key: 'users', label: 'users', digits: 0 },
      { key: 'largeAt', label: 'large at', digits: 0 },
      { key: 'fillCpuSec', label: 'relay CPU s (joins)', digits: 2 },
      { key: 'fillWallSec', label: 'fill wall s', digits: 1 },
      { key: 'presenceMB', label: 'presence MB', digits: 2 },
      { key: 'joinedMB', label: 'joined MB', digits: 2 },
      { key: 'usPerDelivery', label: 'µs/delivery', digits: 2 },
      { key: 'rssMB', label: 'relay RSS MB', digits: 0 },
    ],
    rows,
  )
}
