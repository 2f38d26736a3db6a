import type { Member, PresenceFrame } from '@confab/sdk/protocol'
import { SharedFrame } from './writer'

/** Where a batch writes: the room's subscribers as the batch sees them. */
export interface BatchReader {
  readonly user: Member
  deliver(frame: SharedFrame): void
}

/**
 * Bytes of messages a room batches into one write before flushing early, so
 * a batch stays small next to the 1 MiB send-queue bound.
 */
export const MAX_BATCH = 64 * 1024 // 64 KiB

/** Users whose presence changes one batch merges before flushing early: a `presence` frame of about 60 KiB. */
export const MAX_PRESENCE = 1000

/** A user's presence changes within one batch: the first and the latest, and the member as last seen. */
export interface Change {
  member: Member
  first: 'join' | 'leave'
  last: 'join' | 'leave'
}

/** Records one join or leave of `member` among a batch's changes (keyed by user id). */
export function mergeChange(changes: Map<string, Change>, member: Member, kind: 'join' | 'leave'): void {
  const entry = changes.get(member.id)
  if (entry) {
    entry.member = member
    entry.last = kind
  } else changes.set(member.id, { member, first: kind, last: kind })
}

/**
 * The two `presence` frames a batch's changes make. `net` is for members
 * from before the batch: each user's change from start to end, so a user
 * who joined and left (or left and came back) appears in neither list.
 * `latest` is for a member who joined during the batch, whose `joined` list
 * was taken somewhere within it: each changed user's latest change. Either
 * is null when it would say nothing; `same` when they are the same frame.
 */
export function presenceFrames(
  room: string,
  changes: Iterable<Change>,
): { net: PresenceFrame | null; latest: PresenceFrame | null; same: boolean } {
  const net: PresenceFrame = { type: 'presence', room, joins: [], leaves: [] }
  const latest: PresenceFrame = { type: 'presence', room, joins: [], leaves: [] }
  let same = true
  for (const { member, first, last } of changes) {
    const list = last === 'join' ? 'joins' : 'leaves'
    latest[list].push(member)
    if (first === last) net[list].push(member)
    else same = false
  }
  const empty = (frame: PresenceFrame) => frame.joins.length + frame.leaves.length === 0
  return { net: empty(net) ? null : net, latest: empty(latest) ? null : latest, same }
}

/** The id of the one user a presence frame announces as joining, when that is all it says. */
export function loneJoiner(frame: PresenceFrame | null): string | null {
  return frame !== null && frame.leaves.length === 0 && frame.joins.length === 1 ? (frame.joins[0]?.id ?? null) : null
}

/**
 * One room's output of one event-loop turn: the messages delivered, the
 * presence changes merged into one frame placed where the first change
 * happened, and the subscribers that joined meanwhile. Written to every
 * subscriber together at the end of the turn, one write per socket.
 */
export class Batch {
  #frames: SharedFrame[] = []
  #bytes = 0
  /** The batch's presence changes, and the index in `#frames` before which their frame goes. */
  #presence: { at: number; changes: Map<string, Change> } | null = null
  /** Subscribers that joined during this batch, with the number of frames then: they get nothing from before. */
  #fresh = new Map<BatchReader, number>()

  /** True when a flush would write nothing. */
  get empty(): boolean {
    return this.#frames.length === 0 && this.#presence === null
  }

  /** Adds a message frame; true when the batch is full and should be flushed now. */
  message(frame: SharedFrame): boolean {
    this.#frames.push(frame)
    this.#bytes += frame.size
    return this.#bytes >= MAX_BATCH
  }

  /** Merges presence changes; true when the batch is full and should be flushed now. */
  presence(joins: readonly Member[], leaves: readonly Member[]): boolean {
    this.#presence ??= { at: this.#frames.length, changes: new Map() }
    const { changes } = this.#presence
    for (const member of joins) mergeChange(changes, member, 'join')
    for (const member of leaves) mergeChange(changes, member, 'leave')
    return changes.size >= MAX_PRESENCE
  }

  /** The reader was just sent `joined`: from now on it gets only what follows. */
  joined(reader: BatchReader): void {
    this.#fresh.set(reader, this.#frames.length)
  }

  /** Forgets a reader that left. */
  drop(reader: BatchReader): void {
    this.#fresh.delete(reader)
  }

  /**
   * Writes the batch to `readers` (skipping those in `skip`, not yet sent
   * `joined`) and starts a new one. Members from before the batch get one
   * shared buffer built once; a member that joined during it gets the frames
   * after its `joined`, with the latest presence changes; nobody is told of
   * its own lone join, which its `joined` already listed.
   */
  flush(room: string, readers: Iterable<BatchReader>, skip: ReadonlySet<BatchReader>): void {
    const frames = this.#frames
    const batch = this.#presence
    const fresh = this.#fresh
    this.#frames = []
    this.#bytes = 0
    this.#presence = null
    if (fresh.size > 0) this.#fresh = new Map()
    if (frames.length === 0 && batch === null) return

    let net: SharedFrame | null = null
    let latest: SharedFrame | null = null
    let netJoiner: string | null = null
    let latestJoiner: string | null = null
    if (batch !== null) {
      const made = presenceFrames(room, batch.changes.values())
      latest = made.latest === null ? null : SharedFrame.of(JSON.stringify(made.latest))
      latestJoiner = loneJoiner(made.latest)
      if (made.same) {
        net = latest
        netJoiner = latestJoiner
      } else if (made.net !== null) {
        net = SharedFrame.of(JSON.stringify(made.net))
        netJoiner = loneJoiner(made.net)
      }
    }
    const at = batch?.at ?? 0
    const cache = new Map<string, SharedFrame | null>()
    /** The batch from frame `from` on, with `presence` at its place (first, when that was before `from`). */
    const build = (from: number, presence: SharedFrame | null): SharedFrame | null => {
      const key = `${from}:${presence === null ? '-' : presence === net ? 'n' : 'l'}`
      const hit = cache.get(key)
      if (hit !== undefined) return hit
      const parts = from === 0 ? [...frames] : frames.slice(from)
      if (presence !== null) parts.splice(Math.max(0, at - from), 0, presence)
      const frame = parts.length === 0 ? null : parts.length === 1 ? (parts[0] as SharedFrame) : SharedFrame.join(parts)
      cache.set(key, frame)
      return frame
    }
    // Built once for everyone who was in the room before this turn: the loop below only looks things up.
    const shared = build(0, net)
    for (const reader of readers) {
      if (skip.has(reader)) continue
      const from = fresh.size === 0 ? undefined : fresh.get(reader)
      const frame =
        from === undefined
          ? netJoiner === reader.user.id
            ? build(0, null)
            : shared
          : build(from, latestJoiner === reader.user.id ? null : latest)
      if (frame !== null) reader.deliver(frame)
    }
  }
}
