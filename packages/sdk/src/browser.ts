/** What the client does when the browser reports a network or visibility change. */
export interface BrowserHooks {
  /** The link may be stale (back online, tab visible again, page restored from bfcache): check it now. */
  wake(): void
  /** The browser says the network is gone. */
  offline(): void
}

interface EventHost {
  addEventListener(type: string, cb: (event: Event) => void): void
  removeEventListener(type: string, cb: (event: Event) => void): void
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
  if (!on) return () => {}
  const types = ['online', 'offline', 'visibilitychange', 'pageshow']
  // One listener for all four: `offline` says so; the others say the link may be stale, unless the tab is hidden.
  const cb = (event: Event): void => {
    if (event.type === 'offline') hooks.offline()
    else if (!host.document?.hidden) hooks.wake()
  }
  for (const type of types) on.call(host, type, cb)
  return () => {
    for (const type of types) off?.call(host, type, cb)
  }
}
