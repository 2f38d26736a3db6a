import type { Member } from '@confab/sdk/protocol'

/**
 * Who is in which room, across nodes. The registry counts a user's local
 * connections itself and calls `add` for the first and `remove` for the last,
 * so this sees one entry per user per node.
 */
export interface Presence {
  /** Records the user in the room on this node; true when the user was in the room on no node before. */
  add(room: string, member: Member): Promise<boolean>
  /**
   * Removes this node's entry; true when the user is now in the room on no node.
   * Redis: while unreachable it resolves false and retries later, reporting the leave through `watch`.
   */
  remove(room: string, member: Member): Promise<boolean>
  /** Everyone in the room on any live node, once per user. */
  list(room: string): Promise<Member[]>
  /**
   * How many distinct users are in the room, in O(1). Redis: users of a node that died count until
   * the sweep removes them (within `nodeTtl + sweepInterval`), where `list` drops them at once.
   */
  count(room: string): Promise<number>
  /**
   * Up to `limit` members ordered by user id, after the user id `after` (from the start when undefined),
   * and the cursor of the next page (null at the end). Paging through a room this way returns each user
   * present throughout exactly once.
   */
  page(room: string, after: string | undefined, limit: number): Promise<MemberPage>
  /**
   * Sets the handler for leaves no local call returned (no-op in memory): members of a node that
   * stopped heartbeating, or a removal retried after an outage. Each leave is reported on one node
   * only, so the handler must broadcast it through the broker.
   */
  watch(onGone: PresenceGoneHandler): void
  close(): Promise<void>
}

/** Presence that can notice a node die (Redis) tells the registry whom it removed. */
export type PresenceGoneHandler = (room: string, leaves: Member[]) => void

/** A page of a room's members and the cursor of the next page (null at the end). */
export interface MemberPage {
  members: Member[]
  cursor: string | null
}
