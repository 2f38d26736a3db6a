// @confab/relay: the public surface, export by export.

// `server.plugins.confab` typed in apps that import anything from here.
import './augment'
import type { RedisBackend, RedisBackendOptions, RedisTarget } from './redis/backend'

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
/** A refusal the relay answers a client (or an embedder's `edit`/`delete`) with: a stable `code` and a message. */
export { ClientError } from './errors'
/** Mount the relay in an existing hapi app. */
export { type ChangeOptions, type ConfabApi, confab, VERSION } from './plugin'
export type { Presence, PresenceGoneHandler } from './presence/types'
export type {
  RedisBackend,
  RedisBackendOptions,
  RedisClusterNodes,
  RedisSentinels,
  RedisTarget,
} from './redis/backend'
/** Build a standalone relay. */
export { createRelay, type Relay } from './relay'
/** The SQLite store (one file) with in-memory fan-out and presence: a durable single node (see docs/storage.md). */
export { createSqliteBackend, type SqliteBackend, type SqliteBackendOptions } from './sqlite'
export {
  type AppendResult,
  type ChangeDraft,
  ChangeRefusedError,
  type ChangeResult,
  type Draft,
  type Entry,
  isUpdate,
  type ReadState,
  type RoomState,
  type Store,
  StoreUnavailableError,
} from './store/types'

/**
 * The Redis store, broker and presence, for embedders who build or share them (see docs/scaling.md).
 * Connects to Redis (a URL, `{ sentinels, name }` for a Sentinel-managed one, or `{ cluster }` for a Redis
 * Cluster) and returns them once
 * the connections are up; rejects with a readable error when Redis cannot be reached. ioredis is loaded on the first call, so an app that never uses
 * Redis never loads it.
 */
export async function createRedisBackend(
  target: RedisTarget,
  options: RedisBackendOptions = {},
): Promise<RedisBackend> {
  const redis = await import('./redis/backend')
  return redis.createRedisBackend(target, options)
}
