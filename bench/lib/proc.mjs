// Child processes for the benchmark: every server and load generator runs in its
// own process, pinned to one core, and dies with the coordinator (also on SIGINT).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Core the server under test runs on; load generators get the other one. */
export const SERVER_CPU = 0
export const LOAD_CPU = 1

const children = new Set()

function killAll() {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
}

process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll()
    process.exit(130)
  })
}

/**
 * Starts `node script ...args` pinned to `cpu` with an IPC channel. The soft limit on
 * open files is raised to the hard one first: 5,000 sockets need more than 1,024.
 */
export function spawnNode(script, args = [], { cpu, nodeArgs = [], env } = {}) {
  const path = script instanceof URL ? fileURLToPath(script) : script
  const command = ['taskset', '-c', String(cpu), process.execPath, ...nodeArgs, path, ...args.map(String)]
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bench', ...command], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kills one child and waits until it is gone. */
export function stop(child, signal = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill(signal)
  })
}
