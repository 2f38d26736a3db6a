// The two sides of the failover tests (sentinel.test.ts, cluster-failover.test.ts): publishers
// that speak the wire protocol, so the test sees every frame the relay answers with, and resend
// each message with its id until acked, as the SDK would; and SDK listeners behind the balancer.
import { randomUUID } from 'node:crypto'
import { type Client, connect, type Message } from '@confab/sdk'
import type { AckFrame, ErrorFrame } from '@confab/sdk/protocol'
import { expect } from 'vitest'
import WebSocket from 'ws'
import { Inbox } from '../storage/inbox'
import type { Tally, Verdict } from './tally'
import type { WireClient } from './wire-client'

/** Below the relay's default 10 publishes per second per connection. */
export const SEND_EVERY = 125 // ms

/** One ack: when it came, in which room, at which offset. */
export interface Acked {
  at: number
  room: string
  offset: number
}

export class Publisher {
  /** Error codes the relay answered with, in order. */
  readonly refusals: string[] = []
  /** When each refusal came (unix ms) and what it said. */
  readonly refused: { at: number; message: string }[] = []
  /** Publishes with no answer within the wire client's 5 s. */
  unanswered = 0
  /** Longest time from a message's first send to its ack, in ms. */
  longest = 0
  #stopped = false
  #done: Promise<void> = Promise.resolve()

  constructor(
    readonly client: WireClient,
    readonly room: string,
    readonly tally: Tally,
    readonly acks: Inbox<Acked>,
  ) {}

  /** Publishes one message every SEND_EVERY ms; each is resent with its id until acked, waiting out any `retryAfter`. */
  start(): void {
    this.#done = (async () => {
      for (let n = 1; !this.#stopped; n++) {
        const id = randomUUID()
        const first = Date.now()
        while (!this.#stopped) {
          const answer: AckFrame | ErrorFrame | null = await this.client
            .publish(this.room, `${this.client.user.name} ${n}`, id)
            .catch(() => null)
          if (answer?.type === 'ack') {
            this.tally.ack({ id, offset: answer.offset } as Message)
            this.longest = Math.max(this.longest, Date.now() - first)
            this.acks.push({ at: Date.now(), room: this.room, offset: answer.offset })
            break
          }
          if (answer === null) this.unanswered++
          else {
            this.refusals.push(answer.code)
            this.refused.push({ at: Date.now(), message: answer.message })
          }
          await new Promise((resolve) => setTimeout(resolve, answer?.retryAfter ?? SEND_EVERY))
        }
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY))
      }
    })()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#done
  }
}

/** SDK listeners and what they saw: status changes, errors, every delivery, resets. */
export class Listeners {
  readonly statuses: string[] = []
  readonly errors: string[] = []
  readonly deliveries = new Inbox<Message>()
  readonly resets: unknown[] = []

  /** Connects `name` to `url` with a quick reconnect, joins `room`, records into `tally`; resolves once open. */
  async add(url: string, name: string, room: string, tally: Tally): Promise<Client> {
    const client = connect(url, { WebSocket: WebSocket as never, name, reconnect: { minDelay: 50, maxDelay: 500 } })
    const opened = new Inbox<string>()
    client.on('status', (status) => {
      this.statuses.push(`${name}: ${status}`)
      opened.push(status)
    })
    client.on('error', (error) => this.errors.push(`${name}: ${error.code}`))
    const joined = client.join(room)
    const record = tally.listener(name)
    joined.on('message', (message) => {
      record(message)
      this.deliveries.push(message)
    })
    joined.on('reset', (info) => this.resets.push(info))
    await opened.next((status) => status === 'open', 5000, `${name} open`)
    return client
  }

  /**
   * Asserts what a failover must not do to listeners: lose, duplicate, reorder or skip a message
   * (per `verdicts`), leave `complete` false, reset a room, report an error, or drop a socket
   * (each listener's only status is the first `open`, in `names` order).
   */
  expectUndisturbed(verdicts: Verdict[], complete: boolean, names: string[]): void {
    expect(verdicts.map(({ lost, duplicates, outOfOrder, gaps }) => ({ lost, duplicates, outOfOrder, gaps }))).toEqual(
      verdicts.map(() => ({ lost: 0, duplicates: 0, outOfOrder: 0, gaps: 0 })),
    )
    expect(complete).toBe(true)
    expect(this.resets).toEqual([])
    expect(this.errors).toEqual([])
    expect(this.statuses).toEqual(names.map((name) => `${name}: open`))
  }
}
