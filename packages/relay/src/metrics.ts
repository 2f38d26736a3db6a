import type { ErrorCode } from '@confab/sdk/protocol'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

/**
 * The relay's Prometheus metrics, in a registry of its own (two relays in
 * one process do not collide). Names start with `confab_`; labels never
 * carry user or room ids, which would make the series count unbounded.
 */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry()
  /** Open WebSocket connections. */
  readonly connections: Gauge
  /** Rooms with at least one local subscriber. */
  readonly rooms: Gauge
  /** Messages accepted from clients and the HTTP API (duplicates excluded). */
  readonly messagesIn: Counter
  /** Message frames written to sockets. */
  readonly messagesOut: Counter
  /** Error frames and HTTP errors sent, by code. */
  readonly errors: Counter<'code'>
  /** Sockets cut because their send queue passed the bound. */
  readonly sendQueueDrops: Counter
  /** Sockets closed, by close code. */
  readonly closes: Counter<'code'>
  /** Bytes waiting in send queues, summed at scrape time (not on the hot path). */
  readonly sendQueueBytes: Gauge
  #queued: () => number = () => 0

  constructor() {
    const registers = [this.registry]
    this.connections = new Gauge({ name: 'confab_connections', help: 'Open WebSocket connections', registers })
    this.rooms = new Gauge({ name: 'confab_rooms', help: 'Rooms with local subscribers', registers })
    this.messagesIn = new Counter({ name: 'confab_messages_in_total', help: 'Messages stored', registers })
    this.messagesOut = new Counter({
      name: 'confab_messages_out_total',
      help: 'Message frames sent to sockets',
      registers,
    })
    this.errors = new Counter({
      name: 'confab_errors_total',
      help: 'Errors sent to clients, by code',
      labelNames: ['code'],
      registers,
    })
    this.sendQueueDrops = new Counter({
      name: 'confab_send_queue_drops_total',
      help: 'Sockets closed for a full send queue',
      registers,
    })
    this.closes = new Counter({
      name: 'confab_closes_total',
      help: 'Sockets closed by the relay, by close code',
      labelNames: ['code'],
      registers,
    })
    const queued = () => this.#queued()
    this.sendQueueBytes = new Gauge({
      name: 'confab_send_queue_bytes',
      help: 'Bytes queued to sockets, all connections together',
      registers,
      collect() {
        this.set(queued())
      },
    })
    // Process metrics include confab_nodejs_eventloop_lag_seconds.
    collectDefaultMetrics({ register: this.registry, prefix: 'confab_' })
  }

  /** Sets how `confab_send_queue_bytes` is measured when scraped. */
  measureQueue(queued: () => number): void {
    this.#queued = queued
  }

  /** Counts one error sent to a client. */
  error(code: ErrorCode): void {
    this.errors.inc({ code })
  }
}
