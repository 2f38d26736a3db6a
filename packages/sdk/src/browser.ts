/** What the client does when the browser reports a network or visibility change. */
export interface BrowserHooks {
  /** The link may be stale (back online, tab visible again, page restored from bfcache): check it now. */
  wake(): void
  /** The browser says the network is gone. */
  offline(): void
}

interface EventHost {
  addEventListener(type: string, cb: () => void): void
  removeEventListener(type: string, cb: () => void): void
  navigator?: { onLine?: boolean }
  document?: { hidden?: boolean }
}

const host = globalThis as unknown as Partial<EventHost>

/** True only when a browser positively says it is offline (Node, Deno and Bun never do). */
export function isOffline(): boolean {
  return host.navigator?.onLine === false
}

/**
 * Listens to `online`, `offline`, `visibilitychange` and `pageshow` where the global
 * object has them (browsers), and does nothing elsewhere. Returns the function that stops listening.
 */
export function watchBrowser(hooks: BrowserHooks): () => void {
  const { addEventListener: on, removeEventListener: off } = host
  if (typeof on !== 'function' || typeof off !== 'function') return () => {}
  const wake = (): void => {
    if (!host.document?.hidden) hooks.wake()
  }
  const offline = (): void => hooks.offline()
  const pairs: [string, () => void][] = [
    ['online', wake],
    ['visibilitychange', wake],
    ['pageshow', wake],
    ['offline', offline],
  ]
  for (const [type, cb] of pairs) on.call(globalThis, type, cb)
  return () => {
    for (const [type, cb] of pairs) off.call(globalThis, type, cb)
  }
}
