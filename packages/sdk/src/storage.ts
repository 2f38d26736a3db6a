import type { Draft } from './outbox.js'
import type { Position } from './protocol.js'

/** The part of the Web Storage API the SDK uses; `sessionStorage` fits, so does a Map-backed stub. */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** What survives a page reload: unacknowledged messages, each room's last position, the guest identity. */
export interface Snapshot {
  /** Outbox, oldest first. */
  outbox: Draft[]
  /** Last position delivered per room. */
  rooms: Record<string, Position>
  /**
   * The `resume` string of the last `welcome`: a guest's identity. The relay scopes message ids to their
   * sender, so a restored message must go out as the same guest to be recognised as a resend.
   */
  resume?: string
}

/**
 * Picks the storage for `persist`: true means `sessionStorage` (per tab, cleared when the
 * tab closes), an object means that object, anything else means no persistence.
 */
export function pickStorage(persist: boolean | StorageLike | undefined): StorageLike | undefined {
  if (persist === true) return (globalThis as { sessionStorage?: StorageLike }).sessionStorage
  return persist || undefined
}

/**
 * Reads a snapshot written by {@link save}; an empty one when there is none. An unreadable one
 * (written by another version, or edited by hand) is removed: a client that starts clean beats
 * one that cannot start at all in this tab.
 */
export function load(storage: StorageLike | undefined, key: string): Snapshot {
  const text = storage?.getItem(key)
  const empty: Snapshot = { outbox: [], rooms: {} }
  if (!text) return empty
  try {
    const s = JSON.parse(text) as Snapshot
    if (Array.isArray(s.outbox) && typeof s.rooms === 'object' && s.rooms) return s
  } catch {
    // Handled below, like any other unreadable snapshot.
  }
  storage?.removeItem(key)
  return empty
}

/** Writes a snapshot (synchronously: a page may unload right after a send). */
export function save(storage: StorageLike | undefined, key: string, snapshot: Snapshot): void {
  storage?.setItem(key, JSON.stringify(snapshot))
}
