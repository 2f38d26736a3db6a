import { MemoryBroker } from './broker/memory'
import type { Broker } from './broker/types'
import type { RelayConfig, RelayOptions } from './config'
import { MemoryPresence } from './presence/memory'
import type { Presence } from './presence/types'
import { MemoryStore } from './store/memory'
import type { Store } from './store/types'

/** The store, broker and presence a relay runs on, and how to close what it opened. */
export interface Backend {
  store: Store
  broker: Broker
  presence: Presence
  /**
   * Secret for guest `resume` strings when none is configured: shared through Redis, so every node
   * and every restart agree; undefined in memory, where a restart loses the history anyway.
   */
  resumeSecret: string | undefined
  /** Closes what the relay created; injected instances belong to whoever injected them. */
  close(): Promise<void>
}

/** Where the Redis backend reports connection losses and background failures. */
export interface BackendLogger {
  error(object: object, message: string): void
}

/** Injected instances first, then Redis when a URL is set, else memory. */
export async function openBackend(config: RelayConfig, options: RelayOptions, logger: BackendLogger): Promise<Backend> {
  const retention = { historyLimit: config.historyLimit, idempotencyWindow: config.idempotencyWindow }
  if (config.redis !== undefined) {
    const { createRedisBackend } = await import('./redis/backend')
    const redis = await createRedisBackend(config.redis.url, {
      ...retention,
      prefix: config.redis.prefix,
      onError: (error: unknown) => logger.error({ err: error }, 'redis'),
    })
    return {
      store: options.store ?? redis.store,
      broker: options.broker ?? redis.broker,
      presence: options.presence ?? redis.presence,
      resumeSecret: redis.resumeSecret,
      close: () => redis.close(),
    }
  }
  const store = options.store ?? new MemoryStore(retention)
  const broker = options.broker ?? new MemoryBroker()
  const presence = options.presence ?? new MemoryPresence()
  return {
    store,
    broker,
    presence,
    resumeSecret: undefined,
    async close() {
      // Only what this function made: an injected store may be shared with the app.
      await Promise.all([
        options.store ? null : store.close(),
        options.broker ? null : broker.close(),
        options.presence ? null : presence.close(),
      ])
    },
  }
}
