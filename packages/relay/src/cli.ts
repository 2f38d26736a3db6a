import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs as parseArguments } from 'node:util'
import { ConfigError, DEFAULTS, type RelayOptions } from './config'
import { API_ACCESS_TEXT } from './http'
import { type ConfabApi, VERSION } from './plugin'
import { createRelay, type Relay } from './relay'
import { SETTINGS, type Setting, setPath, shownDefault } from './settings'

/** Where a value came from: the flag or variable the user wrote, by option path. */
const sources = new WeakMap<RelayOptions, Map<string, string>>()

/** The settings the command reads: the rows of the table with a flag or a variable. */
const COMMAND_SETTINGS = SETTINGS.filter((s) => s.flag !== undefined || s.env !== undefined)

/** The text value of a flag or variable, as the option it sets; throws `ConfigError` naming `name`. */
function parseValue(s: Setting, value: string, name: string): unknown {
  switch (s.kind) {
    case 'integer':
      if (!/^\d{1,10}$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`)
      return Number(value)
    case 'list':
      return value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
    case 'switch':
      return s.value
    default:
      if (s.path === 'auth.publicKey' && !value.includes('-----BEGIN')) {
        try {
          return readFileSync(value, 'utf8')
        } catch {
          throw new ConfigError(name, `cannot read the key file "${value}"`)
        }
      }
      return value
  }
}

/** The text of `--help`, from the table of settings. */
export function usage(): string {
  const row = (flag: string, env: string, help: string) => `  ${flag.padEnd(32)} ${env.padEnd(30)} ${help}`
  const rows = COMMAND_SETTINGS.map((s) =>
    row(
      `${s.flag ?? ''}${s.flag === undefined || s.kind === 'switch' ? '' : ' VALUE'}`,
      s.env ?? '',
      `${s.help} (default: ${shownDefault(s)})`,
    ),
  )
  return [
    `confab-relay ${VERSION}: the Confab chat relay`,
    '',
    'Usage: confab-relay [options]   (each option can also be set by its environment variable; flags win)',
    '',
    row('flag', 'variable', 'meaning'),
    ...rows,
    row('--help', '', 'print this and exit'),
    row('--version', '', 'print the version and exit'),
    '',
  ].join('\n')
}

/** What the command line asks for. */
export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: RelayOptions }

/** `node:util` parse options for every flag of the table. */
const PARSE_OPTIONS: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
}
for (const s of COMMAND_SETTINGS) {
  if (s.flag !== undefined) PARSE_OPTIONS[s.flag.slice(2)] = { type: s.kind === 'switch' ? 'boolean' : 'string' }
}

/** A `node:util` parse error as one line naming the flag. */
function parseError(error: unknown): ConfigError {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? 'command line'
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new ConfigError(flag, 'unknown option (see --help)')
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new ConfigError(/'([^']+)'/.exec(message)?.[1] ?? flag, 'unexpected argument (see --help)')
  }
  if (/does not take an argument/.test(message)) return new ConfigError(flag, 'takes no value')
  return new ConfigError(flag, 'needs a value')
}

/** Reads flags over environment variables over defaults. Throws `ConfigError` naming the bad flag or variable. */
export function parseArgs(argv: string[], env: Record<string, string | undefined>): Command {
  let parsed: ReturnType<typeof parseArguments>
  try {
    parsed = parseArguments({ args: argv, options: PARSE_OPTIONS, strict: true, allowPositionals: false })
  } catch (error) {
    throw parseError(error)
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>
  if (flags.help) return { kind: 'help' }
  if (flags.version) return { kind: 'version' }
  const options: Record<string, unknown> = {}
  const from = new Map<string, string>()
  const apply = (s: Setting, value: string, name: string) => {
    setPath(options, s.path, parseValue(s, value, name))
    from.set(s.path, name)
  }
  for (const s of COMMAND_SETTINGS) {
    const value = s.env === undefined ? undefined : env[s.env]
    if (value === undefined || value === '') continue
    if (s.kind === 'switch' && (value === '0' || value === 'false')) continue
    apply(s, value, s.env as string)
  }
  for (const s of COMMAND_SETTINGS) {
    const value = s.flag === undefined ? undefined : flags[s.flag.slice(2)]
    if (value === undefined || value === false) continue
    apply(s, value === true ? '' : value, s.flag as string)
  }
  // `redis` is a URL alone, or `{ url, prefix, sentinels, … }` once anything else is set (with the URL from either side).
  const redis = options.redis as Record<string, unknown> | undefined
  if (redis !== undefined)
    options.redis = Object.keys(redis).every((key) => key === 'url') ? redis.url : { url: '', ...redis }
  if (from.has('redis.url')) from.set('redis', from.get('redis.url') as string)
  if (from.has('logger.level')) options.logger = { level: (options.logger as { level: string }).level }
  const result = options as RelayOptions
  sources.set(result, from)
  return { kind: 'run', options: result }
}

/** Where the command keeps its data when neither a data file nor Redis is given. */
const DEFAULT_DATA = './confab.db'

/** The banner's line on where history is kept. */
function dataText(options: RelayOptions): string {
  const redis = options.redis
  if (typeof redis === 'object' && redis.sentinelName !== undefined) {
    return `Redis, master "${redis.sentinelName}" through Sentinels (shared by every node)`
  }
  if (typeof redis === 'object' && redis.cluster !== undefined && redis.cluster.length > 0) {
    return 'Redis Cluster (shared by every node)'
  }
  if (redis !== undefined) return 'Redis (shared by every node)'
  if (options.data === undefined || options.data === ':memory:') return 'in memory (lost when the relay stops)'
  return `${resolve(options.data)} (SQLite)`
}

/** A configuration error as the user should read it: naming the flag or variable they used for the setting. */
function named(error: ConfigError, options: RelayOptions | undefined): string {
  const from = options === undefined ? undefined : sources.get(options)
  const used = from?.get(error.setting)
  if (used !== undefined) return `${used}: ${error.why}`
  // A fault of a group (`auth`: two ways set at once) names every flag or variable the user set in it.
  const within = [...(from?.entries() ?? [])].filter(([path]) => path.startsWith(`${error.setting}.`))
  return within.length === 0 ? error.message : `${within.map(([, name]) => name).join(', ')}: ${error.why}`
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
  let options: RelayOptions | undefined
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
    options = command.options
    options.port ??= DEFAULTS.port
    // The command keeps its data by default: one SQLite file, unless Redis holds it.
    if (options.redis === undefined) options.data ??= DEFAULT_DATA
    timeout = options.shutdownTimeout ?? timeout
    relay = await createRelay(options)
    await relay.start()
  } catch (error) {
    // A bad setting is the operator's to fix (status 2); anything else (Redis down, port taken) is status 1.
    const message = error instanceof ConfigError ? named(error, options) : String((error as Error)?.message ?? error)
    io.err(`confab-relay: ${message}`)
    io.exit(error instanceof ConfigError ? 2 : 1)
    return null
  }
  const ws = `${relay.url.replace(/^http/, 'ws')}/ws`
  const { api, operatorKey } = (relay.server.plugins as { confab: ConfabApi }).confab
  io.out(
    `Confab relay ${VERSION} is up.\n  Demo page: ${relay.url}/\n  WebSocket: ${ws}\n  HTTP API:  ${API_ACCESS_TEXT[api]}\n  Data:      ${dataText(options)}`,
  )
  // The key rides in the fragment: browsers never send it to a server or put it in a Referer.
  io.out(`  inbox: ${relay.url}/inbox#key=${operatorKey}`)

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
