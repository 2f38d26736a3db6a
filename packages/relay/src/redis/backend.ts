import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import type { Broker } from '../broker/types'
import type { Presence } from '../presence/types'
import { type Store, StoreUnavailableError } from '../store/types'
import { RedisBroker } from './broker'
import { RedisKeys } from './keys'
import { RedisPresence } from './presence'
import { ClusterBarrier, confirmWrites, ReplicaBarrier } from './replication'
import { RedisStore } from './store'

/** A Sentinel-managed Redis: where the Sentinels are and the name of the master they watch. */
export interface RedisSentinels {
  /** Sentinel addresses; one reachable Sentinel is enough, the others are found through it. */
  sentinels: { host: string; port: number }[]
  /** The master's name in the Sentinels' configuration (`sentinel monitor NAME ...`). */
  name: string
  /** Optional `redis://` or `rediss://` URL whose user, password and database apply to the master; its host is ignored. */
  url?: string
}

/** A Redis Cluster: some of its nodes (the others are found through them). */
export interface RedisClusterNodes {
  /** Addresses of cluster nodes; one reachable node is enough. */
  cluster: { host: string; port: number }[]
  /** Optional `redis://` or `rediss://` URL whose user and password apply to every node; its host is ignored. */
  url?: string
}

/** Where Redis is: a `redis://` or `rediss://` URL, Sentinels that name the master, or a Redis Cluster. */
export type RedisTarget = string | RedisSentinels | RedisClusterNodes

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
  /** Longest pause between reconnect attempts, in ms (default 5,000, 1,000 with Sentinels; the first is about 100). */
  maxReconnectDelay?: number
  /** Presence tuning, in ms: heartbeat (default 10,000), node TTL (30,000), sweep (5,000). */
  heartbeatInterval?: number
  nodeTtl?: number
  sweepInterval?: number
  /**
   * Replicas that must confirm each write a client is told about (a message, a ban, a conversation
   * update) before it resolves, through Redis WAIT (default 1 with Sentinels or a cluster, else 0: no waiting).
   * Writes the replicas do not confirm within a second fail as `unavailable`.
   */
  waitReplicas?: number
  /** Where connection losses and background failures go (default: console.error). */
  onError?: (error: unknown) => void
}

/**
 * Connects to Redis and returns the shared store, broker and presence of a
 * multi-node deployment. Two connections per node: one for commands (store,
 * presence, PUBLISH) and one in subscriber mode, plus one for WAIT when
 * `waitReplicas` is set. All fail commands at once while disconnected (no
 * offline queue), so the relay answers `unavailable` instead of hanging, and
 * reconnect with capped, jittered backoff forever; with Sentinels, each
 * reconnect asks them for the current master. Rejects with a readable error when Redis cannot be
 * reached at start.
 */
export async function createRedisBackend(
  target: RedisTarget,
  options: RedisBackendOptions = {},
): Promise<RedisBackend> {
  if (typeof target !== 'string' && 'cluster' in target) return createClusterBackend(target, options)
  const onError = options.onError ?? ((error: unknown) => console.error('confab redis:', error))
  // Through Sentinels an attempt is cheap (a question to one) and the new master appears within seconds: retry sooner.
  const maxDelay = options.maxReconnectDelay ?? (typeof target === 'string' ? 5000 : 1000) // 5 seconds; 1 with Sentinels
  const backoff = (attempt: number) =>
    Math.round(Math.min(maxDelay, 100 * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2))
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
    retryStrategy: backoff,
    ...(typeof target === 'string' ? {} : sentinelOptions(target, backoff)),
  }
  const url = typeof target === 'string' ? target : target.url
  const where = typeof target === 'string' ? `at ${redact(target)}` : describe(target)
  const waitReplicas = options.waitReplicas ?? (typeof target === 'string' ? 0 : 1)
  // The node id names the connections too, so CLIENT LIST shows which relay node holds which.
  const nodeId = options.nodeId ?? randomUUID()
  if (!/^[A-Za-z0-9_.-]+$/.test(nodeId)) throw new Error(`Redis backend nodeId must match [A-Za-z0-9_.-]+`)
  const link = (name: string, extra: RedisOptions = {}): Redis => {
    const settings = { ...connection, ...extra, connectionName: `confab-${nodeId}-${name}` }
    return url === undefined ? new Redis(settings) : new Redis(url, settings)
  }
  const commands = link('commands')
  const subscriber = link('subscriber')
  // WAIT holds its connection for up to its own timeout: give it that on top of the command timeout.
  const waiter = waitReplicas > 0 ? link('replicas', { commandTimeout: (connection.commandTimeout ?? 0) + 1000 }) : null
  const links = waiter === null ? [commands, subscriber] : [commands, subscriber, waiter]
  reportLosses(commands, 'command', onError)
  reportLosses(subscriber, 'subscriber', onError)
  if (waiter !== null) reportLosses(waiter, 'replicas', onError)
  // connect() rejects with a bare "Connection is closed."; the 'error' event before it says why (ECONNREFUSED, auth…).
  let why: Error | undefined
  const remember = (error: Error) => {
    why ??= error
  }
  commands.on('error', remember)
  // Through Sentinels, connect() retries forever while none answers: bound the start by the connect timeout.
  let deadline: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => reject(new Error('no answer in time')), connection.connectTimeout)
  })
  try {
    await Promise.race([Promise.all(links.map((redis) => redis.connect())), late])
  } catch (error) {
    for (const redis of links) redis.disconnect()
    const cause = why ?? (error as Error)
    throw new StoreUnavailableError(`cannot reach Redis ${where}: ${cause.message}`, { cause })
  } finally {
    clearTimeout(deadline)
    commands.off('error', remember)
  }

  const keys = new RedisKeys(options.prefix)
  const plain = new RedisStore(commands, {
    keys,
    historyLimit: options.historyLimit,
    idempotencyWindow: options.idempotencyWindow,
  })
  const store =
    waiter === null ? plain : confirmWrites(plain, new ReplicaBarrier(waiter, waitReplicas, `${keys.prefix}replicated`))
  const broker = new RedisBroker(commands, subscriber, { keys, latest: (room) => store.latest(room), onError })
  const presence = presenceOn(commands, keys, nodeId, onError, options)
  let resumeSecret: string
  try {
    resumeSecret = await sharedSecret(commands, keys.resumeSecret())
    await presence.start()
  } catch (error) {
    for (const redis of links) redis.disconnect()
    await presence.close() // stops its timers; with the links gone there is nothing to delete
    throw error
  }

  return closing({ store, broker, presence, resumeSecret }, links)
}

/**
 * The backend over `links`: the relay may close the parts one by one or the backend as a whole; the
 * connections go when all three are closed.
 */
function closing(
  parts: { store: Store; broker: Broker; presence: Presence; resumeSecret: string },
  links: (Redis | Cluster)[],
): RedisBackend {
  let open = 3
  const quit = async (): Promise<void> => {
    if (--open > 0) return
    // QUIT fails when the link is already down; then there is nothing to say goodbye to, just stop reconnecting.
    await Promise.all(links.map((redis) => redis.quit().catch(() => redis.disconnect())))
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
  const backend = { store: once(parts.store), broker: once(parts.broker), presence: once(parts.presence) }
  return {
    ...backend,
    resumeSecret: parts.resumeSecret,
    async close() {
      await Promise.all([backend.broker.close(), backend.presence.close(), backend.store.close()])
    },
  }
}

/** The presence of a node, on its command connection (a single Redis or a cluster). */
function presenceOn(
  commands: ConstructorParameters<typeof RedisPresence>[0],
  keys: RedisKeys,
  nodeId: string,
  onError: (error: unknown) => void,
  options: RedisBackendOptions,
): RedisPresence {
  return new RedisPresence(commands, {
    keys,
    nodeId,
    onError,
    heartbeatInterval: options.heartbeatInterval,
    nodeTtl: options.nodeTtl,
    sweepInterval: options.sweepInterval,
  })
}

/** The value under `key`, set to a fresh random secret first unless a node did that before (SET NX). */
function sharedSecret(redis: Redis | Cluster, key: string): Promise<string> {
  return sharedValue(redis, key, randomBytes(32).toString('base64url'))
}

/** The value under `key`, set to `fresh` first unless a node did that before (SET NX). */
async function sharedValue(redis: Redis | Cluster, key: string, fresh: string): Promise<string> {
  await redis.set(key, fresh, 'NX')
  const value = await redis.get(key)
  if (value === null) throw new StoreUnavailableError(`Redis lost ${key} right after setting it`)
  return value
}

/**
 * The backend on a Redis Cluster. One `Cluster` for commands, with a sharded
 * subscriber per master for the rooms' channels (SSUBSCRIBE), and one more
 * for WAIT when `waitReplicas` is set. Commands to a master that is down fail
 * at once as `unavailable` (no retry inside ioredis, which could reorder a
 * connection's appends); ioredis follows the failover through MOVED replies
 * and slot refreshes. Every script touches one slot; what spans slots is done
 * in separate steps (docs/scaling.md).
 */
async function createClusterBackend(target: RedisClusterNodes, options: RedisBackendOptions): Promise<RedisBackend> {
  const onError = options.onError ?? ((error: unknown) => console.error('confab redis:', error))
  const maxDelay = options.maxReconnectDelay ?? 1000 // 1 second: a failover is over within seconds
  const backoff = (attempt: number) =>
    Math.round(Math.min(maxDelay, 100 * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2))
  const waitReplicas = options.waitReplicas ?? 1
  const nodeId = options.nodeId ?? randomUUID()
  if (!/^[A-Za-z0-9_.-]+$/.test(nodeId)) throw new Error(`Redis backend nodeId must match [A-Za-z0-9_.-]+`)
  const commandTimeout = options.commandTimeout ?? 5000 // 5 seconds
  const connectTimeout = options.connectTimeout ?? 10_000 // 10 seconds
  const auth = credentials(target.url)
  const where = `Cluster ${target.cluster.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(', ')}`
  const link = (name: string, extra: ClusterOptions = {}, timeout = commandTimeout): Cluster =>
    new Cluster(target.cluster, {
      lazyConnect: true,
      enableOfflineQueue: false,
      // A command to a lost master fails at once: the client resends it (idempotently) once the slot has a
      // master again. A retry inside ioredis could run it after appends sent later on the same link.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      // Its CLUSTER INFO goes to a node connection still on its way, which fails at once without an offline
      // queue and sends the whole cluster reconnecting; the masters' connections are awaited below instead.
      enableReadyCheck: false,
      slotsRefreshInterval: 1000, // 1 second: find a promoted replica soon even without a MOVED reply
      clusterRetryStrategy: backoff,
      redisOptions: {
        ...auth,
        connectionName: `confab-${nodeId}-${name}`,
        commandTimeout: timeout,
        connectTimeout,
        maxRetriesPerRequest: 0,
        // RESP2, as with one Redis: a subscribed RESP3 client escapes the pubsub output buffer limit.
        protocol: 2,
      },
      ...extra,
    })
  const commands = link('commands', { shardedSubscribers: true })
  const waiter = waitReplicas > 0 ? link('replicas', {}, commandTimeout + 1000) : null
  const links = waiter === null ? [commands] : [commands, waiter]
  const stop = new AbortController()
  for (const cluster of links) {
    reportClusterLosses(cluster, onError)
    // ioredis connects to a node at its first command and fails the commands sent while that connection
    // is on its way (no offline queue): connect each node as soon as it is known instead.
    cluster.on('+node', (redis: Redis) => {
      if (redis.status === 'wait') redis.connect().catch(() => {}) // a failure shows as 'node error'
    })
  }
  let deadline: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => reject(new Error('no answer in time')), connectTimeout)
  })
  try {
    // Until each master's connection is ready; a slot refresh may replace one meanwhile, so look again each time.
    const masters = async (cluster: Cluster) => {
      await cluster.connect()
      for (;;) {
        const pending = cluster.nodes('master').filter((redis) => redis.status !== 'ready')
        if (pending.length === 0 || stop.signal.aborted) return
        for (const redis of pending) if (redis.status === 'wait') redis.connect().catch(() => {})
        await Promise.race([...pending.map((redis) => once(redis, 'ready')), delay(100)])
      }
    }
    await Promise.race([Promise.all(links.map(masters)), late])
  } catch (error) {
    for (const cluster of links) cluster.disconnect()
    const cause = error as Error
    throw new StoreUnavailableError(`cannot reach Redis ${where}: ${cause.message}`, { cause })
  } finally {
    clearTimeout(deadline)
    stop.abort()
  }

  const keys = new RedisKeys(options.prefix, true)
  let resumeSecret: string
  let untouchedEpoch: string
  try {
    resumeSecret = await sharedSecret(commands, keys.resumeSecret())
    // The scripts cannot reach this key on a cluster (another slot): read it once, pass it in every call.
    untouchedEpoch = await sharedValue(commands, keys.untouchedEpoch(), randomUUID())
  } catch (error) {
    for (const cluster of links) cluster.disconnect()
    throw error
  }
  const plain = new RedisStore(commands, {
    keys,
    untouchedEpoch,
    historyLimit: options.historyLimit,
    idempotencyWindow: options.idempotencyWindow,
  })
  const store =
    waiter === null
      ? plain
      : confirmWrites(plain, {
          barrier: new ClusterBarrier(commands, waiter, waitReplicas, keys.prefix),
          written: (name, args) => written(keys, name, args),
        })
  const broker = new RedisBroker(commands, commands, { keys, latest: (room) => store.latest(room), onError })
  const presence = presenceOn(commands, keys, nodeId, onError, options)
  try {
    await presence.start()
  } catch (error) {
    for (const cluster of links) cluster.disconnect()
    await presence.close()
    throw error
  }
  return closing({ store, broker, presence, resumeSecret }, links)
}

/** The keys a confirmed store call writes, whose masters must confirm it (null: every master). */
function written(keys: RedisKeys, name: string, args: unknown[]): string[] | null {
  switch (name) {
    case 'append': {
      const draft = args[0] as { room: string; conversation?: unknown }
      return draft.conversation ? [keys.meta(draft.room), keys.conversations()] : [keys.meta(draft.room)]
    }
    case 'find':
      return [keys.meta(args[0] as string)]
    case 'updateConversation':
      return [keys.conversation(args[0] as string), keys.conversations()]
    case 'addBan':
    case 'removeBan':
      return [keys.bans()]
    case 'pushEvent':
      return [keys.webhookEvents()]
    default:
      return null // eraseUser: rooms everywhere
  }
}

/** User and password (and TLS for rediss://) from an optional URL, for every cluster node. */
function credentials(url: string | undefined): RedisOptions {
  if (url === undefined || url === '') return {}
  const parsed = new URL(url)
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  }
}

/** Logs each cluster node's failure once until the cluster is whole again, so a failover is a few lines. */
function reportClusterLosses(cluster: Cluster, onError: (error: unknown) => void): void {
  const down = new Set<string>()
  cluster.on('node error', (error: Error, node: string) => {
    if (down.has(node)) return
    down.add(node)
    onError(new StoreUnavailableError(`Redis Cluster node ${node} failed: ${error.message}`, { cause: error }))
  })
  // Sharded subscribers report here; nothing may go unhandled.
  cluster.on('error', (error: Error) => {
    const key = `error:${error.message}`
    if (down.has(key)) return
    down.add(key)
    onError(new StoreUnavailableError(`Redis Cluster: ${error.message}`, { cause: error }))
  })
  cluster.on('refresh', () => {
    if (cluster.nodes('master').every((node) => node.status === 'ready')) down.clear()
  })
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

/**
 * ioredis's Sentinel mode: ask the Sentinels for the master at every (re)connect
 * and check the role of what they name. Not ioredis's `failoverDetector`: its
 * +switch-master handler aborts a reconnect in progress for good (ioredis 6.0,
 * status "end"), and it is not needed, since Sentinel closes every client of a
 * master it demotes (CLIENT KILL), which reconnects them to the new one.
 */
function sentinelOptions(target: RedisSentinels, backoff: (attempt: number) => number): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    sentinelRetryStrategy: backoff,
    // A demoted master that is still up answers writes with READONLY: reconnect (to the new one), never resend.
    reconnectOnError: (error) => (/^READONLY\b/.test(error.message) ? 1 : false),
  }
}

/** The Sentinels and master name, for messages. */
function describe(target: RedisSentinels): string {
  const list = target.sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`)
  return `master "${target.name}" through Sentinels ${list.join(', ')}`
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  const parsed = new URL(url)
  if (parsed.password) parsed.password = '***'
  return parsed.toString()
}
