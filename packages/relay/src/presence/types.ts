import type { Member } from '@confab/sdk/protocol'

/**
 * Who is in which room, across nodes. The registry counts a user's local
 * connections itself and calls `add` for the first and `remove` for the last,
 * so this sees one entry per user per node.
 */
export interface Presence {
  /** Records the user in the room on this node; true when the user was in the room on no node before. */
  add(room: string, member: Member): Promise<boolean>
  /** Removes this node's entry; true when the user is now in the room on no node. */
  remove(room: string, member: Member): Promise<boolean>
  /** Everyone in the room on any live node, once per user. */
  list(room: string): Promise<Member[]>
  /** Sets the handler for members removed because their node stopped heartbeating (no-op in memory). */
  watch(onGone: PresenceGoneHandler): void
  close(): Promise<void>
}

/** Presence that can notice a node die (Redis) tells the registry whom it removed. */
export type PresenceGoneHandler = (room: string, leaves: Member[]) => void
