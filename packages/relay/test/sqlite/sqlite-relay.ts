// Runs relay-process.ts as a real Node process. Node 20 cannot run TypeScript,
// so the script and the relay source it imports are bundled once per test run
// with rolldown (already installed with vite); packages stay imports, resolved
// from the repository's node_modules. The bundle sits one folder below
// packages/relay (git-ignored test-results/), where the relay finds its package.json.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const ENTRY = fileURLToPath(new URL('./relay-process.ts', import.meta.url))
const OUT_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url))
const SDK = fileURLToPath(new URL('../../../sdk/src/', import.meta.url))

let bundled: Promise<string> | undefined

/** Bundles relay-process.ts (once per test process) and returns the .mjs path. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true })
    const file = `${OUT_DIR}sqlite-relay-process-${process.pid}.mjs`
    await build({
      input: ENTRY,
      platform: 'node',
      // Workspace sources like vitest's aliases; every other bare import stays a package import.
      resolve: { alias: { '@confab/sdk/protocol': `${SDK}protocol.ts` } },
      external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('@confab/sdk'),
      // One file: the relay's lazy imports (Redis, SQLite) are inlined rather than split into chunks.
      output: { file, format: 'esm', codeSplitting: false },
      logLevel: 'silent',
    })
    return file
  })()
  return bundled
}

/** Deletes the bundle (linters would read it otherwise); the next `start` or `run` makes it again. */
export async function removeBundle(): Promise<void> {
  const file = await bundled?.catch(() => undefined)
  bundled = undefined
  if (file) rmSync(file, { force: true })
}

/** One relay process on a SQLite file, on 127.0.0.1 and a free port. */
export class SqliteRelay {
  #child: ChildProcess | null = null
  /** Everything the process wrote, for failure messages. */
  log = ''
  port = 0

  private constructor(readonly file: string) {}

  /** Starts a relay on `file` and resolves once it listens. */
  static async start(file: string): Promise<SqliteRelay> {
    const relay = new SqliteRelay(file)
    await relay.restart()
    return relay
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  /** Starts the process again on the same file (on a new port). */
  async restart(): Promise<void> {
    const result = await run(this.file)
    this.log += result.log
    if (result.exit !== null) throw new Error(`relay exited (${result.exit}) before listening:\n${result.log}`)
    this.#child = result.child
    this.port = result.port
    result.child.stderr?.on('data', (chunk: Buffer) => {
      this.log += chunk.toString()
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

/** What starting the process led to: listening on a port, or an exit code with its output. */
export async function run(
  file: string,
): Promise<{ child: ChildProcess; port: number; exit: null; log: string } | { exit: number | string; log: string }> {
  const script = await bundle()
  const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
    stderr += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay on ${file} did not start in 10 s:\n${log}`))
    }, 10_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      const port = log.match(/listening (\d+)/)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve({ child, port: Number(port), exit: null, log })
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ exit: code ?? (signal as string), log: stderr })
    })
  })
}
