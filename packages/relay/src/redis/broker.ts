import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { Cluster, Redis } from 'ioredis'
import type { Broker, BrokerEvent, BrokerHandler } from '../broker/types'
import { type Entry, isUpdate, StoreUnavailableError } from '../store/types'
import { guarded, storeError } from './guard'
import { RedisKeys } from './keys'

/** Pause before a cluster catch-up read is retried, in ms: a failover takes seconds. */
const CLUSTER_RETRY = 250

/** Waits `ms`; false when aborted. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return delay(ms, undefined, { signal }).then(
    () => true,
    () => false,
  )
}

/** Options of the Redis broker. */
export interface RedisBrokerOptions {
  /** Channel names (default prefix 'confab:'); cluster names (`new RedisKeys(prefix, true)`) with a `Cluster`. */
  keys?: RedisKeys
  /**
   * The room's newest stored message. After the subscriber connection comes
   * back, the broker hands it to the handler as a `message` event for every
   * subscribed room, so the registry's gap fill fetches whatever pub/sub
   * dropped meanwhile instead of waiting for the room's next message.
   */
  latest?: (room: string) => Promise<Entry | undefined>
  /** Where failures that reach no caller go (default: console.error). */
  onError?: (error: unknown) => void
}

/**
 * Fan-out over Redis pub/sub: one channel per room, one subscriber connection
 * per node (`subscriber`, which this class puts in subscriber mode) and
 * PUBLISH on the shared command connection (`publisher`). Only SUBSCRIBE on
 * encoded names, never PSUBSCRIBE, so a room name cannot act as a pattern.
 * Both connections are the caller's and must have the offline queue off.
 *
 * On a Redis Cluster (cluster key names; publisher and subscriber are the same
 * `Cluster`, made with `shardedSubscribers`), sharded pub/sub: SPUBLISH and
 * SSUBSCRIBE, so a room's events stay on the shard of its slot. ioredis
 * resubscribes after a topology change (a failover) itself; the broker then
 * catches up as after a reconnect.
 */
export class RedisBroker implements Broker {
  readonly #publisher: Redis
  readonly #subscriber: Redis
  readonly #keys: RedisKeys
  readonly #sharded: boolean
  readonly #latest: ((room: string) => Promise<Entry | undefined>) | undefined
  readonly #onError: (error: unknown) => void
  /** Channel -> room, for every room this node wants, subscribed or not yet. */
  readonly #rooms = new Map<string, string>()
  readonly #closing = new AbortController()
  #handler: BrokerHandler | null = null

  constructor(publisher: Redis | Cluster, subscriber: Redis | Cluster, options: RedisBrokerOptions = {}) {
    this.#publisher = publisher as Redis
    this.#subscriber = subscriber as Redis
    this.#keys = options.keys ?? new RedisKeys()
    this.#sharded = this.#keys.cluster
    this.#latest = options.latest
    this.#onError = options.onError ?? ((error) => console.error('confab broker:', error))
    if (this.#sharded) {
      subscriber.on('subscribersReady', this.#caughtUp)
      subscriber.on('smessage', this.#receive)
    } else {
      // We resubscribe ourselves (autoResubscribe must be off) so we know when it is done and can catch up.
      subscriber.on('ready', this.#resubscribe)
      subscriber.on('message', this.#receive)
    }
  }

  get ready(): boolean {
    return this.#publisher.status === 'ready' && this.#subscriber.status === 'ready'
  }

  async start(handler: BrokerHandler): Promise<void> {
    this.#handler = handler
  }

  async subscribe(room: string): Promise<void> {
    const channel = this.#keys.channel(room)
    if (this.#rooms.has(channel)) return
    this.#rooms.set(channel, room)
    try {
      await guarded(this.#sharded ? this.#subscriber.ssubscribe(channel) : this.#subscriber.subscribe(channel))
    } catch (error) {
      this.#rooms.delete(channel)
      throw error
    }
  }

  async unsubscribe(room: string): Promise<void> {
    const channel = this.#keys.channel(room)
    if (!this.#rooms.delete(channel)) return
    try {
      await guarded(this.#sharded ? this.#subscriber.sunsubscribe(channel) : this.#subscriber.unsubscribe(channel))
    } catch (error) {
      // A lost connection already dropped the subscription, and the room is
      // no longer in the set the reconnect resubscribes to.
      if (!(error instanceof StoreUnavailableError)) throw error
    }
  }

  async publish(room: string, event: BrokerEvent): Promise<void> {
    const channel = this.#keys.channel(room)
    const payload = JSON.stringify(event)
    await guarded(
      this.#sharded ? this.#publisher.spublish(channel, payload) : this.#publisher.publish(channel, payload),
    )
  }

  /** Forgets every room and the handler; the backend quits the connections. */
  async close(): Promise<void> {
    this.#closing.abort()
    this.#subscriber.off('ready', this.#resubscribe)
    this.#subscriber.off('message', this.#receive)
    this.#subscriber.off('subscribersReady', this.#caughtUp)
    this.#subscriber.off('smessage', this.#receive)
    this.#rooms.clear()
    this.#handler = null
  }

  readonly #receive = (channel: string, payload: string): void => {
    const room = this.#rooms.get(channel)
    if (room === undefined || !this.#handler) return
    let event: BrokerEvent
    try {
      event = JSON.parse(payload) as BrokerEvent
    } catch (error) {
      this.#onError(new Error(`unreadable event on ${channel}`, { cause: error }))
      return
    }
    this.#handler(room, event)
  }

  /** On every (re)connect of the subscriber: subscribe to every wanted room, then catch up. */
  readonly #resubscribe = (): void => {
    const channels = [...this.#rooms.keys()]
    if (channels.length === 0) return
    this.#subscriber
      .subscribe(...channels)
      .then(
        () => this.#catchUp(channels),
        // The connection dropped again; its next 'ready' runs this once more.
        (error: unknown) => this.#report(error),
      )
      .catch(this.#onError)
  }

  /** Sharded: ioredis has resubscribed every channel after a topology change; catch up on all. */
  readonly #caughtUp = (): void => {
    const channels = [...this.#rooms.keys()]
    if (channels.length > 0) this.#catchUp(channels).catch(this.#onError)
  }

  /** Re-delivers each room's head, waiting for the command connection if it is down too. */
  async #catchUp(channels: string[]): Promise<void> {
    if (!this.#latest) return
    for (const channel of channels) {
      for (;;) {
        const room = this.#rooms.get(channel)
        if (room === undefined || this.#closing.signal.aborted) break
        try {
          const entry = await this.#latest(room)
          if (entry && this.#rooms.has(channel)) {
            this.#handler?.(
              room,
              isUpdate(entry) ? { type: 'update', update: entry } : { type: 'message', message: entry },
            )
          }
          break
        } catch (error) {
          if (!(storeError(error) instanceof StoreUnavailableError)) {
            this.#report(error)
            break
          }
          if (this.#publisher.status === 'ready') {
            // A timeout on a live connection: just retry. On a cluster, the room's master may be failing
            // over while the cluster is up: give it a moment.
            if (this.#sharded && !(await pause(CLUSTER_RETRY, this.#closing.signal))) return
            continue
          }
          const back = await once(this.#publisher, 'ready', { signal: this.#closing.signal }).then(
            () => true,
            () => false, // aborted: the broker is closing
          )
          if (!back) return
        }
      }
    }
  }

  #report(error: unknown): void {
    if (storeError(error) instanceof StoreUnavailableError) return // the connection's own 'error' events say this
    this.#onError(error)
  }
}
