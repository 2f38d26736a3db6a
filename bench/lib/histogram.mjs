// Latency histogram in microseconds: 10 µs buckets up to 100 ms, then 1 ms buckets
// up to 2 minutes. Fixed size, so recording a delivery never allocates, and
// histograms from several processes merge by adding counts.

const FINE_US = 10
const FINE_BUCKETS = 10_000 // up to 100 ms
const COARSE_US = 1_000
const COARSE_BUCKETS = 120_000 // up to 120 s
const SIZE = FINE_BUCKETS + COARSE_BUCKETS

/** A new, empty histogram. */
export function createHistogram() {
  return new Uint32Array(SIZE)
}

/** Counts one latency of `us` microseconds. */
export function record(histogram, us) {
  const fine = Math.floor(us / FINE_US)
  if (fine < FINE_BUCKETS) histogram[Math.max(fine, 0)]++
  else histogram[Math.min(SIZE - 1, FINE_BUCKETS + Math.floor((us - FINE_BUCKETS * FINE_US) / COARSE_US))]++
}

/** Non-empty buckets as `[index, count]` pairs: small enough for IPC. */
export function toSparse(histogram) {
  const pairs = []
  for (let i = 0; i < SIZE; i++) if (histogram[i] !== 0) pairs.push([i, histogram[i]])
  return pairs
}

/** Adds sparse pairs into `histogram`. */
export function addSparse(histogram, pairs) {
  for (const [i, n] of pairs) histogram[i] += n
}

function upperUs(i) {
  return i < FINE_BUCKETS ? (i + 1) * FINE_US : FINE_BUCKETS * FINE_US + (i - FINE_BUCKETS + 1) * COARSE_US
}

/** Percentiles (e.g. [50, 95, 99]) in milliseconds, as the upper bound of their bucket. */
export function percentiles(histogram, ps) {
  let total = 0
  for (let i = 0; i < SIZE; i++) total += histogram[i]
  if (total === 0) return ps.map(() => null)
  const out = []
  let seen = 0
  let i = 0
  for (const p of ps) {
    const rank = Math.ceil((p / 100) * total)
    while (seen + histogram[i] < rank) seen += histogram[i++]
    out.push(upperUs(i) / 1000)
  }
  return out
}
