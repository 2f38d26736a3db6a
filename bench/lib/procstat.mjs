// A server's CPU time and memory read from /proc, not asked over IPC: an overloaded
// server answers IPC only after its backlog, but the kernel's counters are always there.
import { readFile, writeFile } from 'node:fs/promises'

const TICK_US = 10_000 // USER_HZ is 100 on Linux: utime and stime count 10 ms ticks

/** User + system CPU time of process `pid`, in µs (10 ms resolution). */
export async function cpuUs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_US // utime, stime: fields 14 and 15 of stat
}

/** Current and peak RSS of `pid` in bytes (VmRSS, VmHWM). */
export async function memory(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') }
}

/** Resets the peak RSS (VmHWM) of `pid` to its current RSS, so a phase reports its own peak. */
export async function resetPeak(pid) {
  await writeFile(`/proc/${pid}/clear_refs`, '5')
}
