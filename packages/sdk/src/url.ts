import { DEFAULT_PATH } from './protocol.js'

/**
 * Turns what a user passes to `connect` into the WebSocket URL: `http(s):` becomes
 * `ws(s):` and an empty path becomes `/ws`. Throws a TypeError for anything else.
 */
export function socketUrl(url: string): string {
  const u = new URL(url)
  // http -> ws and https -> wss; both are "special" schemes, so the URL setter allows it.
  u.protocol = u.protocol.replace('http', 'ws')
  if (!/^wss?:$/.test(u.protocol)) throw new TypeError(`confab: not a ws(s) or http(s) URL: ${url}`)
  if (u.pathname === '/') u.pathname = DEFAULT_PATH
  return u.href
}
