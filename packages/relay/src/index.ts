// @confab/relay: the public surface, export by export.

/** Storage interfaces, for custom stores, brokers and presence. */
export type { Broker, BrokerEvent, BrokerHandler } from './broker/types'
/** Options, their defaults, and the error a bad one raises. */
export {
  type AuthOptions,
  type AuthUser,
  ConfigError,
  DEFAULTS,
  type LimitOptions,
  type RedisSettings,
  type RelayOptions,
} from './config'
/** Mount the relay in an existing hapi app. */
export { type ConfabApi, confab, VERSION } from './plugin'
export type { Presence, PresenceGoneHandler } from './presence/types'
/** The Redis store, broker and presence, for embedders who build or share them (see docs/scaling.md). */
export { createRedisBackend, type RedisBackend, type RedisBackendOptions } from './redis/backend'
/** Build a standalone relay. */
export { createRelay, type Relay } from './relay'
/** The SQLite store (one file) with in-memory fan-out and presence: a durable single node (see docs/storage.md). */
export { createSqliteBackend, type SqliteBackend, type SqliteBackendOptions } from './sqlite'
export { type AppendResult, type Draft, type RoomState, type Store, StoreUnavailableError } from './store/types'
