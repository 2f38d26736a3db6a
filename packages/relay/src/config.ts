import type { Broker } from './broker/types'
import type { Presence } from './presence/types'
import type { Store } from './store/types'

/** A user as the relay knows them after authentication. */
export interface AuthUser {
  id: string
  name: string
  /** Rooms the user may join and publish to (exact names, or a prefix ending in `*`); all when absent. */
  rooms?: string[]
}

/** How `hello` tokens are checked. Without any of these, everyone is an anonymous guest. */
export interface AuthOptions {
  /** HS256 shared secret (`CONFAB_JWT_SECRET`). At least 32 characters. */
  secret?: string
  /** PEM public key (SPKI); RS256 for an RSA key, ES256 for an EC P-256 key (`CONFAB_JWT_PUBLIC_KEY`). */
  publicKey?: string
  /** Clock skew allowed on `exp` and `nbf`, in seconds (default 5). */
  leeway?: number
  /** Required `iss` claim, when set. */
  issuer?: string
  /** Required `aud` claim, when set. */
  audience?: string
  /** Refuse JWTs without an `exp` claim (default true); false accepts tokens that never expire. */
  requireExp?: boolean
  /** Custom check instead of a JWT: resolve the user, or throw/reject to refuse. */
  verify?: (token: string) => AuthUser | Promise<AuthUser>
}

/** Limits a client is held to; all have the defaults of DESIGN.md section 3. */
export interface LimitOptions {
  /** Largest frame in bytes (default 65,536); bigger frames close the socket with 1009. */
  maxPayload?: number
  /** Longest message text in UTF-16 code units (default 4,000). */
  maxText?: number
  /** Deepest JSON nesting accepted in a frame (default 32). */
  maxDepth?: number
  /** Rooms one connection may be in at once (default 128). */
  maxRooms?: number
  /** Publishes per second per connection, sustained (default 10). */
  publishRate?: number
  /** Publishes allowed in a burst above the rate (default 20). */
  publishBurst?: number
  /** Other frames (join, leave, typing, history) per second per connection, sustained (default 20). */
  frameRate?: number
  /** Other frames allowed in a burst above the rate (default 200: a reconnect re-joins every room at once). */
  frameBurst?: number
  /**
   * Publishes refused in a row for rate, or other frames refused while earlier `retryAfter` hints were
   * still pending, before the socket is closed with 4101 (default 50).
   */
  rateAbuse?: number
  /** Bad frames in a row before the socket is closed with 4009 (default 20). */
  maxErrors?: number
  /** Open sockets per client IP (default 100). */
  connectionsPerIp?: number
  /** Open sockets on this node before new ones are closed with 1013 "try again" (default 0: no cap). */
  maxConnections?: number
  /** Time a new socket has to send `hello`, in ms (default 10,000); then close 4102. */
  helloTimeout?: number
  /** Bytes queued to one socket before it counts as slow and is closed with 4100 (default 1 MiB). */
  maxBufferedBytes?: number
  /** Longest display name in characters (default 40). */
  maxName?: number
}

/** Where the Redis backend lives. */
export interface RedisSettings {
  /** `redis://` or `rediss://` URL. */
  url: string
  /** Namespace of every key and channel (default 'confab:'). */
  prefix?: string
}

/** Options of `createRelay` and of the `confab` hapi plugin. */
export interface RelayOptions {
  /** TCP port (default 8080; 0 picks a free one). Only for `createRelay`. */
  port?: number
  /** Interface to listen on (default '0.0.0.0'). Only for `createRelay`. */
  host?: string
  /** WebSocket path (default '/ws'). */
  path?: string
  /** Allowed `Origin` values for the WebSocket upgrade, e.g. 'https://example.com'; '*' or absent allows any (default). */
  origins?: string[] | '*'
  /** Token checks; absent means anonymous guests. */
  auth?: AuthOptions
  /**
   * Redis: history, fan-out and presence shared by every node (default: in memory).
   * A URL, or `{ url, prefix }` where `prefix` namespaces every key and channel
   * (default 'confab:') so several deployments can share one Redis.
   */
  redis?: string | RedisSettings
  /** History retention. */
  history?: {
    /** Messages a room retains (default 1,000). */
    limit?: number
    /** How long a publish id is remembered for idempotency, in ms (default 600,000 = 10 minutes). */
    idempotencyWindow?: number
  }
  /** Per-client limits. */
  limits?: LimitOptions
  /** ws-level ping interval, in ms (default 25,000); a peer silent for two intervals is dropped. */
  heartbeat?: number
  /** How long a `typing` lasts without a refresh, in ms (default 5,000). */
  typingTimeout?: number
  /** Proxies whose `X-Forwarded-For` is believed: IP addresses or CIDR ranges (default none). */
  trustProxy?: string[]
  /** Key for the HTTP API, sent as `Authorization: Bearer KEY` (default: the API is open). */
  apiKey?: string
  /**
   * Secret that signs guest `resume` strings, so a guest keeps its id across nodes and restarts (default:
   * with Redis, one made by the first node and kept in Redis under the prefix; in memory, random per process).
   */
  resumeSecret?: string
  /** JSON logs through hapi-pino: false for none, or the level (default 'info') and where lines go (default stdout). */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream }
  /** Serve the demo page at `/` (default true). */
  demo?: boolean
  /** Serve the widget bundle at `/widget.js` (default true). */
  widget?: boolean
  /** Time a graceful stop waits for sockets to close, in ms (default 10,000). */
  shutdownTimeout?: number
  /** Injected history store (default: in memory, or Redis with `redis`). */
  store?: Store
  /** Injected fan-out broker (default: in memory, or Redis with `redis`). */
  broker?: Broker
  /** Injected presence (default: in memory, or Redis with `redis`). */
  presence?: Presence
}

/** Every option with its default filled in. */
export interface RelayConfig {
  port: number
  host: string
  path: string
  origins: string[] | '*'
  auth: AuthOptions | undefined
  redis: Required<RedisSettings> | undefined
  historyLimit: number
  idempotencyWindow: number
  limits: Required<LimitOptions>
  heartbeat: number
  typingTimeout: number
  trustProxy: string[]
  apiKey: string | undefined
  resumeSecret: string | undefined
  logger: false | { level: string; stream: NodeJS.WritableStream | undefined }
  demo: boolean
  widget: boolean
  shutdownTimeout: number
}

/** Defaults, one place. */
export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  path: '/ws',
  historyLimit: 1000,
  idempotencyWindow: 600_000, // 10 minutes
  heartbeat: 25_000, // 25 seconds, under common 30 s proxy idle timeouts
  typingTimeout: 5000, // 5 seconds
  shutdownTimeout: 10_000, // 10 seconds
  leeway: 5, // seconds
  limits: {
    maxPayload: 65_536, // 64 KiB
    maxText: 4000,
    maxDepth: 32,
    maxRooms: 128,
    publishRate: 10, // per second
    publishBurst: 20,
    frameRate: 20, // per second
    frameBurst: 200,
    rateAbuse: 50,
    maxErrors: 20,
    connectionsPerIp: 100,
    maxConnections: 0, // no cap
    helloTimeout: 10_000, // 10 seconds
    maxBufferedBytes: 1_048_576, // 1 MiB
    maxName: 40,
  },
} as const

/** A setting that cannot work; the message names the setting and why. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  /** The option, flag or variable at fault. */
  readonly setting: string

  constructor(setting: string, why: string) {
    super(`${setting}: ${why}`)
    this.setting = setting
  }
}

function integer(setting: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(setting, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

function checkOrigins(origins: RelayOptions['origins']): string[] | '*' {
  if (origins === undefined || origins === '*') return '*'
  if (!Array.isArray(origins)) throw new ConfigError('origins', "must be a list of origins or '*'")
  if (origins.includes('*')) return '*'
  return origins.map((origin) => {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      throw new ConfigError('origins', `"${origin}" is not an origin like https://example.com`)
    }
    if (url.origin === 'null' || url.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError('origins', `"${origin}" is not an origin like https://example.com`)
    }
    return url.origin
  })
}

function checkAuth(auth: AuthOptions | undefined): AuthOptions | undefined {
  if (auth === undefined) return undefined
  const ways = [auth.secret, auth.publicKey, auth.verify].filter((x) => x !== undefined).length
  if (ways === 0) return undefined
  if (ways > 1) throw new ConfigError('auth', 'set exactly one of secret, publicKey or verify')
  if (auth.secret !== undefined && (typeof auth.secret !== 'string' || auth.secret.length < 32)) {
    throw new ConfigError('auth.secret', 'must be at least 32 characters (HS256 needs 256 bits)')
  }
  if (auth.publicKey !== undefined && !/-----BEGIN PUBLIC KEY-----/.test(auth.publicKey)) {
    throw new ConfigError('auth.publicKey', 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)')
  }
  if (auth.verify !== undefined && typeof auth.verify !== 'function') {
    throw new ConfigError('auth.verify', 'must be a function')
  }
  integer('auth.leeway', auth.leeway, DEFAULTS.leeway, 0, 3600)
  if (auth.requireExp !== undefined && typeof auth.requireExp !== 'boolean') {
    throw new ConfigError('auth.requireExp', 'must be true or false')
  }
  return auth
}

/** Default namespace of Redis keys and channels. */
const REDIS_PREFIX = 'confab:'

function checkRedis(redis: RelayOptions['redis']): Required<RedisSettings> | undefined {
  if (redis === undefined) return undefined
  const settings = typeof redis === 'string' ? { url: redis } : redis
  const setting = typeof redis === 'string' ? 'redis' : 'redis.url'
  if (settings.url === '' && settings.prefix !== undefined) {
    throw new ConfigError('redis.url', 'is required with a prefix (--redis, REDIS_URL)')
  }
  try {
    const url = new URL(settings.url)
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('scheme')
  } catch {
    throw new ConfigError(setting, 'must be a URL like redis://host:6379')
  }
  const prefix = settings.prefix ?? REDIS_PREFIX
  // No glob or hash-tag character: the prefix is matched and hashed like the rest of a key.
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('redis.prefix', 'must be 1 to 64 characters: letters, digits, and _ . : -')
  }
  return { url: settings.url, prefix }
}

function checkProxies(list: string[] | undefined): string[] {
  if (list === undefined) return []
  if (!Array.isArray(list)) throw new ConfigError('trustProxy', 'must be a list of IP addresses or CIDR ranges')
  for (const entry of list) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(entry)) {
      throw new ConfigError('trustProxy', `"${entry}" is not an IP address or CIDR range`)
    }
  }
  return list
}

/** Fills in defaults and validates every option; throws `ConfigError` on the first bad one. */
export function resolveConfig(options: RelayOptions = {}): RelayConfig {
  const limits = options.limits ?? {}
  const d = DEFAULTS.limits
  const path = options.path ?? DEFAULTS.path
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError('path', 'must start with /')
  const redis = checkRedis(options.redis)
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey.length < 16)) {
    throw new ConfigError('apiKey', 'must be at least 16 characters')
  }
  const level = options.logger === false ? false : (options.logger?.level ?? 'info')
  if (level !== false && !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError('logger.level', 'must be one of fatal, error, warn, info, debug, trace, silent')
  }
  return {
    port: integer('port', options.port, DEFAULTS.port, 0, 65_535),
    host: options.host ?? DEFAULTS.host,
    path,
    origins: checkOrigins(options.origins),
    auth: checkAuth(options.auth),
    redis,
    historyLimit: integer('history.limit', options.history?.limit, DEFAULTS.historyLimit, 1, 1_000_000),
    idempotencyWindow: integer(
      'history.idempotencyWindow',
      options.history?.idempotencyWindow,
      DEFAULTS.idempotencyWindow,
      600_000,
      86_400_000,
    ),
    limits: {
      maxPayload: integer('limits.maxPayload', limits.maxPayload, d.maxPayload, 1024, 16_777_216),
      maxText: integer('limits.maxText', limits.maxText, d.maxText, 1, 1_000_000),
      maxDepth: integer('limits.maxDepth', limits.maxDepth, d.maxDepth, 4, 1000),
      maxRooms: integer('limits.maxRooms', limits.maxRooms, d.maxRooms, 1, 100_000),
      publishRate: integer('limits.publishRate', limits.publishRate, d.publishRate, 1, 100_000),
      publishBurst: integer('limits.publishBurst', limits.publishBurst, d.publishBurst, 1, 100_000),
      frameRate: integer('limits.frameRate', limits.frameRate, d.frameRate, 1, 100_000),
      frameBurst: integer('limits.frameBurst', limits.frameBurst, d.frameBurst, 1, 100_000),
      rateAbuse: integer('limits.rateAbuse', limits.rateAbuse, d.rateAbuse, 1, 100_000),
      maxErrors: integer('limits.maxErrors', limits.maxErrors, d.maxErrors, 1, 100_000),
      connectionsPerIp: integer('limits.connectionsPerIp', limits.connectionsPerIp, d.connectionsPerIp, 1, 1_000_000),
      maxConnections: integer('limits.maxConnections', limits.maxConnections, d.maxConnections, 0, 10_000_000),
      helloTimeout: integer('limits.helloTimeout', limits.helloTimeout, d.helloTimeout, 10, 600_000),
      maxBufferedBytes: integer('limits.maxBufferedBytes', limits.maxBufferedBytes, d.maxBufferedBytes, 1024, 2 ** 30),
      maxName: integer('limits.maxName', limits.maxName, d.maxName, 1, 200),
    },
    heartbeat: integer('heartbeat', options.heartbeat, DEFAULTS.heartbeat, 10, 3_600_000),
    typingTimeout: integer('typingTimeout', options.typingTimeout, DEFAULTS.typingTimeout, 10, 600_000),
    trustProxy: checkProxies(options.trustProxy),
    apiKey: options.apiKey,
    resumeSecret: options.resumeSecret,
    logger: level === false ? false : { level, stream: options.logger === false ? undefined : options.logger?.stream },
    demo: options.demo ?? true,
    widget: options.widget ?? true,
    shutdownTimeout: integer('shutdownTimeout', options.shutdownTimeout, DEFAULTS.shutdownTimeout, 0, 600_000),
  }
}
