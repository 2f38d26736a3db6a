// The benchmark's chat text: 171 ASCII bytes that carry the phase, the send time
// and the sender's sequence number, so a receiver can measure latency and count
// deliveries by scanning raw frame bytes, without parsing JSON.

/** Bytes of every message text, as in the targets. */
export const TEXT_BYTES = 171

const MARK = Buffer.from('@@')
const PIPE = 0x7c
const PAD = 'x'.repeat(TEXT_BYTES)

/** Microseconds on CLOCK_MONOTONIC: the same clock in every process on the machine. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n)
}

/** A 171-byte text: `@@phase|sendTimeUs|seq|xxx…`. */
export function makeText(phase, seq) {
  const head = `@@${phase}|${nowUs()}|${seq}|`
  return head + PAD.slice(head.length)
}

function readInt(buf, start) {
  let n = 0
  let i = start
  for (let c = buf[i]; c !== PIPE && i < buf.length; c = buf[++i]) n = n * 10 + (c - 48)
  return [n, i + 1]
}

/**
 * Finds the text in `buf[start, end)`, a raw frame payload, and returns `{ phase, sentUs }`,
 * or null when the frame is not a benchmark message (a welcome, a ping, an ack).
 */
export function readText(buf, start = 0, end = buf.length) {
  const at = buf.indexOf(MARK, start)
  if (at < 0 || at >= end) return null
  const [phase, next] = readInt(buf, at + 2)
  const [sentUs] = readInt(buf, next)
  return { phase, sentUs }
}
