/**
 * The Redis Cluster hash slot of a key (0..16383): CRC16/XMODEM of the key, or
 * of its hash tag (the text between the first `{` and the next `}` when not
 * empty), modulo 16384, as in the Redis Cluster specification.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8')
  const open = bytes.indexOf(0x7b) // {
  let start = 0
  let end = bytes.length
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // }
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++) {
    crc ^= (bytes[i] as number) << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}

const tags = new Map<number, string>()

/** A short hash tag whose keys fall in `slot` (found by trying, once per slot). */
export function tagOf(slot: number): string {
  let tag = tags.get(slot)
  if (tag !== undefined) return tag
  for (let n = 0; ; n++) {
    if (keySlot(`{${n}}`) === slot) {
      tag = String(n)
      tags.set(slot, tag)
      return tag
    }
  }
}
