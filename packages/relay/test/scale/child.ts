// A child process's life, as the Redis test harnesses (sentinel-set.ts, cluster-redis.ts) ask about it.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

/** True while `child` was started and has neither exited nor been ended by a signal. */
export function running(child: ChildProcess | null): child is ChildProcess {
  return child !== null && child.exitCode === null && child.signalCode === null
}

/** SIGKILLs `child` if it runs; resolves once it has exited. */
export async function killHard(child: ChildProcess | null): Promise<void> {
  if (!running(child)) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}
