// A relay process for the soak: the built `confab-relay` CLI on Redis through
// Sentinels, restartable on its port, keeping every log line it wrote across
// restarts and reading its own /metrics.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MASTER_NAME } from './sentinel-set'

const BIN = fileURLToPath(new URL('../../bin/confab-relay.js', import.meta.url))
export const DIST = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
/** One secret for the cluster, so a guest who resumes on the other node stays the same user. */
const RESUME_SECRET = randomUUID()

/** pino's numeric levels. */
const WARN = 40
const ERROR = 50

/** A log line at error level or above, and whether it says why (an `err` or `cause` with a message). */
export interface ErrorLine {
  node: string
  line: string
  caused: boolean
}

/** What a node's /metrics says about its memory and traffic. */
export interface NodeSample {
  rss: number
  heap: number
  connections: number
  unavailable: number
}

/**
 * What a line of relay output is: a pino line at error level or above, with or without an `err`
 * (or `cause`) that has a message; a warning; or nothing to judge (the banner, lower levels).
 * A line that starts like JSON but does not parse is an error without a cause.
 */
export function classify(line: string): 'error with cause' | 'error without cause' | 'warning' | null {
  if (!line.startsWith('{')) return null
  let entry: { level?: unknown; err?: { message?: unknown }; cause?: unknown }
  try {
    entry = JSON.parse(line)
  } catch {
    return 'error without cause'
  }
  const level = typeof entry.level === 'number' ? entry.level : 0
  if (level < WARN) return null
  if (level < ERROR) return 'warning'
  const caused =
    (typeof entry.err?.message === 'string' && entry.err.message !== '') ||
    (entry.cause !== undefined && entry.cause !== null)
  return caused ? 'error with cause' : 'error without cause'
}

export class SoakNode {
  #child: ChildProcess | null = null
  #port = 0
  #partial = ''
  /** Runs of the process so far (1 after start, +1 per restart). */
  runs = 0
  /** Every error-level line, from every run. */
  readonly errors: ErrorLine[] = []
  /** Count of warn-level lines, from every run. */
  warnings = 0
  /** The last few KB of output, for failure messages. */
  tail = ''

  private constructor(
    readonly name: string,
    readonly sentinels: string[],
  ) {}

  static async start(name: string, sentinels: string[]): Promise<SoakNode> {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`)
    const node = new SoakNode(name, sentinels)
    await node.restart()
    return node
  }

  get port(): number {
    return this.#port
  }

  get http(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  get running(): boolean {
    const child = this.#child
    return child !== null && child.exitCode === null && child.signalCode === null
  }

  /** Starts the process (again), on the port it had (a free one the first time); resolves once it listens. */
  async restart(): Promise<void> {
    const args = [BIN, '--host', '127.0.0.1', '--port', String(this.#port)]
    args.push('--redis-sentinels', this.sentinels.join(','), '--redis-sentinel-name', MASTER_NAME)
    args.push('--resume-secret', RESUME_SECRET)
    // Every client comes through the balancer, from 127.0.0.1: the per-address cap would count them all as one.
    args.push('--max-connections-per-ip', '100000')
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LOG_LEVEL: 'warn', REDIS_URL: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#child = child
    this.runs++
    this.#partial = ''
    let banner: string | null = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      // Anything on stderr is not a structured log line: each counts as an error without a cause.
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() !== '') this.errors.push({ node: this.name, line: `stderr: ${line}`, caused: false })
      }
      this.#keep(chunk.toString())
    })
    this.#port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`relay ${this.name} did not start in 15 s:\n${this.tail}`)),
        15_000,
      )
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString()
        this.#keep(text)
        this.#lines(text)
        if (banner !== null) {
          banner += text
          const port = banner.match(/WebSocket: ws:\/\/[^:/\s]+:(\d+)\//)?.[1]
          if (port) {
            clearTimeout(timer)
            banner = null
            resolve(Number(port))
          }
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`relay ${this.name} exited (${code ?? signal}) before listening:\n${this.tail}`))
      })
    })
  }

  #keep(text: string): void {
    this.tail = (this.tail + text).slice(-8000)
  }

  /** Sorts the JSON log lines of a chunk (lines may span chunks). */
  #lines(text: string): void {
    const lines = (this.#partial + text).split('\n')
    this.#partial = lines.pop() ?? ''
    for (const line of lines) {
      const kind = classify(line)
      if (kind === 'warning') this.warnings++
      else if (kind !== null) this.errors.push({ node: this.name, line, caused: kind === 'error with cause' })
    }
  }

  /** Memory, open connections and `unavailable` answers, from the node's /metrics. */
  async sample(): Promise<NodeSample> {
    const text = await (await fetch(`${this.http}/metrics`)).text()
    const read = (pattern: string) =>
      Number(text.match(new RegExp(`^${pattern} (\\d+(?:\\.\\d+)?(?:e\\+?\\d+)?)`, 'm'))?.[1] ?? 0)
    return {
      rss: read('confab_process_resident_memory_bytes'),
      heap: read('confab_nodejs_heap_size_used_bytes'),
      connections: read('confab_connections'),
      unavailable: read('confab_errors_total\\{code="unavailable"\\}'),
    }
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child
    if (!child || !this.running) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
  }
}
