// Runs relay-process.ts as a real Node process (bundled with rolldown, like test/sqlite/sqlite-relay.ts).
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const ENTRY = fileURLToPath(new URL('./relay-process.ts', import.meta.url))
const OUT_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url))
const SDK = fileURLToPath(new URL('../../../sdk/src/', import.meta.url))
let bundled: Promise<string> | undefined

function bundle(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true })
    const file = `${OUT_DIR}webhook-relay-process-${process.pid}.mjs`
    await build({
      input: ENTRY,
      platform: 'node',
      resolve: { alias: { '@confab/sdk/protocol': `${SDK}protocol.ts` } },
      external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('@confab/sdk'),
      output: { file, format: 'esm', codeSplitting: false },
      logLevel: 'silent',
    })
    return file
  })()
  return bundled
}

export async function removeBundle(): Promise<void> {
  const file = await bundled?.catch(() => undefined)
  bundled = undefined
  if (file) rmSync(file, { force: true })
}

/** A relay process; `kill` sends SIGKILL and waits for the exit. */
export class RelayProcess {
  log = ''
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(args: string[]): Promise<RelayProcess> {
    const script = await bundle()
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
    })
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay did not start in 10 s:\n${log}`)), 10_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        log += chunk.toString()
        const found = log.match(/listening (\d+)/)?.[1]
        if (found) {
          clearTimeout(timer)
          resolve(Number(found))
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`relay exited (${code}):\n${log}`))
      })
    })
    const relay = new RelayProcess(child, port)
    relay.log = log
    return relay
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGKILL')
    await exited
  }
}
