// Web Storage can throw (Safari private mode, sandboxed iframes, storage disabled by policy).
// The widget then simply does not remember: the name typed stays in memory for this page only
// and is asked for again on the next page load.
import type { StorageLike } from '@confab/sdk'

/** A Web Storage area. */
export type Area = 'localStorage' | 'sessionStorage'

/**
 * What the `persist` attribute allows: `local` keeps the visitor's identity and name in localStorage (the same
 * member in every tab and on return visits), `session` keeps everything per tab, `none` keeps nothing.
 */
export type Persist = 'local' | 'session' | 'none'

/** Reads `key` from the given storage, or null when storage is unavailable. */
export function read(area: Area, key: string): string | null {
  try {
    return globalThis[area].getItem(key)
  } catch (error) {
    if (error instanceof DOMException || error instanceof TypeError) return null
    throw error
  }
}

/** Writes `key` (or removes it when `value` is null); a no-op when storage is unavailable. */
export function write(area: Area, key: string, value: string | null): void {
  try {
    if (value === null) globalThis[area].removeItem(key)
    else globalThis[area].setItem(key, value)
  } catch (error) {
    if (!(error instanceof DOMException || error instanceof TypeError)) throw error
  }
}

/** Where `persist` keeps the identity and the name; undefined for `none`. */
export function identityArea(persist: Persist): Area | undefined {
  return persist === 'local' ? 'localStorage' : persist === 'session' ? 'sessionStorage' : undefined
}

/** Key suffix of the guest identity, stored apart from the rest of the SDK's snapshot. */
const RESUME = ':resume'

/**
 * The storage handed to the SDK for `persist`. For `local` it splits the SDK's snapshot: the guest identity
 * (`resume`) goes to localStorage, so the visitor is the same member in every tab and on every return, while the
 * outbox and room positions stay in sessionStorage, per tab, so two tabs never both send one queued message.
 */
export function sdkStorage(persist: Persist): StorageLike | undefined {
  if (persist === 'none') return undefined
  if (persist === 'session') return { getItem: (k) => read('sessionStorage', k), setItem, removeItem }
  return {
    getItem(key) {
      const resume = read('localStorage', key + RESUME)
      const rest = read('sessionStorage', key)
      if (resume === null) return rest
      try {
        return JSON.stringify({ outbox: [], rooms: {}, ...(rest ? JSON.parse(rest) : {}), resume })
      } catch (error) {
        // An unreadable tab snapshot: the SDK removes it; the identity alone still holds.
        if (!(error instanceof SyntaxError)) throw error
        return JSON.stringify({ outbox: [], rooms: {}, resume })
      }
    },
    setItem(key, value) {
      const { resume, ...rest } = JSON.parse(value) as { resume?: string }
      write('localStorage', key + RESUME, resume ?? null)
      write('sessionStorage', key, JSON.stringify(rest))
    },
    removeItem(key) {
      write('sessionStorage', key, null)
    },
  }

  function setItem(key: string, value: string): void {
    write('sessionStorage', key, value)
  }
  function removeItem(key: string): void {
    write('sessionStorage', key, null)
  }
}

/** Storage key of the display name the visitor chose (in the {@link identityArea}). */
export const NAME_KEY = 'confab:name'

/** sessionStorage key that marks a conversation in `room` as active in this tab (the launcher reconnects on load). */
export const activeKey = (relay: string, room: string): string => `confab:active:${relay}#${room}`

/** sessionStorage key of the launcher's open (`1`) or closed (`0`) state in this tab. */
export const openKey = (relay: string, room: string): string => `confab:open:${relay}#${room}`

/** Conversation mode: the room name the relay gave the visitor's conversation, so a return visit joins at once. */
export const conversationKey = (relay: string): string => `confab:conversation:${relay}`

/** Conversation mode: `1` once the visitor gave a name or email (identity storage), `later` when put off (tab). */
export const profileKey = (relay: string): string => `confab:profile:${relay}`
