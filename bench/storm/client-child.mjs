// One process of the reconnect storm: many SDK clients (the real `@confab/sdk`,
// with `ws` as its WebSocket), each in one room, recording when each came back
// after the relay restart and every message id it saw. One process may also be
// the publisher: it sends to every room in turn at a fixed rate, before, during
// and after the restart, and keeps the ids the relay acknowledged.
import { connect } from '@confab/sdk'
import WebSocket from 'ws'
import { ready, serve } from '../lib/rpc.mjs'
import { sleep } from '../lib/stats.mjs'

/** A `ws` constructor bound to one source address: spreads 5,000 clients over 127.0.0.x. */
function socketFrom(localAddress) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { localAddress, perMessageDeflate: false })
    }
  }
}

const clients = []
let errors = 0
const errorCodes = new Map()

async function open({ url, count, rooms, firstIndex, jitter, sources }) {
  const joins = []
  for (let i = 0; i < count; i++) {
    const index = firstIndex + i
    const WebSocketFrom = socketFrom(sources[index % sources.length])
    const client = connect(url, { WebSocket: WebSocketFrom, name: `c${index}`, reconnect: { jitter } })
    const entry = { client, room: `room-${index % rooms}`, opens: [], resets: [], ids: new Set() }
    client.on('status', (status) => {
      if (status === 'open') entry.opens.push(Date.now())
    })
    client.on('error', (error) => {
      errors++
      errorCodes.set(error.code, (errorCodes.get(error.code) ?? 0) + 1)
    })
    const room = client.join(entry.room, { history: 100 })
    room.on('message', (m) => entry.ids.add(m.id))
    room.on('reset', () => entry.resets.push(Date.now()))
    joins.push(new Promise((resolve) => room.on('presence', resolve)))
    clients.push(entry)
    if (i % 50 === 49) await sleep(10) // keep the initial connect from being a storm of its own
  }
  await Promise.all(joins)
  return { open: clients.length }
}

/** What happened after `since` (ms since epoch): first re-open and first reset per client. */
function report({ since }) {
  const reopened = []
  const resumed = []
  const received = {}
  for (const c of clients) {
    const open = c.opens.find((t) => t >= since)
    const reset = c.resets.find((t) => t >= since)
    if (open !== undefined) reopened.push(open)
    if (reset !== undefined) resumed.push(reset)
    received[c.room] ??= {}
    const byId = received[c.room]
    for (const id of c.ids) byId[id] = (byId[id] ?? 0) + 1
  }
  const members = {}
  for (const c of clients) members[c.room] = (members[c.room] ?? 0) + 1
  return { reopened, resumed, received, members, errors, errorCodes: Object.fromEntries(errorCodes) }
}

// ---------------------------------------------------------------- publisher

const acked = []
let publishing = false
let publishErrors = 0
let published = null

async function publish({ url, rooms, rate }) {
  const client = connect(url, { WebSocket, name: 'publisher' })
  const handles = Array.from({ length: rooms }, (_, i) => client.join(`room-${i}`))
  await new Promise((resolve) => handles[0].on('presence', resolve))
  publishing = true
  let n = 0
  const pending = []
  while (publishing) {
    const room = handles[n % rooms]
    n++
    pending.push(
      room.send(`storm ${n}`).then(
        (m) => acked.push({ room: m.room, id: m.id, at: Date.now() }),
        () => publishErrors++,
      ),
    )
    await sleep(1000 / rate)
  }
  await Promise.allSettled(pending)
  client.close()
}

serve(
  new Map([
    ['open', open],
    ['report', report],
    [
      'publish',
      (args) => {
        published = publish(args)
        return true
      },
    ],
    [
      'stopPublishing',
      async () => {
        publishing = false
        // Every send settles within the SDK's send timeout (10 s), so this ends.
        await published
        return { acked, errors: publishErrors }
      },
    ],
    [
      'close',
      () => {
        for (const c of clients) c.client.close()
        return true
      },
    ],
  ]),
)
ready()
