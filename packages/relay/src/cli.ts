import { readFileSync } from 'node:fs'
import { ConfigError, DEFAULTS, type RelayOptions } from './config'
import { VERSION } from './plugin'
import { createRelay, type Relay } from './relay'

/** One setting: its flag, its environment variable, and how it lands in the options. */
interface Setting {
  flag: string
  env: string
  /** Takes no value (`--help`). */
  bare?: boolean
  help: string
  apply(options: RelayOptions, value: string, name: string): void
}

function int(name: string, value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`)
  return Number(value)
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** Every flag and variable; `--help` prints this table. */
export const SETTINGS: Setting[] = [
  {
    flag: '--port',
    env: 'PORT',
    help: `TCP port (default ${DEFAULTS.port})`,
    apply: (o, v, n) => {
      o.port = int(n, v)
    },
  },
  {
    flag: '--host',
    env: 'HOST',
    help: `interface to listen on (default ${DEFAULTS.host})`,
    apply: (o, v) => {
      o.host = v
    },
  },
  {
    flag: '--redis',
    env: 'REDIS_URL',
    help: 'Redis URL for history, fan-out and presence across nodes (default: in memory)',
    apply: (o, v) => {
      o.redis = typeof o.redis === 'object' ? { ...o.redis, url: v } : v
    },
  },
  {
    flag: '--redis-prefix',
    env: 'CONFAB_REDIS_PREFIX',
    help: "namespace of every Redis key and channel, so deployments can share one Redis (default 'confab:')",
    apply: (o, v) => {
      // --redis may come before or after: the URL and the prefix land in one object.
      const url = typeof o.redis === 'string' ? o.redis : (o.redis?.url ?? '')
      o.redis = { url, prefix: v }
    },
  },
  {
    flag: '--origins',
    env: 'CONFAB_ORIGINS',
    help: 'comma-separated origins allowed to open a WebSocket (default: any)',
    apply: (o, v) => {
      o.origins = list(v)
    },
  },
  {
    flag: '--jwt-secret',
    env: 'CONFAB_JWT_SECRET',
    help: 'HS256 secret: hello tokens must be JWTs signed with it (default: anonymous guests)',
    apply: (o, v) => {
      o.auth = { ...o.auth, secret: v }
    },
  },
  {
    flag: '--jwt-public-key',
    env: 'CONFAB_JWT_PUBLIC_KEY',
    help: 'PEM file (or PEM text) of an RS256/ES256 public key that hello tokens must verify with',
    apply: (o, v, n) => {
      let pem = v
      if (!v.includes('-----BEGIN')) {
        try {
          pem = readFileSync(v, 'utf8')
        } catch {
          throw new ConfigError(n, `cannot read the key file "${v}"`)
        }
      }
      o.auth = { ...o.auth, publicKey: pem }
    },
  },
  {
    flag: '--jwt-leeway',
    env: 'CONFAB_JWT_LEEWAY',
    help: `clock skew allowed on exp/nbf, in seconds (default ${DEFAULTS.leeway})`,
    apply: (o, v, n) => {
      o.auth = { ...o.auth, leeway: int(n, v) }
    },
  },
  {
    flag: '--api-key',
    env: 'CONFAB_API_KEY',
    help: 'key for the HTTP API, sent as Authorization: Bearer KEY (default: open without auth, off with it)',
    apply: (o, v) => {
      o.apiKey = v
    },
  },
  {
    flag: '--history-limit',
    env: 'CONFAB_HISTORY_LIMIT',
    help: `messages retained per room (default ${DEFAULTS.historyLimit})`,
    apply: (o, v, n) => {
      o.history = { ...o.history, limit: int(n, v) }
    },
  },
  {
    flag: '--trust-proxy',
    env: 'CONFAB_TRUST_PROXY',
    help: 'comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed (default: none)',
    apply: (o, v) => {
      o.trustProxy = list(v)
    },
  },
  {
    flag: '--max-connections-per-ip',
    env: 'CONFAB_MAX_CONNECTIONS_PER_IP',
    help: `open sockets per client IP (default ${DEFAULTS.limits.connectionsPerIp})`,
    apply: (o, v, n) => {
      o.limits = { ...o.limits, connectionsPerIp: int(n, v) }
    },
  },
  {
    flag: '--max-connections',
    env: 'CONFAB_MAX_CONNECTIONS',
    help: 'open sockets on this node before new ones get close 1013 (default 0: no cap)',
    apply: (o, v, n) => {
      o.limits = { ...o.limits, maxConnections: int(n, v) }
    },
  },
  {
    flag: '--heartbeat',
    env: 'CONFAB_HEARTBEAT',
    help: `ping interval in ms (default ${DEFAULTS.heartbeat})`,
    apply: (o, v, n) => {
      o.heartbeat = int(n, v)
    },
  },
  {
    flag: '--shutdown-timeout',
    env: 'CONFAB_SHUTDOWN_TIMEOUT',
    help: `ms a graceful stop waits for sockets to close (default ${DEFAULTS.shutdownTimeout})`,
    apply: (o, v, n) => {
      o.shutdownTimeout = int(n, v)
    },
  },
  {
    flag: '--resume-secret',
    env: 'CONFAB_RESUME_SECRET',
    help: 'secret signing guest resume strings (default: shared through Redis, else random per process)',
    apply: (o, v) => {
      o.resumeSecret = v
    },
  },
  {
    flag: '--no-demo',
    env: 'CONFAB_NO_DEMO',
    bare: true,
    help: 'do not serve the demo page at / (/widget.js is still served)',
    apply: (o) => {
      o.demo = false
    },
  },
  {
    flag: '--log-level',
    env: 'LOG_LEVEL',
    help: 'fatal, error, warn, info, debug, trace or silent (default info)',
    apply: (o, v) => {
      o.logger = { level: v }
    },
  },
]

/** The text of `--help`. */
export function usage(): string {
  const rows = SETTINGS.map((s) => `  ${`${s.flag}${s.bare ? '' : ' VALUE'}`.padEnd(32)} ${s.env.padEnd(30)} ${s.help}`)
  return [
    `confab-relay ${VERSION}: the Confab chat relay`,
    '',
    'Usage: confab-relay [options]   (each option can also be set by its environment variable; flags win)',
    '',
    `  ${'flag'.padEnd(32)} ${'variable'.padEnd(30)} meaning`,
    ...rows,
    `  ${'--help'.padEnd(32)} ${''.padEnd(30)} print this and exit`,
    `  ${'--version'.padEnd(32)} ${''.padEnd(30)} print the version and exit`,
    '',
  ].join('\n')
}

/** What the command line asks for. */
export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: RelayOptions }

/** Reads flags over environment variables over defaults. Throws `ConfigError` naming the bad setting. */
export function parseArgs(argv: string[], env: Record<string, string | undefined>): Command {
  const options: RelayOptions = {}
  for (const setting of SETTINGS) {
    const value = env[setting.env]
    if (value !== undefined && value !== '') {
      if (setting.bare) {
        if (value !== '0' && value !== 'false') setting.apply(options, value, setting.env)
      } else setting.apply(options, value, setting.env)
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--version' || arg === '-v') return { kind: 'version' }
    const [flag = '', inline] = arg.split(/=(.*)/s, 2)
    const setting = SETTINGS.find((s) => s.flag === flag)
    if (!setting) throw new ConfigError(arg, 'unknown option (see --help)')
    if (setting.bare) {
      setting.apply(options, '', flag)
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new ConfigError(flag, 'needs a value')
    }
    setting.apply(options, value, flag)
  }
  return { kind: 'run', options }
}

/** Output, exit and signals, injectable for tests. */
export interface Io {
  out(line: string): void
  err(line: string): void
  exit(code: number): void
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void
}

const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
  onSignal: (signal, handler) => process.on(signal, handler),
}

/**
 * Runs `confab-relay`: parses settings, starts the relay, prints where it
 * listens, and stops gracefully on SIGTERM/SIGINT within a bounded time.
 * A bad setting prints one line and exits with status 2.
 */
export async function main(
  argv: string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
  io: Io = processIo,
): Promise<Relay | null> {
  let relay: Relay
  let timeout: number = DEFAULTS.shutdownTimeout
  try {
    const command = parseArgs(argv, env)
    if (command.kind === 'help') {
      io.out(usage())
      return null
    }
    if (command.kind === 'version') {
      io.out(VERSION)
      return null
    }
    const options = command.options
    options.port ??= DEFAULTS.port
    timeout = options.shutdownTimeout ?? timeout
    relay = await createRelay(options)
    await relay.start()
  } catch (error) {
    // A bad setting is the operator's to fix (status 2); anything else (Redis down, port taken) is status 1.
    io.err(`confab-relay: ${error instanceof Error ? error.message : String(error)}`)
    io.exit(error instanceof ConfigError ? 2 : 1)
    return null
  }
  const ws = `${relay.url.replace(/^http/, 'ws')}/ws`
  io.out(`Confab relay ${VERSION} is up.\n  Demo page: ${relay.url}/\n  WebSocket: ${ws}`)

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      io.err(`confab-relay: ${signal} again, exiting now`)
      io.exit(1)
      return
    }
    stopping = true
    // Bounded: drain (up to the timeout) plus hapi's own stop, then a hard exit.
    const hard = setTimeout(
      () => {
        io.err('confab-relay: shutdown took too long, exiting')
        io.exit(1)
      },
      timeout * 2 + 1000,
    )
    hard.unref()
    relay.stop().then(
      () => io.exit(0),
      (error: unknown) => {
        io.err(`confab-relay: shutdown failed: ${String(error)}`)
        io.exit(1)
      },
    )
  }
  io.onSignal('SIGTERM', () => stop('SIGTERM'))
  io.onSignal('SIGINT', () => stop('SIGINT'))
  return relay
}
