// Web Storage can throw (Safari private mode, sandboxed iframes, storage disabled by policy).
// The widget then simply does not remember: the name typed stays in memory for this page only
// and is asked for again on the next page load.

/** Reads `key` from the given storage, or null when storage is unavailable. */
export function read(area: 'localStorage' | 'sessionStorage', key: string): string | null {
  try {
    return globalThis[area].getItem(key)
  } catch (error) {
    if (error instanceof DOMException || error instanceof TypeError) return null
    throw error
  }
}

/** Writes `key` (or removes it when `value` is null); a no-op when storage is unavailable. */
export function write(area: 'localStorage' | 'sessionStorage', key: string, value: string | null): void {
  try {
    if (value === null) globalThis[area].removeItem(key)
    else globalThis[area].setItem(key, value)
  } catch (error) {
    if (!(error instanceof DOMException || error instanceof TypeError)) throw error
  }
}

/** localStorage key of the display name the visitor chose. */
export const NAME_KEY = 'confab:name'

/** sessionStorage key that marks a conversation in `room` as active in this tab (the launcher reconnects on load). */
export const activeKey = (relay: string, room: string): string => `confab:active:${relay}#${room}`
