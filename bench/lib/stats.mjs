// Small numeric helpers for the reports.

/** Median of the finite numbers in `values`, or null when there are none. */
export function median(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = xs.length >> 1
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** `value / base`, or null when either is missing or the base is 0. */
export function ratio(value, base) {
  if (typeof value !== 'number' || typeof base !== 'number' || base === 0) return null
  return value / base
}

/** Resolves after `ms` milliseconds (pauses between measurement phases, never in tests). */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `check()` every `every` ms until it returns true or `timeout` ms pass; resolves with the last answer. */
export async function until(check, { timeout, every = 100 }) {
  const deadline = Date.now() + timeout
  for (;;) {
    const done = await check()
    if (done || Date.now() >= deadline) return done
    await sleep(every)
  }
}
