import type { Broker, BrokerEvent, BrokerHandler } from './types'

/** One process: an event goes straight to this node's handler, for rooms it subscribed to. */
export class MemoryBroker implements Broker {
  readonly ready = true
  #handler: BrokerHandler | null = null
  readonly #rooms = new Set<string>()

  async start(handler: BrokerHandler): Promise<void> {
    this.#handler = handler
  }

  async subscribe(room: string): Promise<void> {
    this.#rooms.add(room)
  }

  async unsubscribe(room: string): Promise<void> {
    this.#rooms.delete(room)
  }

  async publish(room: string, event: BrokerEvent): Promise<void> {
    if (this.#rooms.has(room)) this.#handler?.(room, event)
  }

  async close(): Promise<void> {
    this.#rooms.clear()
    this.#handler = null
  }
}
