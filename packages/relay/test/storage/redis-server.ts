// A private redis-server for tests that kill, stop or restart Redis: the shared
// one on 6379 must never be touched like that.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { IN_CI } from '../../../../test/support/env'

/**
 * Null when `redis-server` is on PATH; otherwise why the suite is skipped
 * (loudly), or a throw under CI, where a skip would hide a hole.
 */
export function redisServerMissing(): string | null {
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, 'redis-server')))
  if (found) return null
  const why = 'redis-server is not on PATH (apt-get install -y redis-server)'
  if (IN_CI) throw new Error(`Redis is required under CI: ${why}`)
  console.warn(`\n*** SKIPPED: Redis restart tests: ${why} ***\n`)
  return why
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/**
 * redis-server on a free port with its own data directory. AOF with fsync on
 * every write, so a SIGKILL loses nothing Redis acknowledged (the setting
 * docs/scaling.md recommends when history must survive a Redis crash).
 */
export class RedisServer {
  #child: ChildProcess | null = null
  readonly #dir = mkdtempSync(join(tmpdir(), 'confab-redis-'))

  private constructor(
    readonly port: number,
    readonly extra: readonly string[],
  ) {}

  /** Starts a server, with `extra` arguments (e.g. `--replicaof`), and resolves once it accepts connections. */
  static async start(extra: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extra)
    await server.restart()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** (Re)starts on the same port and data directory; resolves once ready. */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir, '--save', '']
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--protected-mode', 'no')
    args.push(...this.extra)
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] })
    this.#child = child
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready in 10 s:\n${output}`)), 10_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
    })
    child.stdout?.resume()
  }

  /** Sends a signal (SIGKILL by default) and, unless it only pauses the process, waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = signal === 'SIGSTOP' || signal === 'SIGCONT' ? null : once(child, 'exit')
    child.kill(signal)
    await exited
  }

  /** Kills the server and removes its data. */
  async stop(): Promise<void> {
    await this.kill('SIGCONT')
    await this.kill('SIGKILL')
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
