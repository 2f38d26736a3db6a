// A real relay process (the built `confab-relay` CLI) for multi-node tests.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/confab-relay.js', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const RESUME_SECRET = randomUUID()

/** One `confab-relay --redis URL` process on 127.0.0.1, restartable on the same port. */
export class RelayNode {
  #child: ChildProcess | null = null
  #port = 0
  /** Everything the process wrote, for failure messages. */
  log = ''

  private constructor(
    readonly name: string,
    /** `--redis URL`, or other command-line arguments that say where Redis is (`--redis-sentinels …`). */
    readonly redis: readonly string[],
  ) {}

  /** Starts a node on a free port and resolves once it listens; `redis` is a URL or the arguments naming Redis. */
  static async start(name: string, redis: string | readonly string[]): Promise<RelayNode> {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`)
    warnIfStale()
    const node = new RelayNode(name, typeof redis === 'string' ? ['--redis', redis] : redis)
    await node.restart()
    return node
  }

  get port(): number {
    return this.#port
  }

  /** The node's WebSocket URL. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}/ws`
  }

  /** The node's HTTP base URL. */
  get http(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  /** Starts the process again, on the port it had (a free one the first time). */
  async restart(): Promise<void> {
    const args = [BIN, '--host', '127.0.0.1', '--port', String(this.#port), ...this.redis]
    // One secret for the whole cluster, so a guest who resumes on another node stays the same user.
    args.push('--resume-secret', RESUME_SECRET)
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LOG_LEVEL: 'warn', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#child = child
    child.stderr?.on('data', (chunk: Buffer) => {
      this.log += chunk.toString()
    })
    this.#port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`relay ${this.name} did not start in 10 s:\n${this.log}`)),
        10_000,
      )
      child.stdout?.on('data', (chunk: Buffer) => {
        this.log += chunk.toString()
        const port = this.log.match(/WebSocket: ws:\/\/[^:/\s]+:(\d+)\//)?.[1]
        if (port) {
          clearTimeout(timer)
          resolve(Number(port))
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`relay ${this.name} exited (${code ?? signal}) before listening:\n${this.log}`))
      })
    })
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
  }
}

let warned = false

/** These tests run the built CLI (`npm test` builds first); say so loudly when src/ is newer than the build. */
function warnIfStale(): void {
  if (warned) return
  warned = true
  const src = fileURLToPath(new URL('../../src/', import.meta.url))
  const built = statSync(DIST).mtimeMs
  const newer = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && statSync(join(src, file)).mtimeMs > built,
  )
  if (newer.length > 0) {
    console.warn(`\n*** relay dist is older than src (${newer.slice(0, 3).join(', ')}…): run \`npm run build\` ***\n`)
  }
}
