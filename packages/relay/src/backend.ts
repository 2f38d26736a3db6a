import { MemoryBroker } from './broker/memory'
import type { Broker } from './broker/types'
import { ConfigError, type RelayConfig, type RelayOptions } from './config'
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
   * Secret for guest `resume` strings when none is configured: shared through Redis or kept in the SQLite
   * file, so every node and every restart agree; undefined in memory, where a restart loses the history anyway.
   */
  resumeSecret: string | undefined
  /** Closes what the relay created; injected instances belong to whoever injected them. */
  close(): Promise<void>
}

/** Where the Redis and SQLite backends report connection losses, file errors and background failures. */
export interface BackendLogger {
  error(object: object, message: string): void
}

/** Injected instances first, then Redis when a URL is set, SQLite when a data file is, else memory. */
export async function openBackend(config: RelayConfig, options: RelayOptions, logger: BackendLogger): Promise<Backend> {
  const retention = {
    historyLimit: config.historyLimit,
    idempotencyWindow: config.idempotencyWindow,
    idempotencyLimit: config.idempotencyLimit,
  }
  if (config.redis !== undefined) {
    const { createRedisBackend } = await import('./redis/backend')
    const { url, prefix, sentinels, sentinelName, cluster, waitReplicas } = config.redis
    const target =
      cluster !== undefined
        ? { cluster, url }
        : sentinels === undefined
          ? (url as string)
          : { sentinels, name: sentinelName as string, url }
    const redis = await createRedisBackend(target, {
      ...retention,
      prefix,
      waitReplicas,
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
  if (config.data !== undefined && config.data !== ':memory:') {
    const { createSqliteBackend } = await import('./sqlite/index')
    let sqlite: Awaited<ReturnType<typeof createSqliteBackend>>
    try {
      sqlite = await createSqliteBackend(config.data, {
        ...retention,
        retentionDays: config.retentionDays,
        onError: (error: unknown) => logger.error({ err: error }, 'sqlite'),
      })
    } catch (error) {
      // An unusable file is the operator's to fix, never a reason to serve without the history.
      throw new ConfigError('data', (error as Error).message)
    }
    return {
      store: options.store ?? sqlite.store,
      broker: options.broker ?? sqlite.broker,
      presence: options.presence ?? sqlite.presence,
      resumeSecret: sqlite.resumeSecret,
      close: () => sqlite.close(),
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
