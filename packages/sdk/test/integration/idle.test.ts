// An idle but healthy link stays open at any heartbeat (DESIGN.md section 4): the SDK's own
// pings, answered by the real relay, keep renewing the deadline when nobody says anything.
import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { SocketConstructor } from '../../src/client'
import { client, closeClients, joinedRoom, startRelay } from './support'

/** Milliseconds: a short heartbeat, so several intervals pass within the test. */
const HEARTBEAT = 1_000

let relay: Relay
beforeAll(async () => {
  relay = await startRelay({ heartbeat: HEARTBEAT })
})
afterEach(closeClients)
afterAll(async () => {
  await relay.stop()
})

/** `ws`, counting the sockets made and the `pong` frames they receive. */
function counting() {
  const seen = { sockets: 0, pongs: 0, waiters: [] as { n: number; resolve: () => void }[] }
  class Counting extends WebSocket {
    constructor(url: string, protocols: string) {
      super(url, protocols)
      seen.sockets++
      this.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'pong') return
        seen.pongs++
        for (const w of seen.waiters.filter((w) => seen.pongs >= w.n)) w.resolve()
      })
    }
  }
  const pongs = (n: number, ms = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${seen.pongs} pongs, wanted ${n}`)), ms)
      seen.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  return { seen, pongs, WebSocket: Counting as unknown as SocketConstructor }
}

describe('an idle link on a real relay', () => {
  it('stays open across several heartbeat intervals: the SDK pings, the relay answers', async () => {
    const { seen, pongs, WebSocket } = counting()
    const c = client(relay.url, { name: 'Idle', WebSocket })
    const statuses: string[] = []
    c.on('status', (s) => statuses.push(s))
    const room = c.join('idle-1')
    await joinedRoom(room)
    // One ping per half interval of silence: six answers span at least three whole intervals.
    await pongs(6)
    expect(c.status).toBe('open')
    expect(statuses).toEqual(['open'])
    expect(seen.sockets).toBe(1)
  })
})
