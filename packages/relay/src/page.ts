/** Bytes of messages (as JSON) one `joined` or `history` page holds by default: half the send-queue bound. */
export const PAGE_BYTES = 512 * 1024 // 512 KiB

/**
 * The newest of `messages` (oldest first; log entries too) whose JSON fits in `budget` bytes,
 * and always the newest one, so a client paging back never gets stuck on an
 * empty page. A page built this way can never alone fill a send queue.
 */
export function newestWithin<T>(messages: T[], budget: number): T[] {
  let bytes = 0
  for (let i = messages.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(JSON.stringify(messages[i])) + 1
    if (bytes > budget && i < messages.length - 1) return messages.slice(i + 1)
  }
  return messages
}
