// The only module that relies on Node's `net.Socket` internals. Every use is
// checked, so a Node release that changes them turns the saving off, never
// breaks a socket; test/socket-internals.test.ts pins the behaviour.
import type { Duplex } from 'node:stream'

/** Node's own key of a socket's idle timer (`net.Socket[kTimeout]`), found once. */
let kTimeout: symbol | null | undefined

function timeoutKey(socket: object): symbol | null {
  if (kTimeout === undefined) {
    kTimeout = Object.getOwnPropertySymbols(socket).find((key) => key.description === 'timeout') ?? null
  }
  return kTimeout
}

/**
 * Drops a socket's idle timer once it is off (`setTimeout(0)`, which `ws`
 * calls on upgrade). Node clears such a timer but keeps the `Timeout` and the
 * bound callback on the socket for its whole life: about 200 bytes per
 * WebSocket. `null` is the value a socket starts with.
 */
export function forgetIdleTimer(socket: Duplex): void {
  const key = timeoutKey(socket)
  if (key === null || (socket as { timeout?: number }).timeout !== 0) return
  const holder = socket as unknown as Record<symbol, { _destroyed?: boolean } | null>
  // Only a cleared timer goes: a live one would still fire.
  if (holder[key]?._destroyed === true) holder[key] = null
}

/**
 * Copies the `close` listener array of a socket to one of its exact length.
 * EventEmitter makes an array of two listeners, then `push`es the third, which
 * leaves room for 19: about 140 bytes unused on every WebSocket's TCP socket,
 * which has three (the socket gate's, hapi's connection tracking, ws's). The
 * listeners and their order stay; `_events` is EventEmitter's own table.
 */
export function compactCloseListeners(socket: Duplex): void {
  const events = (socket as unknown as { _events?: Record<string, unknown> })._events
  if (events === undefined) return
  const listeners = events.close
  if (Array.isArray(listeners) && listeners.length > 2) events.close = listeners.slice()
}
