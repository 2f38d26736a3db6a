import type { Limits } from '@confab/sdk/protocol'

/**
 * How a setting's value is read and checked: `integer` within `min`..`max`;
 * `string`; `list` (comma-separated on the command line and in the
 * environment); `switch` (a flag without a value, setting `value`); `choice`
 * (one of `choices`); `object` (an option only: a function, a stream, an
 * injected implementation).
 */
export type SettingKind = 'integer' | 'string' | 'list' | 'switch' | 'choice' | 'object'

/** One setting, declared once: where it lives in the options, how to set it, its range, default and meaning. */
export interface Setting {
  /** Path in the options of `createRelay` and the plugin, e.g. `limits.maxText`. */
  path: string
  /** Command-line flag, when the command takes it. */
  flag?: string
  /** Environment variable, when the command reads it. */
  env?: string
  kind: SettingKind
  /** Inclusive range of an integer. */
  min?: number
  max?: number
  /** Values of a choice. */
  choices?: readonly string[]
  /** The value when unset (absent: none). */
  default?: number | string | boolean
  /** The default as a reader sees it, when not the plain value (e.g. "0 (automatic)"). */
  shown?: string
  /** Unit of an integer: ms, bytes, seconds, per second, days… */
  unit?: string
  /** What a `switch` sets the option to. */
  value?: unknown
  /** One line of help for `--help` and docs/relay.md. */
  help: string
  /** Field of the `limits` announced in `welcome`. */
  announce?: keyof Limits
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Every setting of the relay. `createRelay` and the plugin validate the
 * integers against their ranges here, the command builds its parser and
 * `--help` from it, `welcome` announces the rows with `announce`, and
 * docs/relay.md lists exactly these rows (a test compares them).
 */
export const SETTINGS: readonly Setting[] = [
  {
    path: 'port',
    flag: '--port',
    env: 'PORT',
    kind: 'integer',
    min: 0,
    max: 65_535,
    default: 8080,
    help: "TCP port; 0 picks a free one (createRelay and the command; a plugin uses its server's)",
  },
  {
    path: 'host',
    flag: '--host',
    env: 'HOST',
    kind: 'string',
    default: '0.0.0.0',
    help: "interface to listen on (createRelay and the command; a plugin uses its server's)",
  },
  { path: 'path', kind: 'string', default: '/ws', help: 'WebSocket path' },
  {
    path: 'redis.url',
    flag: '--redis',
    env: 'REDIS_URL',
    kind: 'string',
    shown: 'in memory',
    help: 'redis:// or rediss:// URL: history, fan-out and presence shared by every node (or the option redis: URL)',
  },
  {
    path: 'redis.prefix',
    flag: '--redis-prefix',
    env: 'CONFAB_REDIS_PREFIX',
    kind: 'string',
    default: 'confab:',
    help: 'namespace of every Redis key and channel, so several deployments can share one Redis',
  },
  {
    path: 'redis.sentinels',
    flag: '--redis-sentinels',
    env: 'REDIS_SENTINELS',
    kind: 'list',
    shown: 'none',
    help: 'host:port of Redis Sentinels that name the master and announce its failovers (then redis.url is optional: its user, password and database apply)',
  },
  {
    path: 'redis.sentinelName',
    flag: '--redis-sentinel-name',
    env: 'REDIS_SENTINEL_NAME',
    kind: 'string',
    shown: 'none',
    help: 'name of the master the Sentinels watch (sentinel monitor NAME ...); required with redis.sentinels',
  },
  {
    path: 'redis.cluster',
    flag: '--redis-cluster',
    env: 'REDIS_CLUSTER',
    kind: 'list',
    shown: 'none',
    help: 'host:port of Redis Cluster nodes (one reachable is enough; then redis.url is optional: its user and password apply); not with redis.sentinels',
  },
  {
    path: 'redis.waitReplicas',
    flag: '--redis-wait-replicas',
    env: 'CONFAB_REDIS_WAIT_REPLICAS',
    kind: 'integer',
    min: 0,
    max: 10,
    unit: 'replicas',
    shown: 'Sentinel or cluster: 1; URL: 0',
    help: 'replicas that must confirm each write (Redis WAIT, 1 s) before a client is told, so a failover cannot lose an acked message',
  },
  {
    path: 'data',
    flag: '--data',
    env: 'CONFAB_DATA',
    kind: 'string',
    shown: 'command: ./confab.db; createRelay: in memory',
    help: 'SQLite file for history, kept across restarts (not with REDIS_URL); :memory: keeps it in memory',
  },
  {
    path: 'data',
    flag: '--memory',
    kind: 'switch',
    value: ':memory:',
    shown: 'off',
    help: 'keep history in memory only, same as --data :memory:',
  },
  {
    path: 'retentionDays',
    flag: '--retention-days',
    env: 'CONFAB_RETENTION_DAYS',
    kind: 'integer',
    min: 1,
    max: 36_500,
    unit: 'days',
    shown: 'off',
    help: 'delete stored messages older than this, in memory, SQLite and Redis (the history limit applies too)',
  },
  {
    path: 'origins',
    flag: '--origins',
    env: 'CONFAB_ORIGINS',
    kind: 'list',
    shown: 'any',
    help: 'origins (https://example.com) allowed to open a WebSocket or call the HTTP API from a browser; * means any',
  },
  {
    path: 'auth.secret',
    flag: '--jwt-secret',
    env: 'CONFAB_JWT_SECRET',
    kind: 'string',
    shown: 'none',
    help: 'HS256 secret (at least 32 characters); hello tokens must then be JWTs signed with it',
  },
  {
    path: 'auth.publicKey',
    flag: '--jwt-public-key',
    env: 'CONFAB_JWT_PUBLIC_KEY',
    kind: 'string',
    shown: 'none',
    help: 'PEM public key, or a file holding it: RS256 for an RSA key, ES256 for an EC P-256 key',
  },
  {
    path: 'auth.leeway',
    flag: '--jwt-leeway',
    env: 'CONFAB_JWT_LEEWAY',
    kind: 'integer',
    min: 0,
    max: 3600,
    default: 5,
    unit: 'seconds',
    help: 'clock skew allowed on exp and nbf',
  },
  { path: 'auth.issuer', kind: 'string', shown: 'none', help: 'required iss claim' },
  { path: 'auth.audience', kind: 'string', shown: 'none', help: 'required aud claim' },
  {
    path: 'auth.requireExp',
    kind: 'object',
    default: true,
    help: 'refuse JWTs without exp; false accepts tokens that never expire',
  },
  {
    path: 'auth.verify',
    kind: 'object',
    shown: 'none',
    help: '(token) => ({ id, name, rooms? }), sync or async, instead of a JWT; throw to refuse',
  },
  {
    path: 'apiKey',
    flag: '--api-key',
    env: 'CONFAB_API_KEY',
    kind: 'string',
    shown: 'none',
    help: 'key for the HTTP API (at least 16 characters), sent as Authorization: Bearer KEY; see "HTTP API" for the API without one',
  },
  {
    path: 'history.limit',
    flag: '--history-limit',
    env: 'CONFAB_HISTORY_LIMIT',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    default: 1000,
    unit: 'entries',
    announce: 'historyLimit',
    help: 'log entries retained per room: messages, and edits, deletes and reactions (each counts as one)',
  },
  {
    path: 'history.idempotencyWindow',
    flag: '--idempotency-window',
    env: 'CONFAB_IDEMPOTENCY_WINDOW',
    kind: 'integer',
    min: 600_000,
    max: 86_400_000,
    default: 600_000,
    unit: 'ms',
    help: 'how long a publish id is remembered (at least 10 minutes)',
  },
  {
    path: 'history.idempotencyLimit',
    flag: '--idempotency-limit',
    env: 'CONFAB_IDEMPOTENCY_LIMIT',
    kind: 'integer',
    min: 0,
    max: 10_000_000,
    default: 10_000,
    unit: 'ids',
    help: 'ids of messages past the history limit a room remembers at most, in memory (the window still applies)',
  },
  {
    path: 'messages.editWindow',
    flag: '--edit-window',
    env: 'CONFAB_EDIT_WINDOW',
    kind: 'integer',
    min: 0,
    max: 31_536_000,
    default: 0,
    shown: '0: unlimited',
    unit: 'seconds',
    help: 'how long after sending its author may edit a message',
  },
  {
    path: 'reactions.maxPerMessage',
    flag: '--max-reactions',
    env: 'CONFAB_MAX_REACTIONS',
    kind: 'integer',
    min: 1,
    max: 100,
    default: 20,
    unit: 'emoji',
    help: 'different emoji one message may carry; a new one beyond is refused with limit_exceeded',
  },
  {
    path: 'trustProxy',
    flag: '--trust-proxy',
    env: 'CONFAB_TRUST_PROXY',
    kind: 'list',
    shown: 'none',
    help: 'proxy IPs or CIDR ranges whose X-Forwarded-For is believed',
  },
  {
    path: 'limits.maxPayload',
    flag: '--max-payload',
    env: 'CONFAB_MAX_PAYLOAD',
    kind: 'integer',
    min: 1024,
    max: 16_777_216,
    default: 65_536,
    unit: 'bytes',
    announce: 'maxPayload',
    help: 'largest frame; bigger closes the socket with 1009',
  },
  {
    path: 'limits.maxText',
    flag: '--max-text',
    env: 'CONFAB_MAX_TEXT',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    default: 4000,
    unit: 'UTF-16 code units',
    announce: 'maxText',
    help: 'longest message text; must be below limits.maxPayload',
  },
  {
    path: 'limits.maxDepth',
    flag: '--max-depth',
    env: 'CONFAB_MAX_DEPTH',
    kind: 'integer',
    min: 4,
    max: 1000,
    default: 32,
    unit: 'levels',
    help: 'deepest JSON nesting in a frame',
  },
  {
    path: 'limits.maxRooms',
    flag: '--max-rooms',
    env: 'CONFAB_MAX_ROOMS',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 128,
    unit: 'rooms',
    announce: 'maxRooms',
    help: 'rooms one connection may be in at once',
  },
  {
    path: 'limits.publishRate',
    flag: '--publish-rate',
    env: 'CONFAB_PUBLISH_RATE',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 10,
    unit: 'per second',
    announce: 'publishRate',
    help: 'publishes per connection, sustained',
  },
  {
    path: 'limits.publishBurst',
    flag: '--publish-burst',
    env: 'CONFAB_PUBLISH_BURST',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 20,
    unit: 'publishes',
    announce: 'publishBurst',
    help: 'publishes allowed in a burst above the rate',
  },
  {
    path: 'limits.frameRate',
    flag: '--frame-rate',
    env: 'CONFAB_FRAME_RATE',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 20,
    unit: 'per second',
    announce: 'frameRate',
    help: 'join, leave, typing and history frames per connection, sustained',
  },
  {
    path: 'limits.frameBurst',
    flag: '--frame-burst',
    env: 'CONFAB_FRAME_BURST',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 200,
    unit: 'frames',
    announce: 'frameBurst',
    help: 'such frames allowed in a burst (a reconnect re-joins every room at once)',
  },
  {
    path: 'limits.rateAbuse',
    flag: '--rate-abuse',
    env: 'CONFAB_RATE_ABUSE',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 50,
    unit: 'frames',
    help: 'frames refused while earlier retryAfter hints were pending before closing with 4101',
  },
  {
    path: 'limits.maxErrors',
    flag: '--max-errors',
    env: 'CONFAB_MAX_ERRORS',
    kind: 'integer',
    min: 1,
    max: 100_000,
    default: 20,
    unit: 'frames',
    help: 'bad frames in a burst (refilling 1 per second) before closing with 4009',
  },
  {
    path: 'limits.connectionsPerIp',
    flag: '--max-connections-per-ip',
    env: 'CONFAB_MAX_CONNECTIONS_PER_IP',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    default: 100,
    unit: 'sockets',
    help: 'open TCP connections (HTTP and WebSocket) per client address; over it HTTP 429',
  },
  {
    path: 'limits.maxConnections',
    flag: '--max-connections',
    env: 'CONFAB_MAX_CONNECTIONS',
    kind: 'integer',
    min: 0,
    max: 10_000_000,
    default: 0,
    unit: 'WebSockets',
    shown: '0: no cap',
    help: 'open WebSockets on this node; beyond it new ones are closed with 1013 so clients retry',
  },
  {
    path: 'limits.maxSockets',
    flag: '--max-sockets',
    env: 'CONFAB_MAX_SOCKETS',
    kind: 'integer',
    min: 0,
    max: 10_000_000,
    default: 0,
    unit: 'sockets',
    shown: '0: the open-file limit less 64',
    help: 'open TCP connections on this node; beyond it HTTP 503 and closed, so the process keeps file descriptors',
  },
  {
    path: 'limits.headersTimeout',
    flag: '--headers-timeout',
    env: 'CONFAB_HEADERS_TIMEOUT',
    kind: 'integer',
    min: 100,
    max: 600_000,
    default: 5000,
    unit: 'ms',
    help: "time a client has to send a request's headers (createRelay and the command)",
  },
  {
    path: 'limits.requestTimeout',
    flag: '--request-timeout',
    env: 'CONFAB_REQUEST_TIMEOUT',
    kind: 'integer',
    min: 100,
    max: 600_000,
    default: 10_000,
    unit: 'ms',
    help: 'time a client has to send a whole request, body included; at least limits.headersTimeout',
  },
  {
    path: 'limits.keepAliveTimeout',
    flag: '--keep-alive-timeout',
    env: 'CONFAB_KEEP_ALIVE_TIMEOUT',
    kind: 'integer',
    min: 100,
    max: 600_000,
    default: 5000,
    unit: 'ms',
    help: 'time an idle keep-alive HTTP connection stays open (createRelay and the command)',
  },
  {
    path: 'limits.helloTimeout',
    flag: '--hello-timeout',
    env: 'CONFAB_HELLO_TIMEOUT',
    kind: 'integer',
    min: 10,
    max: 600_000,
    default: 10_000,
    unit: 'ms',
    help: 'time a new socket has to send hello (then 4102)',
  },
  {
    path: 'limits.maxBufferedBytes',
    flag: '--max-buffered-bytes',
    env: 'CONFAB_MAX_BUFFERED_BYTES',
    kind: 'integer',
    min: 1024,
    max: 2 ** 30,
    default: 1_048_576,
    unit: 'bytes',
    help: 'bytes queued to one socket before it is cut with 4100',
  },
  {
    path: 'limits.maxName',
    flag: '--max-name',
    env: 'CONFAB_MAX_NAME',
    kind: 'integer',
    min: 1,
    max: 200,
    default: 40,
    unit: 'characters',
    help: 'longest display name',
  },
  {
    path: 'heartbeat',
    flag: '--heartbeat',
    env: 'CONFAB_HEARTBEAT',
    kind: 'integer',
    min: 10,
    max: 3_600_000,
    default: 25_000,
    unit: 'ms',
    help: 'time between WebSocket pings; a peer that misses one is dropped',
  },
  {
    path: 'rooms.largeAt',
    flag: '--large-room',
    env: 'CONFAB_LARGE_ROOM',
    kind: 'integer',
    min: 1,
    max: 100_000_000,
    default: 500,
    unit: 'users',
    help: 'members from which a room is large: joined lists the first 50, members get counts, not every join and leave',
  },
  {
    path: 'typingTimeout',
    flag: '--typing-timeout',
    env: 'CONFAB_TYPING_TIMEOUT',
    kind: 'integer',
    min: 10,
    max: 600_000,
    default: 5000,
    unit: 'ms',
    help: 'how long a typing lasts without a refresh',
  },
  {
    path: 'shutdownTimeout',
    flag: '--shutdown-timeout',
    env: 'CONFAB_SHUTDOWN_TIMEOUT',
    kind: 'integer',
    min: 0,
    max: 600_000,
    default: 10_000,
    unit: 'ms',
    help: 'time a graceful stop waits for sockets to close',
  },
  {
    path: 'operatorKey',
    flag: '--operator-key',
    env: 'CONFAB_OPERATOR_KEY',
    kind: 'string',
    shown: 'derived from the resume secret',
    help: 'signs people in to the inbox as operators (at least 16 characters); printed at startup as the inbox link',
  },
  {
    path: 'resumeSecret',
    flag: '--resume-secret',
    env: 'CONFAB_RESUME_SECRET',
    kind: 'string',
    shown: 'Redis: shared; memory: random',
    help: 'signs guest resume strings; set the same on every node if you set it',
  },
  {
    path: 'demo',
    flag: '--no-demo',
    env: 'CONFAB_NO_DEMO',
    kind: 'switch',
    value: false,
    default: true,
    shown: 'served',
    help: 'do not serve the demo page at / (/widget.js is still served)',
  },
  { path: 'widget', kind: 'object', default: true, help: 'false: do not serve /widget.js' },
  {
    path: 'logger.level',
    flag: '--log-level',
    env: 'LOG_LEVEL',
    kind: 'choice',
    choices: LEVELS,
    default: 'info',
    help: `${LEVELS.join(', ')}`,
  },
  {
    path: 'logger.stream',
    kind: 'object',
    shown: 'stdout',
    help: 'stream the JSON log lines go to; `logger: false` for no logs at all',
  },
  { path: 'store', kind: 'object', shown: 'memory or Redis', help: 'your own Store implementation' },
  { path: 'broker', kind: 'object', shown: 'memory or Redis', help: 'your own Broker implementation' },
  { path: 'presence', kind: 'object', shown: 'memory or Redis', help: 'your own Presence implementation' },
  // Moderation, hooks and webhooks (docs/moderation.md, docs/webhooks.md).
  {
    path: 'beforePublish',
    kind: 'object',
    shown: 'none',
    help: 'function(context) answering accept, reject or modify before a message is stored',
  },
  {
    path: 'hook.url',
    flag: '--hook-url',
    env: 'CONFAB_HOOK_URL',
    kind: 'string',
    shown: 'none',
    help: 'URL POSTed every message before it is stored; answers accept, reject or modify',
  },
  {
    path: 'hook.timeout',
    flag: '--hook-timeout',
    env: 'CONFAB_HOOK_TIMEOUT',
    kind: 'integer',
    min: 50,
    max: 30_000,
    default: 2000,
    unit: 'ms',
    help: 'time the hook (beforePublish or the URL) may take before it counts as failed',
  },
  {
    path: 'hook.failure',
    flag: '--hook-failure',
    env: 'CONFAB_HOOK_FAILURE',
    kind: 'choice',
    choices: ['reject', 'accept'],
    default: 'reject',
    help: 'a failed hook: reject (the sender gets unavailable) or accept the message unchecked',
  },
  {
    path: 'webhook.url',
    flag: '--webhook-url',
    env: 'CONFAB_WEBHOOK_URL',
    kind: 'string',
    shown: 'none',
    help: 'URL that receives signed events (message.created, ...); needs webhook.secret',
  },
  {
    path: 'webhook.secret',
    flag: '--webhook-secret',
    env: 'CONFAB_WEBHOOK_SECRET',
    kind: 'string',
    shown: 'none',
    help: 'HMAC-SHA256 key of the Confab-Signature header (at least 16 characters)',
  },
  {
    path: 'webhook.maxAge',
    flag: '--webhook-max-age',
    env: 'CONFAB_WEBHOOK_MAX_AGE',
    kind: 'integer',
    min: 1000,
    max: 604_800_000,
    default: 86_400_000,
    unit: 'ms',
    help: 'how long an undelivered event is retried before it is dead-lettered',
  },
]

/** The setting at an option path (the first, when a switch shares it). */
export function setting(path: string): Setting {
  const found = SETTINGS.find((s) => s.path === path)
  if (!found) throw new Error(`no setting ${path}`)
  return found
}

/** The default of a setting, as a number. */
export function defaultNumber(path: string): number {
  return Number(setting(path).default)
}

/** Reads a value at a dotted path of an options object. */
export function getPath(object: unknown, path: string): unknown {
  let value = object
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/** Writes a value at a dotted path, creating the objects on the way. */
export function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let target = object
  for (const key of keys.slice(0, -1)) {
    const next = target[key]
    target[key] = next !== null && typeof next === 'object' ? { ...next } : {}
    target = target[key] as Record<string, unknown>
  }
  target[keys.at(-1) as string] = value
}

/** The default as the docs and `--help` show it, with its unit. */
export function shownDefault(s: Setting): string {
  if (s.shown !== undefined) return s.shown
  if (s.default === undefined) return 'none'
  if (typeof s.default === 'number') return s.unit ? `${s.default} ${s.unit}` : String(s.default)
  return String(s.default)
}
