import type { Broker } from './broker/types'
import type { BeforePublish, HookFailure } from './hooks'
import type { Presence } from './presence/types'
import { defaultNumber, getPath, SETTINGS, type Setting, setting } from './settings'
import type { Store } from './store/types'

/** A user as the relay knows them after authentication. */
export interface AuthUser {
  id: string
  name: string
  /** Rooms the user may join and publish to (exact names, or a prefix ending in `*`); all when absent. Never grants `conv:` rooms. */
  rooms?: string[]
  /** 'operator' for the site's team: may open every conversation and the index (docs/conversations.md). */
  role?: 'operator'
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

/** Limits a client is held to; defaults and ranges in the table of settings (src/settings.ts, docs/relay.md). */
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
  /**
   * Open TCP connections per client address, HTTP and WebSocket alike (default 100); over it HTTP 429.
   * Behind a trusted proxy the WebSockets per forwarded address are counted instead.
   */
  connectionsPerIp?: number
  /** Open WebSockets on this node before new ones are closed with 1013 "try again" (default 0: no cap). */
  maxConnections?: number
  /** Open TCP connections on this node before new ones get HTTP 503 (default 0: the open-file limit less 64). */
  maxSockets?: number
  /** Time a client has to send a request's headers, in ms (default 5,000). */
  headersTimeout?: number
  /** Time a client has to send a whole request, in ms (default 10,000). */
  requestTimeout?: number
  /** Time an idle keep-alive HTTP connection stays open, in ms (default 5,000). */
  keepAliveTimeout?: number
  /** Time a new socket has to send `hello`, in ms (default 10,000); then close 4102. */
  helloTimeout?: number
  /** Bytes queued to one socket before it counts as slow and is closed with 4100 (default 1 MiB). */
  maxBufferedBytes?: number
  /** Longest display name in characters (default 40). */
  maxName?: number
}

/** Where the Redis backend lives. */
export interface RedisSettings {
  /**
   * `redis://` or `rediss://` URL. With `sentinels`, optional: its user, password and database
   * apply to the master the Sentinels name, and its host is ignored.
   */
  url?: string
  /** Namespace of every key and channel (default 'confab:'). */
  prefix?: string
  /** `host:port` of each Redis Sentinel; the relay asks them where the master is and follows its failovers. */
  sentinels?: string[]
  /** Name of the master the Sentinels watch (`sentinel monitor NAME ...`); required with `sentinels`. */
  sentinelName?: string
  /**
   * `host:port` of Redis Cluster nodes (one reachable is enough, the others are found through it); not with
   * `sentinels`. With it `url` is optional: its user and password apply to every node.
   */
  cluster?: string[]
  /**
   * Replicas that must confirm each write a client is told about (Redis WAIT, up to 1 second; otherwise the
   * client gets `unavailable` and resends) (default: 1 with `sentinels` or `cluster`, else 0).
   */
  waitReplicas?: number
}

/** The Redis settings, checked, with defaults filled in. */
export interface ResolvedRedis {
  url: string | undefined
  prefix: string
  sentinels: { host: string; port: number }[] | undefined
  sentinelName: string | undefined
  cluster: { host: string; port: number }[] | undefined
  waitReplicas: number
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
   * (default 'confab:') so several deployments can share one Redis, or
   * `{ sentinels, sentinelName }` for a Sentinel-managed Redis, or `{ cluster }` for a Redis Cluster
   * (docs/scaling.md).
   */
  redis?: string | RedisSettings
  /** History retention. */
  history?: {
    /** Messages a room retains (default 1,000). */
    limit?: number
    /** How long a publish id is remembered for idempotency, in ms (default 600,000 = 10 minutes). */
    idempotencyWindow?: number
    /** Ids of messages no longer retained that a room remembers at most, in the memory store (default 10,000). */
    idempotencyLimit?: number
  }
  /** Editing messages (docs/protocol.md, "Message lifecycle"). */
  messages?: {
    /** Seconds after sending during which the author may edit a message (default 0: unlimited). */
    editWindow?: number
  }
  /** Rooms (docs/scaling.md, "Large rooms"). */
  rooms?: {
    /** Distinct users from which a room is large: counts instead of every join and leave (default 500). */
    largeAt?: number
  }
  /** Reactions on messages. */
  reactions?: {
    /** Different emoji one message may carry, 1 to 100 (default 20). */
    maxPerMessage?: number
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
  /**
   * Signs people in to the inbox as operators (`hello.key`, `Authorization: Bearer KEY`); at least 16
   * characters. Default: derived from the resume secret (stable where it is), random per process in memory.
   */
  operatorKey?: string
  /** JSON logs through hapi-pino: false for none, or the level (default 'info') and where lines go (default stdout). */
  logger?: false | { level?: string; stream?: NodeJS.WritableStream }
  /** Serve the demo page at `/` (default true). */
  demo?: boolean
  /** Serve the widget bundle at `/widget.js` (default true). */
  widget?: boolean
  /** Time a graceful stop waits for sockets to close, in ms (default 10,000). */
  shutdownTimeout?: number
  /**
   * SQLite database file for history, offsets and the guest secret, kept across restarts, or ':memory:'
   * (default for `createRelay` and the plugin: in memory; the `confab-relay` command defaults to ./confab.db).
   * Cannot be combined with `redis`.
   */
  data?: string
  /** Stored messages older than this many days are deleted, in SQLite (default off: only the history limit applies). */
  retentionDays?: number
  /** Injected history store (default: in memory, or Redis with `redis`). */
  store?: Store
  /** Injected fan-out broker (default: in memory, or Redis with `redis`). */
  broker?: Broker
  /** Injected presence (default: in memory, or Redis with `redis`). */
  presence?: Presence
  /** Runs before each message is stored: accept, reject or modify (docs/moderation.md). */
  beforePublish?: BeforePublish
  /** The hook as a URL (`CONFAB_HOOK_URL`), its timeout and what its failure means (default 2,000 ms, 'reject'). */
  hook?: { url?: string; timeout?: number; failure?: HookFailure }
  /** Signed webhooks (docs/webhooks.md); `maxAge` in ms (default 86,400,000 = 24 hours). */
  webhook?: { url?: string; secret?: string; maxAge?: number }
}

/** Every option with its default filled in. */
export interface RelayConfig {
  port: number
  host: string
  path: string
  origins: string[] | '*'
  auth: AuthOptions | undefined
  redis: ResolvedRedis | undefined
  historyLimit: number
  idempotencyWindow: number
  idempotencyLimit: number
  /** Seconds; 0 is unlimited. */
  editWindow: number
  maxReactions: number
  /** Distinct users from which a room is large. */
  largeRoom: number
  limits: Required<LimitOptions>
  heartbeat: number
  typingTimeout: number
  trustProxy: string[]
  apiKey: string | undefined
  resumeSecret: string | undefined
  operatorKey: string | undefined
  logger: false | { level: string; stream: NodeJS.WritableStream | undefined }
  demo: boolean
  widget: boolean
  shutdownTimeout: number
  data: string | undefined
  retentionDays: number | undefined
}

/** The option path of each limit, from the table of settings. */
const LIMIT_SETTINGS = SETTINGS.filter((s) => s.path.startsWith('limits.'))

/** Defaults, derived from the table of settings (src/settings.ts), where each has its unit. */
export const DEFAULTS = {
  port: defaultNumber('port'),
  host: String(setting('host').default),
  path: String(setting('path').default),
  historyLimit: defaultNumber('history.limit'),
  idempotencyWindow: defaultNumber('history.idempotencyWindow'),
  idempotencyLimit: defaultNumber('history.idempotencyLimit'),
  heartbeat: defaultNumber('heartbeat'),
  typingTimeout: defaultNumber('typingTimeout'),
  shutdownTimeout: defaultNumber('shutdownTimeout'),
  leeway: defaultNumber('auth.leeway'),
  limits: Object.fromEntries(LIMIT_SETTINGS.map((s) => [s.path.slice(7), s.default])) as Required<LimitOptions>,
} as const

/** A setting that cannot work; the message names the setting and why. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  /** The option, flag or variable at fault. */
  readonly setting: string
  /** What is wrong with it, without the name. */
  readonly why: string

  constructor(setting: string, why: string) {
    super(`${setting}: ${why}`)
    this.setting = setting
    this.why = why
  }
}

function checkInteger(s: Setting, value: unknown): number | undefined {
  if (value === undefined) return typeof s.default === 'number' ? s.default : undefined
  const min = s.min ?? 0
  const max = s.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(s.path, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/** Every integer setting of the table checked against its range, by option path. */
function integers(options: RelayOptions): Map<string, number | undefined> {
  const values = new Map<string, number | undefined>()
  for (const s of SETTINGS) if (s.kind === 'integer') values.set(s.path, checkInteger(s, getPath(options, s.path)))
  return values
}

/**
 * Relations between settings. The error names the one the user set (the
 * first of the two when both were set), since the other may be a default.
 */
function checkRelations(options: RelayOptions, n: (path: string) => number): void {
  const pairs: [below: string, above: string, strict: boolean][] = [
    ['limits.maxText', 'limits.maxPayload', true],
    ['limits.headersTimeout', 'limits.requestTimeout', false],
  ]
  for (const [below, above, strict] of pairs) {
    if (strict ? n(below) < n(above) : n(below) <= n(above)) continue
    const set = getPath(options, below) !== undefined || getPath(options, above) === undefined
    const relation = strict ? 'below' : 'at most'
    throw set
      ? new ConfigError(below, `must be ${relation} ${above} (${n(above)}), got ${n(below)}`)
      : new ConfigError(above, `must be ${strict ? 'above' : 'at least'} ${below} (${n(below)}), got ${n(above)}`)
  }
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
  if (auth.requireExp !== undefined && typeof auth.requireExp !== 'boolean') {
    throw new ConfigError('auth.requireExp', 'must be true or false')
  }
  return auth
}

/** Default namespace of Redis keys and channels. */
const REDIS_PREFIX = 'confab:'

function checkRedis(redis: RelayOptions['redis'], waitReplicas: number | undefined): ResolvedRedis | undefined {
  if (redis === undefined) return undefined
  const settings: RedisSettings = typeof redis === 'string' ? { url: redis } : redis
  const setting = typeof redis === 'string' ? 'redis' : 'redis.url'
  const sentinels = checkSentinels(settings)
  const cluster = checkCluster(settings)
  if (cluster !== undefined && sentinels !== undefined) {
    throw new ConfigError('redis.cluster', 'cannot be combined with redis.sentinels: a cluster fails over by itself')
  }
  const found = sentinels !== undefined || cluster !== undefined
  const url = settings.url === '' && found ? undefined : settings.url
  if ((url === undefined || url === '') && !found) {
    throw new ConfigError(
      'redis.url',
      settings.prefix !== undefined
        ? 'is required with a prefix (--redis, REDIS_URL)'
        : 'is required (--redis, REDIS_URL), or redis.sentinels with redis.sentinelName, or redis.cluster',
    )
  }
  if (url !== undefined) {
    try {
      const parsed = new URL(url)
      if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error('scheme')
    } catch {
      throw new ConfigError(setting, 'must be a URL like redis://host:6379')
    }
  }
  const prefix = settings.prefix ?? REDIS_PREFIX
  // No glob or hash-tag character: the prefix is matched and hashed like the rest of a key.
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('redis.prefix', 'must be 1 to 64 characters: letters, digits, and _ . : -')
  }
  return {
    url,
    prefix,
    sentinels,
    sentinelName: sentinels === undefined ? undefined : settings.sentinelName,
    cluster,
    waitReplicas: waitReplicas ?? (found ? 1 : 0),
  }
}

/** The cluster node addresses as host and port. */
function checkCluster(settings: RedisSettings): ResolvedRedis['cluster'] {
  const { cluster } = settings
  if (cluster === undefined || (Array.isArray(cluster) && cluster.length === 0)) return undefined
  if (!Array.isArray(cluster)) throw new ConfigError('redis.cluster', 'must be a list of host:port')
  return cluster.map((entry) => hostPort(entry, 'redis.cluster', '[::1]:6379'))
}

/** `host:port`, or `[IPv6]:port`, as host and port. */
function hostPort(entry: string, setting: string, example: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(String(entry))
  const port = Number(match?.[3])
  if (!match || port < 1 || port > 65_535) {
    throw new ConfigError(setting, `"${entry}" is not host:port (IPv6 as ${example})`)
  }
  return { host: match[1] ?? (match[2] as string), port }
}

/** The Sentinel addresses as host and port, checked with the master name that goes with them. */
function checkSentinels(settings: RedisSettings): ResolvedRedis['sentinels'] {
  const { sentinels, sentinelName } = settings
  if (sentinels === undefined || (Array.isArray(sentinels) && sentinels.length === 0)) {
    if (sentinelName !== undefined) throw new ConfigError('redis.sentinelName', 'needs redis.sentinels as well')
    return undefined
  }
  if (!Array.isArray(sentinels)) throw new ConfigError('redis.sentinels', 'must be a list of host:port')
  if (typeof sentinelName !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(sentinelName)) {
    throw new ConfigError(
      'redis.sentinelName',
      sentinelName === undefined
        ? 'is required with redis.sentinels (--redis-sentinel-name, REDIS_SENTINEL_NAME): the name of the master the Sentinels watch'
        : 'must be 1 to 64 characters: letters, digits, and _ . : -',
    )
  }
  return sentinels.map((entry) => hostPort(entry, 'redis.sentinels', '[::1]:26379'))
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
  const path = options.path ?? DEFAULTS.path
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError('path', 'must start with /')
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey.length < 16)) {
    throw new ConfigError('apiKey', 'must be at least 16 characters')
  }
  if (
    options.operatorKey !== undefined &&
    (typeof options.operatorKey !== 'string' || options.operatorKey.length < 16 || /\s/.test(options.operatorKey))
  ) {
    throw new ConfigError('operatorKey', 'must be at least 16 characters without spaces')
  }
  const level = options.logger === false ? false : (options.logger?.level ?? 'info')
  if (level !== false && !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError('logger.level', 'must be one of fatal, error, warn, info, debug, trace, silent')
  }
  if (options.data !== undefined && (typeof options.data !== 'string' || options.data === '')) {
    throw new ConfigError('data', "must be a file path or ':memory:'")
  }
  const values = integers(options)
  const n = (key: string): number => values.get(key) as number
  const redis = checkRedis(options.redis, values.get('redis.waitReplicas'))
  if (redis !== undefined && options.data !== undefined && options.data !== ':memory:') {
    throw new ConfigError('data', 'cannot be used together with redis: choose one backend')
  }
  checkRelations(options, n)
  const limits = Object.fromEntries(LIMIT_SETTINGS.map((s) => [s.path.slice(7), n(s.path)])) as Required<LimitOptions>
  return {
    port: n('port'),
    host: options.host ?? DEFAULTS.host,
    path,
    origins: checkOrigins(options.origins),
    auth: checkAuth(options.auth),
    redis,
    historyLimit: n('history.limit'),
    idempotencyWindow: n('history.idempotencyWindow'),
    idempotencyLimit: n('history.idempotencyLimit'),
    editWindow: n('messages.editWindow'),
    maxReactions: n('reactions.maxPerMessage'),
    largeRoom: n('rooms.largeAt'),
    limits,
    heartbeat: n('heartbeat'),
    typingTimeout: n('typingTimeout'),
    trustProxy: checkProxies(options.trustProxy),
    apiKey: options.apiKey,
    resumeSecret: options.resumeSecret,
    operatorKey: options.operatorKey,
    logger: level === false ? false : { level, stream: options.logger === false ? undefined : options.logger?.stream },
    demo: options.demo ?? true,
    widget: options.widget ?? true,
    shutdownTimeout: n('shutdownTimeout'),
    data: options.data,
    retentionDays: values.get('retentionDays'),
  }
}
