import { once } from 'node:events'
import type { Redis } from 'ioredis'
import type { Broker, BrokerEvent, BrokerHandler } from '../broker/types'
import { type Entry, isUpdate, StoreUnavailableError } from '../store/types'
import { guarded, storeError } from './guard'
import { RedisKeys } from './keys'

/** Options of the Redis broker. */
export interface RedisBrokerOptions {
  /** Channel names (default prefix 'confab:'). */
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
 */
export class RedisBroker implements Broker {
  readonly #publisher: Redis
  readonly #subscriber: Redis
  readonly #keys: RedisKeys
  readonly #latest: ((room: string) => Promise<Entry | undefined>) | undefined
  readonly #onError: (error: unknown) => void
  /** Channel -> room, for every room this node wants, subscribed or not yet. */
  readonly #rooms = new Map<string, string>()
  readonly #closing = new AbortController()
  #handler: BrokerHandler | null = null

  constructor(publisher: Redis, subscriber: Redis, options: RedisBrokerOptions = {}) {
    this.#publisher = publisher
    this.#subscriber = subscriber
    this.#keys = options.keys ?? new RedisKeys()
    this.#latest = options.latest
    this.#onError = options.onError ?? ((error) => console.error('confab broker:', error))
    // We resubscribe ourselves (autoResubscribe must be off) so we know when it is done and can catch up.
    subscriber.on('ready', this.#resubscribe)
    subscriber.on('message', this.#receive)
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
      await guarded(this.#subscriber.subscribe(channel))
    } catch (error) {
      this.#rooms.delete(channel)
      throw error
    }
  }

  async unsubscribe(room: string): Promise<void> {
    const channel = this.#keys.channel(room)
    if (!this.#rooms.delete(channel)) return
    try {
      await guarded(this.#subscriber.unsubscribe(channel))
    } catch (error) {
      // A lost connection already dropped the subscription, and the room is
      // no longer in the set the reconnect resubscribes to.
      if (!(error instanceof StoreUnavailableError)) throw error
    }
  }

  async publish(room: string, event: BrokerEvent): Promise<void> {
    await guarded(this.#publisher.publish(this.#keys.channel(room), JSON.stringify(event)))
  }

  /** Forgets every room and the handler; the backend quits the connections. */
  async close(): Promise<void> {
    this.#closing.abort()
    this.#subscriber.off('ready', this.#resubscribe)
    this.#subscriber.off('message', this.#receive)
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
          if (this.#publisher.status === 'ready') continue // a timeout on a live connection: just retry
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
