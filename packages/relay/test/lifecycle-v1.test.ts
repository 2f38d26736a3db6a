// A protocol-v1 client written against the docs from before the message lifecycle: it knows welcome, joined,
// ack, message, presence, typing and error frames and ignores any other type, as those docs told it to.
// It must keep working while other members edit, delete and react (issue 14: "v1 compatibility").
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { perTest, relayPerFile, type TestClient, wsUrl } from './helpers'

const relay = relayPerFile()
const t = perTest()

interface OldMessage {
  offset: number
  id: string
  text: string
  from: { id: string; name: string }
}

/** The old client: one room, a position (epoch, offset), messages delivered once in offset order. */
class OldClient {
  readonly ws: WebSocket
  readonly delivered: OldMessage[] = []
  readonly acks = new Map<string, number>()
  epoch = ''
  offset = 0
  #waiters: (() => void)[] = []
  #joined = false

  constructor(url: string) {
    this.ws = new WebSocket(url, ['confab.v1'])
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      switch (frame.type) {
        case 'joined':
          this.epoch = frame.epoch
          for (const m of frame.messages) this.#deliver(m)
          if (this.offset < frame.head && !frame.recovered) this.offset = frame.head
          this.#joined = true
          break
        case 'message':
          this.#deliver(frame)
          break
        case 'ack':
          this.acks.set(frame.ref, frame.offset)
          break
        case 'welcome':
        case 'presence':
        case 'typing':
        case 'error':
          break
        default:
          // "Unknown frame types are ignored."
          break
      }
      for (const wake of this.#waiters.splice(0)) wake()
    })
  }

  /** The old docs: drop a message whose offset was already delivered. */
  #deliver(m: OldMessage): void {
    if (m.offset <= this.offset) return
    this.offset = m.offset
    this.delivered.push(m)
  }

  async until(done: () => boolean, timeout = 5000): Promise<void> {
    const deadline = Date.now() + timeout
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`old client still waiting; delivered ${JSON.stringify(this.delivered)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  async start(room: string, resume = false): Promise<void> {
    await new Promise((resolve, reject) => {
      this.ws.once('open', resolve)
      this.ws.once('error', reject)
    })
    this.ws.send(JSON.stringify({ type: 'hello', name: 'Old' }))
    const join: Record<string, unknown> = { type: 'join', ref: 'j1', room, history: 50 }
    if (resume) join.since = { epoch: this.epoch, offset: this.offset }
    this.ws.send(JSON.stringify(join))
    await this.until(() => this.#joined)
  }

  publish(room: string, ref: string, text: string): void {
    this.ws.send(JSON.stringify({ type: 'publish', ref, room, id: ref, text }))
  }

  close(): void {
    this.ws.close()
  }
}

async function ask(c: TestClient, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = `r${Math.random()}`
  c.send({ ...frame, ref })
  return c.next((f) => f.ref === ref)
}

describe('a protocol-v1 client that knows nothing of the lifecycle', () => {
  it('keeps receiving every message once, in order, publishing and resuming, while others edit, react and delete', async () => {
    const room = 'v1-room'
    const ann = await t.client(relay(), { name: 'Ann' })
    await ann.join(room)
    await ann.publish(room, 'before')

    const old = new OldClient(wsUrl(relay()))
    await old.start(room)
    expect(old.delivered.map((m) => m.text)).toEqual(['before'])

    await ask(ann, { type: 'edit', room, id: 'e1', offset: 1, text: 'before, edited' })
    await ask(ann, { type: 'react', room, id: 'r1', offset: 1, emoji: '👍' })
    await ann.publish(room, 'two')
    old.publish(room, 'o1', 'from the old client')
    await old.until(() => old.acks.has('o1'))
    await ask(ann, { type: 'delete', room, id: 'd1', offset: 1 })
    await ann.publish(room, 'three')
    await old.until(() => old.delivered.length === 4)
    expect(old.delivered.map((m) => m.text)).toEqual(['before', 'two', 'from the old client', 'three'])
    // Offsets only grow (changes take offsets of their own in between).
    expect(old.delivered.map((m) => m.offset)).toEqual([1, 4, 5, 7])
    expect(old.acks.get('o1')).toBe(5)

    // Offline through more changes and a message, then resumed from its position.
    old.close()
    await ask(ann, { type: 'react', room, id: 'r2', offset: 4, emoji: '🎉' })
    await ann.publish(room, 'four')
    const back = new OldClient(wsUrl(relay()))
    back.epoch = old.epoch
    back.offset = old.offset
    await back.start(room, true)
    expect(back.delivered.map((m) => [m.offset, m.text])).toEqual([[9, 'four']])
    await ann.publish(room, 'five')
    await back.until(() => back.delivered.length === 2)
    expect(back.delivered.map((m) => m.text)).toEqual(['four', 'five'])
    back.close()
  })
})
