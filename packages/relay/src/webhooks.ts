import { createHash, createHmac, randomUUID } from 'node:crypto'
import type { Message, Update } from '@confab/sdk/protocol'
import { Counter, Gauge } from 'prom-client'
import { withoutMine } from './changes'
import type { Metrics } from './metrics'
import type { QueuedEvent, Store } from './store/types'

/** The event types a receiver may get (docs/webhooks.md). */
export type WebhookType =
  | 'message.created'
  | 'message.updated'
  | 'message.deleted'
  | 'conversation.created'
  | 'conversation.updated'

/** The `Confab-Signature` header value of a body sent at `t` (unix seconds). */
export function signature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`
}

/** A UUID-shaped id that is the same for the same text. */
function eventId(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** Options of `Webhooks`. */
export interface WebhooksOptions {
  store: Store
  url: string
  secret: string
  /** Give up on an event this long after it was made, in ms (dead-lettered). */
  maxAge: number
  /** Time one POST may take, in ms (default 10,000). */
  timeout?: number
  metrics: Metrics
  logger: { error(object: object, message: string): void; warn(object: object, message: string): void }
  /** First retry delay in ms, doubled each time up to `maxDelay` (defaults 1,000 and 300,000). */
  baseDelay?: number
  maxDelay?: number
  /** How often an idle deliverer looks at the queue, in ms (default 1,000); a new event wakes it at once. */
  pollInterval?: number
  now?: () => number
}

/** How long a node's delivery lease lasts without renewal: another node takes over within this after a crash. */
const LEASE_TTL = 15_000

/**
 * Signed webhooks: events are queued in the store (so a restart loses none)
 * and delivered by one node of the cluster at a time (the one holding the
 * store's lease) strictly in queue order, so events of a room arrive in
 * order. A failed POST is retried with exponential backoff until the event is
 * `maxAge` old, then dead-lettered; the queue waits behind it meanwhile,
 * since skipping ahead would break the order. Delivery is at least once: a
 * node that dies after a POST succeeded but before removing the event has it
 * sent again by the next holder, with the same event id for receivers to dedupe.
 */
export class Webhooks {
  readonly #o: WebhooksOptions
  readonly #owner = randomUUID()
  readonly #now: () => number
  readonly #delivered: Counter<'outcome'>
  readonly #queued: Gauge
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #again = false
  #stopped = false
  readonly #abort = new AbortController()

  constructor(options: WebhooksOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    const registers = [options.metrics.registry]
    this.#delivered = new Counter({
      name: 'confab_webhook_deliveries_total',
      help: 'Webhook POST attempts, by outcome (ok, failed, dead)',
      labelNames: ['outcome'],
      registers,
    })
    this.#queued = new Gauge({
      name: 'confab_webhook_blocked',
      help: 'Webhook queue waiting on a failing receiver (1) or drained (0)',
      registers,
    })
  }

  start(): void {
    this.#schedule(0)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    // An attempt in flight is cut: the event stays queued and goes out after the restart.
    this.#abort.abort()
    if (this.#timer !== null) clearTimeout(this.#timer)
    await this.#running
  }

  /** Queues `message.created` for a newly stored message. */
  /**
   * Queues `message.created`, also for a duplicate resend: its id comes from
   * the message's place in the room, so a resend of a message whose event is
   * still queued adds nothing, and one whose event was lost (the relay died
   * between storing and queueing) queues it after all. A resend after delivery
   * sends it again, with the same id.
   */
  messageCreated(message: Message, epoch: string): Promise<void> {
    const id = eventId(`message.created\n${epoch}\n${message.room}\n${message.offset}`)
    return this.emit('message.created', message.room, { room: message.room, message }, id, message.ts)
  }

  /**
   * Queues `message.updated` for an edit or `message.deleted` for a delete, with the message's state after
   * it (reactions send nothing). Its id comes from the change's place in the room, so a resend queues nothing twice.
   */
  messageChanged(update: Update, epoch: string): Promise<void> {
    if (update.action === 'react' || update.message === null) return Promise.resolve()
    const type = update.action === 'edit' ? 'message.updated' : 'message.deleted'
    const id = eventId(`${type}\n${epoch}\n${update.room}\n${update.offset}`)
    return this.emit(type, update.room, { room: update.room, message: withoutMine(update.message) }, id, update.ts)
  }

  /** Queues `message.deleted` (erasure: the message is the tombstone). */
  messageDeleted(message: Message): Promise<void> {
    return this.emit('message.deleted', message.room, { room: message.room, message })
  }

  /**
   * Queues `conversation.created` or `conversation.updated` with data
   * `{ conversation }`; the conversations code calls it. Ordered with the
   * conversation room's messages when `room` is its room.
   */
  conversationEvent(type: 'conversation.created' | 'conversation.updated', room: string, conversation: object) {
    return this.emit(type, room, { conversation })
  }

  /** Queues any event durably and wakes the deliverer. */
  async emit(type: WebhookType, room: string, data: object, id: string = randomUUID(), createdAt = this.#now()) {
    const body = JSON.stringify({ id, type, createdAt, data })
    const event: QueuedEvent = { id, room, body, createdAt, attempts: 0, next: 0 }
    await this.#o.store.pushEvent(event)
    this.#schedule(0)
  }

  #schedule(delay: number): void {
    if (this.#stopped) return
    if (this.#running !== null) {
      if (delay === 0) this.#again = true
      return
    }
    if (this.#timer !== null) {
      if (delay > 0) return
      clearTimeout(this.#timer)
    }
    this.#timer = setTimeout(() => {
      this.#timer = null
      let wait = this.#o.pollInterval ?? 1000
      this.#running = this.#drain()
        .then((next) => {
          wait = next
        })
        .finally(() => {
          this.#running = null
          const again = this.#again
          this.#again = false
          this.#schedule(again ? 0 : wait)
        })
    }, delay)
    this.#timer.unref()
  }

  /**
   * Delivers queued events in order while this node holds the lease and the
   * receiver takes them; resolves with how long to wait before looking again.
   */
  async #drain(): Promise<number> {
    const { store } = this.#o
    const poll = this.#o.pollInterval ?? 1000
    try {
      while (!this.#stopped) {
        if (!(await store.lease(this.#owner, LEASE_TTL))) return poll
        const [event] = await store.peekEvents(1)
        if (event === undefined) {
          this.#queued.set(0)
          return poll
        }
        const now = this.#now()
        // A retry not due yet: wait for it, but wake often enough to renew the lease.
        if (event.next > now) return Math.min(event.next - now, LEASE_TTL / 3)
        const ok = await this.#post(event)
        if (ok) {
          this.#delivered.inc({ outcome: 'ok' })
          await store.finishEvent(event.id)
          continue
        }
        if (this.#stopped) break
        this.#delivered.inc({ outcome: 'failed' })
        const attempts = event.attempts + 1
        const delay = Math.min(this.#o.maxDelay ?? 300_000, (this.#o.baseDelay ?? 1000) * 2 ** (attempts - 1))
        if (this.#now() + delay - event.createdAt > this.#o.maxAge) {
          this.#delivered.inc({ outcome: 'dead' })
          this.#o.logger.warn({ event: event.id, attempts }, 'webhook event dead-lettered')
          await store.finishEvent(event.id, `gave up after ${attempts} attempts`)
          continue
        }
        await store.retryEvent(event.id, attempts, this.#now() + delay)
        this.#queued.set(1)
      }
    } catch (error) {
      this.#o.logger.error({ err: error }, 'webhook delivery failed')
    }
    return poll
  }

  async #post(event: QueuedEvent): Promise<boolean> {
    const t = Math.floor(this.#now() / 1000)
    try {
      const response = await fetch(this.#o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'confab-signature': signature(this.#o.secret, t, event.body) },
        body: event.body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#o.timeout ?? 10_000), this.#abort.signal]),
      })
      await response.body?.cancel()
      return response.status >= 200 && response.status < 300
    } catch {
      return false
    }
  }
}
