import { randomBytes, randomUUID } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Broker } from '../broker/types'
import type { Presence } from '../presence/types'
import { type Store, StoreUnavailableError } from '../store/types'
import { RedisBroker } from './broker'
import { RedisKeys } from './keys'
import { RedisPresence } from './presence'
import { RedisStore } from './store'

/** Store, broker and presence over one Redis deployment. */
export interface RedisBackend {
  store: Store
  broker: Broker
  presence: Presence
  /**
   * The secret that signs guest `resume` strings, shared by every node on this prefix and kept
   * across restarts (stored in Redis by the first node to start), so a guest keeps its id.
   */
  resumeSecret: string
  /** Closes the three and quits both connections. */
  close(): Promise<void>
}

/** Options of `createRedisBackend`. */
export interface RedisBackendOptions {
  /** Messages retained per room (default 1,000). */
  historyLimit?: number
  /** How long a publish id is remembered, in ms (default 600,000 = 10 minutes). */
  idempotencyWindow?: number
  /** Namespace of every key and channel (default 'confab:'); lets several deployments share one Redis. */
  prefix?: string
  /** This node's id in presence and in Redis connection names, [A-Za-z0-9_.-] (default: a random UUID). */
  nodeId?: string
  /** Milliseconds a command may take before it fails as `unavailable` (default 5,000). */
  commandTimeout?: number
  /** Milliseconds to wait for the first connection before start-up fails (default 10,000). */
  connectTimeout?: number
  /** Longest pause between reconnect attempts, in ms (default 5,000; the first is about 100). */
  maxReconnectDelay?: number
  /** Presence tuning, in ms: heartbeat (default 10,000), node TTL (30,000), sweep (5,000). */
  heartbeatInterval?: number
  nodeTtl?: number
  sweepInterval?: number
  /** Where connection losses and background failures go (default: console.error). */
  onError?: (error: unknown) => void
}

/**
 * Connects to Redis and returns the shared store, broker and presence of a
 * multi-node deployment. Two connections per node: one for commands (store,
 * presence, PUBLISH) and one in subscriber mode. Both fail commands at once
 * while disconnected (no offline queue), so the relay answers `unavailable`
 * instead of hanging, and reconnect with capped, jittered backoff forever.
 * Rejects with a readable error when Redis cannot be reached at start.
 */
export async function createRedisBackend(url: string, options: RedisBackendOptions = {}): Promise<RedisBackend> {
  const onError = options.onError ?? ((error: unknown) => console.error('confab redis:', error))
  const maxDelay = options.maxReconnectDelay ?? 5000 // 5 seconds
  const connection: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // A command in flight when the link drops fails at the first reconnect attempt instead of being replayed later.
    maxRetriesPerRequest: 0,
    autoResubscribe: false, // the broker resubscribes itself, then catches up
    commandTimeout: options.commandTimeout ?? 5000, // 5 seconds
    connectTimeout: options.connectTimeout ?? 10_000, // 10 seconds
    // RESP2: a subscribed RESP3 client is not type "pubsub" to Redis, which would escape the pubsub output buffer limit.
    protocol: 2,
    retryStrategy: (attempt) =>
      Math.round(Math.min(maxDelay, 100 * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2)),
  }
  // The node id names the connections too, so CLIENT LIST shows which relay node holds which.
  const nodeId = options.nodeId ?? randomUUID()
  if (!/^[A-Za-z0-9_.-]+$/.test(nodeId)) throw new Error(`Redis backend nodeId must match [A-Za-z0-9_.-]+`)
  const commands = new Redis(url, { ...connection, connectionName: `confab-${nodeId}-commands` })
  const subscriber = new Redis(url, { ...connection, connectionName: `confab-${nodeId}-subscriber` })
  reportLosses(commands, 'command', onError)
  reportLosses(subscriber, 'subscriber', onError)
  // connect() rejects with a bare "Connection is closed."; the 'error' event before it says why (ECONNREFUSED, auth…).
  let why: Error | undefined
  const remember = (error: Error) => {
    why ??= error
  }
  commands.on('error', remember)
  try {
    await Promise.all([commands.connect(), subscriber.connect()])
  } catch (error) {
    commands.disconnect()
    subscriber.disconnect()
    const cause = why ?? (error as Error)
    throw new StoreUnavailableError(`cannot reach Redis at ${redact(url)}: ${cause.message}`, { cause })
  } finally {
    commands.off('error', remember)
  }

  const keys = new RedisKeys(options.prefix)
  const store = new RedisStore(commands, {
    keys,
    historyLimit: options.historyLimit,
    idempotencyWindow: options.idempotencyWindow,
  })
  const broker = new RedisBroker(commands, subscriber, { keys, latest: (room) => store.latest(room), onError })
  const presence = new RedisPresence(commands, {
    keys,
    nodeId,
    onError,
    heartbeatInterval: options.heartbeatInterval,
    nodeTtl: options.nodeTtl,
    sweepInterval: options.sweepInterval,
  })
  let resumeSecret: string
  try {
    resumeSecret = await sharedSecret(commands, keys.resumeSecret())
    await presence.start()
  } catch (error) {
    commands.disconnect()
    subscriber.disconnect()
    await presence.close() // stops its timers; with the links gone there is nothing to delete
    throw error
  }

  // The relay may close the parts one by one or the backend as a whole; the connections go when all three are closed.
  let open = 3
  const quit = async (): Promise<void> => {
    if (--open > 0) return
    // QUIT fails when the link is already down; then there is nothing to say goodbye to, just stop reconnecting.
    await Promise.all([commands, subscriber].map((redis) => redis.quit().catch(() => redis.disconnect())))
  }
  const once = <T extends { close(): Promise<void> }>(part: T): T => {
    let closed = false
    const close = part.close.bind(part)
    part.close = async () => {
      if (closed) return
      closed = true
      try {
        await close()
      } finally {
        await quit()
      }
    }
    return part
  }
  const backend = { store: once(store), broker: once(broker), presence: once(presence) }
  return {
    ...backend,
    resumeSecret,
    async close() {
      await Promise.all([backend.broker.close(), backend.presence.close(), backend.store.close()])
    },
  }
}

/** The value under `key`, set to a fresh random secret first unless a node did that before (SET NX). */
async function sharedSecret(redis: Redis, key: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX')
  const secret = await redis.get(key)
  if (secret === null) throw new StoreUnavailableError(`Redis lost ${key} right after setting it`)
  return secret
}

/** Logs a lost link once (not every retry) and its recovery, so an outage is two lines, not a flood. */
function reportLosses(redis: Redis, name: string, onError: (error: unknown) => void): void {
  let up = false
  redis.on('ready', () => {
    up = true
  })
  redis.on('error', (error: Error) => {
    if (!up) return
    up = false
    onError(new StoreUnavailableError(`Redis ${name} connection lost: ${error.message}`, { cause: error }))
  })
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}
