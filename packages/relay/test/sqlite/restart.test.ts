import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, connect, type Message, type Room } from '@confab/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import { ResumingListener } from '../scale/resuming-listener'
import { Tally } from '../scale/tally'
import { WireClient } from '../scale/wire-client'
import { Inbox } from '../storage/inbox'
import { removeBundle, run, SqliteRelay } from './sqlite-relay'

const KILLS = 3
/** Below the relay's default 10 publishes per second per connection. */
const SEND_EVERY = 125 // ms

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-sqlite-restart-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await removeBundle()
})

describe('a SQLite relay killed while clients publish', () => {
  let relay: SqliteRelay
  let proxy: FaultProxy
  const clients: Client[] = []

  beforeAll(async () => {
    relay = await SqliteRelay.start(join(dir, 'confab.db'))
    // The clients' one address: it is pointed at each new relay process, whose port changes.
    proxy = await startFaultProxy({ port: relay.port })
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await proxy?.close()
    await relay?.kill('SIGTERM')
  })

  it(`keeps every acked message across ${KILLS} SIGKILLs: resumed, no reset, no duplicate, no gap, same guest`, async () => {
    const room = `restart-${randomUUID()}`
    const url = `ws://127.0.0.1:${proxy.port}/ws`
    const tally = new Tally()
    const opened = new Inbox<{ client: string; at: number }>()
    const resets: unknown[] = []
    const join = async (name: string): Promise<Room> => {
      const client = connect(url, { WebSocket: WebSocket as never, name, reconnect: { minDelay: 50, maxDelay: 500 } })
      clients.push(client)
      client.on('status', (status) => status === 'open' && opened.push({ client: name, at: Date.now() }))
      const joined = client.join(room)
      joined.on('reset', (info) => resets.push(info))
      await opened.next((o) => o.client === name, 5000, `${name} open`)
      return joined
    }
    const deliveries = new Inbox<Message>()
    const listener = await join('listener')
    const recordSdk = tally.listener('listener')
    listener.on('message', (message) => {
      recordSdk(message)
      deliveries.push(message)
    })
    // A listener without the SDK, which counts joins the relay answered `recovered: false`.
    const recordWire = tally.listener('wire-listener')
    const wire = new ResumingListener(url, room, 'wire-listener', (message) => {
      recordWire(message)
      deliveries.push(message)
    })
    await wire.start()
    const publisher = await join('publisher')

    const acks = new Inbox<Message>()
    const sends: Promise<unknown>[] = []
    let sent = 0
    const timer = setInterval(() => {
      sends.push(
        publisher.send(`m${++sent}`).then((message) => {
          tally.ack(message)
          acks.push(message)
        }),
      )
    }, SEND_EVERY)

    const downtimes: number[] = []
    try {
      for (let k = 0; k < KILLS; k++) {
        const target = acks.items.length + 4
        await acks.next(() => acks.items.length >= target, 10_000, `${target} acks`)
        const killedAt = Date.now()
        await relay.kill('SIGKILL')
        // Publishes keep being attempted against the dead relay until it is back.
        await relay.restart()
        proxy.retarget({ port: relay.port })
        downtimes.push(Date.now() - killedAt)
      }
      const target = acks.items.length + 4
      await acks.next(() => acks.items.length >= target, 10_000, `${target} acks after the last restart`)
    } finally {
      clearInterval(timer)
    }
    const settled = await Promise.allSettled(sends)
    const failed = settled.filter((s) => s.status === 'rejected')
    const complete = await deliveries
      .next(() => tally.complete(), 10_000)
      .then(
        () => true,
        () => false,
      )
    wire.stop()

    const verdicts = tally.verdicts()
    console.log(
      `sqlite restart: ${KILLS} SIGKILLs, down ${downtimes.join(', ')} ms, ${sent} sent, ${tally.acked.size} acked, ` +
        `${failed.length} rejected; ${JSON.stringify(verdicts)}; wire listener: ${wire.stats.reconnects} reconnects, ` +
        `${wire.stats.unrecovered} unrecovered joins`,
    )
    expect(failed).toEqual([])
    expect(tally.acked.size).toBe(sent)
    expect(complete).toBe(true)
    expect(verdicts.map(({ lost, duplicates, outOfOrder, gaps }) => ({ lost, duplicates, outOfOrder, gaps }))).toEqual(
      verdicts.map(() => ({ lost: 0, duplicates: 0, outOfOrder: 0, gaps: 0 })),
    )
    expect(resets).toEqual([])
    expect(wire.stats).toMatchObject({ gaps: 0, duplicates: 0, unrecovered: 0 })
    expect(wire.stats.reconnects).toBeGreaterThanOrEqual(KILLS)
    // The guest resume secret lives in the file: the publisher stayed one member across restarts.
    expect(new Set(acks.items.map((m) => m.from.id)).size).toBe(1)

    // The file, read through the last process, holds each acked message once, at its acked offset.
    const reader = await WireClient.open(relay.url, 'reader')
    try {
      const { messages } = await reader.join(room, { history: 1000 })
      const ids = messages.map((m) => m.id)
      expect(new Set(ids).size).toBe(ids.length)
      expect(messages.map((m) => m.offset)).toEqual(messages.map((_, i) => i + 1))
      for (const [id, offset] of tally.acked) expect(messages.find((m) => m.id === id)?.offset).toBe(offset)
    } finally {
      reader.close()
    }
  }, 90_000)
})

describe('a SQLite relay on a file it cannot use', () => {
  it('exits 2 at start with one line naming the file and the problem', async () => {
    const file = join(dir, 'corrupt.db')
    writeFileSync(file, 'this is no database '.repeat(500))
    const result = await run(file)
    expect(result.exit).toBe(2)
    expect(result.log).toBe(
      `cannot use ${file} as the Confab data file: file is not a database (SQLITE_NOTADB; it is not a SQLite file, or its header is damaged)\n`,
    )
  })
})
