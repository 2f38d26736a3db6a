import { randomUUID } from 'node:crypto'
import type { Conversation, Message, ReadPosition, Update } from '@confab/sdk/protocol'
import {
  afterMessage,
  byActivity,
  type ConversationPage,
  type ConversationPatch,
  type ConversationQuery,
  conversationId,
  decodeCursor,
  isAfter,
  matches,
  newConversation,
  pageSize,
  patched,
  toPage,
} from './conversations'
import {
  apply,
  type Change,
  check,
  furthestFirst,
  READ_LIMIT,
  READS_SHOWN,
  type Reactors,
  toChange,
  view,
  withoutUser,
} from './lifecycle'
import {
  type AppendResult,
  type Ban,
  type ChangeDraft,
  type ChangeResult,
  type DeadEvent,
  type Draft,
  type Entry,
  ERASED_NAME,
  type QueuedEvent,
  type ReadState,
  type RoomState,
  type Store,
} from './types'

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** Log entries (messages and changes) retained per room (default 1,000). */
  historyLimit?: number
  /** How long a client id is remembered after its message was stored, in ms (default 600,000 = 10 minutes); ids of retained messages are remembered regardless. */
  idempotencyWindow?: number
  /**
   * Most client ids a room remembers beyond those of its retained messages
   * (default 10,000): the window's bound by count, so a flood of posts cannot
   * grow memory however short it is. The oldest are forgotten first.
   */
  idempotencyLimit?: number
  /** Clock, for tests. */
  now?: () => number
}

interface Room {
  state: RoomState
  /** Retained log entries, oldest first: `entries[i].offset === state.first + i`. */
  entries: Slot[]
  /**
   * Sender and client id (see `idKey`) -> where and when its entry was
   * stored and when the id stops counting. Never the entry itself: a
   * window of 10 minutes would otherwise keep every message posted in it.
   */
  ids: Map<string, StoredId>
  /** User -> read position, least recently moved first. */
  reads: Map<string, number>
}

/** A message in its current state (without reactions) and who reacted with what. */
interface Held {
  message: Message
  reactors?: Reactors
}

/** A log entry: a message, or a change to one. */
type Slot = Held | Change

const isChange = (slot: Slot): slot is Change => 'action' in slot

interface StoredId {
  offset: number
  ts: number
  expires: number
}

/** Ids are scoped to the sender, so nobody can claim another user's id first; the length prefix keeps the pair unambiguous. */
function idKey(sender: string, id: string): string {
  return `${sender.length}:${sender}:${id}`
}

/**
 * The embedded default: history and idempotency in this process's memory.
 * A restart loses every room, so every room's epoch is this store's epoch,
 * new per process, and resuming clients are told `recovered: false`.
 * Reads keep nothing: a room exists only once a message was appended to it.
 */
export class MemoryStore implements Store {
  readonly ready = true
  readonly #rooms = new Map<string, Room>()
  readonly #conversations = new Map<string, Conversation>()
  /** The epoch of every room of this store, written or not. */
  readonly #epoch = randomUUID()
  readonly #limit: number
  readonly #window: number
  readonly #idLimit: number
  readonly #now: () => number

  constructor(options: MemoryStoreOptions = {}) {
    this.#limit = options.historyLimit ?? 1000
    this.#window = options.idempotencyWindow ?? 600_000 // 10 minutes
    this.#idLimit = options.idempotencyLimit ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Rooms holding history: only rooms written to count, reading a name stores nothing. */
  get size(): number {
    return this.#rooms.size
  }

  async append(draft: Draft): Promise<AppendResult> {
    const room = this.#room(draft.room)
    const now = this.#now()
    const seen = this.#seen(room, draft.from.id, draft.id, now)
    if (seen) {
      // Trimmed from history: answered from the resent draft, as the Redis store does (same id, offset and time).
      const slot = this.#slot(room, seen.offset)
      const message = slot && !isChange(slot) ? slot.message : toMessage(draft, seen.offset, seen.ts)
      return { message, duplicate: true, epoch: room.state.epoch }
    }

    const message = toMessage(draft, room.state.head + 1, now)
    this.#push(room, { message }, draft.from.id, draft.id, now)
    this.#moveRead(room, draft.from.id, message.offset)
    if (draft.conversation === undefined) return { message, duplicate: false, epoch: room.state.epoch }
    const { visitor, by } = draft.conversation
    const id = conversationId(visitor.id)
    const entry = afterMessage(this.#conversations.get(id) ?? newConversation(visitor, now), message, by)
    if (by === 'visitor') entry.visitor.name = visitor.name
    this.#conversations.set(id, entry)
    return { message, duplicate: false, epoch: room.state.epoch, conversation: entry }
  }

  async change(draft: ChangeDraft): Promise<ChangeResult> {
    const room = this.#rooms.get(draft.room)
    const now = this.#now()
    const seen = room && this.#seen(room, draft.from.id, draft.id, now)
    if (room && seen) {
      const slot = this.#slot(room, seen.offset)
      const change = slot && isChange(slot) ? slot : toChange(draft, seen.offset, seen.ts, draft.on)
      return { update: this.#update(room, change, draft.from.id), duplicate: true, epoch: room.state.epoch }
    }
    const slot = room && this.#slot(room, draft.target)
    const held = slot && !isChange(slot) ? slot : undefined
    check(draft, held?.message, now)
    if (!room || !held) throw new Error('unreachable: check() refuses a missing target')
    const next = apply(draft, held.message, held.reactors, now)
    const change = toChange(draft, room.state.head + 1, now, next.on)
    // The target stays where it is in the log; only its state changes.
    const index = draft.target - room.state.first
    room.entries[index] = next.reactors === undefined ? { message: next.message } : next
    this.#push(room, change, draft.from.id, draft.id, now)
    return { update: this.#update(room, change, draft.from.id), duplicate: false, epoch: room.state.epoch }
  }

  async state(name: string): Promise<RoomState> {
    const room = this.#rooms.get(name)
    return room ? { ...room.state } : { epoch: this.#epoch, head: 0, first: 1 }
  }

  async after(name: string, after: number, limit: number, viewer?: string): Promise<Entry[]> {
    const room = this.#rooms.get(name)
    if (!room) return []
    const start = Math.max(0, after + 1 - room.state.first)
    return room.entries
      .slice(start, start + Math.max(0, limit))
      .map((slot) => (isChange(slot) ? this.#update(room, slot, viewer) : view(slot.message, slot.reactors, viewer)))
  }

  async before(name: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    const room = this.#rooms.get(name)
    if (!room) return []
    const found: Message[] = []
    let i = Math.min(room.entries.length, before - room.state.first) - 1
    for (; i >= 0 && found.length < limit; i--) {
      const slot = room.entries[i] as Slot
      if (!isChange(slot)) found.push(view(slot.message, slot.reactors, viewer))
    }
    return found.reverse()
  }

  async markRead(name: string, user: string, offset: number): Promise<number> {
    const room = this.#rooms.get(name)
    if (!room) return 0
    return this.#moveRead(room, user, Math.min(offset, room.state.head))
  }

  async readState(name: string, user: string): Promise<ReadState> {
    const room = this.#rooms.get(name)
    if (!room) return { read: 0, unread: 0, reads: [] }
    const read = room.reads.get(user) ?? 0
    let unread = 0
    for (let i = Math.max(0, read + 1 - room.state.first); i < room.entries.length; i++) {
      const slot = room.entries[i] as Slot
      if (!isChange(slot) && slot.message.from.id !== user && !slot.message.deleted) unread++
    }
    const reads = this.#positions(room)
      .filter((position) => position.user !== user)
      .slice(0, READS_SHOWN)
    return { read, unread, reads }
  }

  async reads(name: string, limit: number): Promise<ReadPosition[]> {
    const room = this.#rooms.get(name)
    return room ? this.#positions(room).slice(0, Math.max(0, limit)) : []
  }

  async close(): Promise<void> {
    this.#rooms.clear()
    this.#conversations.clear()
  }

  async conversations(query: ConversationQuery): Promise<ConversationPage> {
    const mark = query.cursor === undefined ? null : decodeCursor(query.cursor)
    const limit = pageSize(query.limit)
    const items = [...this.#conversations.values()]
      .filter((entry) => matches(entry, query) && isAfter(entry, mark))
      .sort(byActivity)
      .slice(0, limit + 1)
    return toPage(items, limit)
  }

  async conversation(id: string): Promise<Conversation | null> {
    return this.#conversations.get(id) ?? null
  }

  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation | null> {
    const entry = this.#conversations.get(id) ?? (patch.visitor && newConversation(patch.visitor, this.#now()))
    if (!entry) return null
    const next = patched(entry, patch)
    this.#conversations.set(id, next)
    return next
  }

  async find(name: string, sender: string, id: string): Promise<Entry | undefined> {
    const room = this.#rooms.get(name)
    const seen = room && this.#seen(room, sender, id, this.#now())
    if (!room || !seen) return undefined
    const slot = this.#slot(room, seen.offset)
    if (slot) return isChange(slot) ? this.#update(room, slot) : view(slot.message, slot.reactors)
    return { room: name, offset: seen.offset, id, from: { id: sender, name: '' }, text: '', ts: seen.ts }
  }

  readonly #bans = new Map<string, Ban>()
  readonly #queue = new Map<string, QueuedEvent>()
  readonly #dead: DeadEvent[] = []

  async addBan(ban: Ban): Promise<void> {
    this.#bans.set(ban.id, { ...ban })
  }

  async removeBan(id: string): Promise<Ban | undefined> {
    const ban = this.#bans.get(id)
    this.#bans.delete(id)
    return ban
  }

  async bans(now: number): Promise<Ban[]> {
    for (const [id, ban] of this.#bans) if (ban.until !== undefined && ban.until <= now) this.#bans.delete(id)
    return [...this.#bans.values()].map((ban) => ({ ...ban }))
  }

  async pushEvent(event: QueuedEvent): Promise<void> {
    if (!this.#queue.has(event.id)) this.#queue.set(event.id, { ...event })
  }

  async peekEvents(limit: number): Promise<QueuedEvent[]> {
    return [...this.#queue.values()].slice(0, Math.max(0, limit)).map((event) => ({ ...event }))
  }

  async retryEvent(id: string, attempts: number, next: number): Promise<void> {
    const event = this.#queue.get(id)
    if (event) Object.assign(event, { attempts, next })
  }

  async finishEvent(id: string, reason?: string): Promise<void> {
    const event = this.#queue.get(id)
    if (!event) return
    this.#queue.delete(id)
    if (reason !== undefined) {
      this.#dead.push({ ...event, reason, diedAt: this.#now() })
      // Bounded like everything else kept in memory.
      if (this.#dead.length > 1000) this.#dead.shift()
    }
  }

  async deadEvents(limit: number): Promise<DeadEvent[]> {
    return limit > 0 ? this.#dead.slice(-limit).reverse() : []
  }

  /** One process: it always holds its own lease. */
  async lease(): Promise<boolean> {
    return true
  }

  async eraseUser(user: string): Promise<{ room: string; offset: number }[]> {
    const erased: { room: string; offset: number }[] = []
    for (const room of this.#rooms.values()) {
      room.reads.delete(user)
      room.entries.forEach((slot, i) => {
        if (isChange(slot)) {
          if (slot.from.id === user) room.entries[i] = { ...slot, from: { id: user, name: ERASED_NAME } }
        } else if (slot.message.from.id === user) {
          room.entries[i] = { message: tombstone(slot.message) }
          erased.push({ room: slot.message.room, offset: slot.message.offset })
        } else {
          const reactors = withoutUser(slot.reactors, user)
          if (reactors !== slot.reactors)
            room.entries[i] = reactors === undefined ? { message: slot.message } : { message: slot.message, reactors }
        }
      })
    }
    return erased
  }

  async expireBefore(before: number): Promise<number> {
    let removed = 0
    for (const room of this.#rooms.values()) {
      while (room.entries.length > 0 && entryTs(room.entries[0] as Slot) < before) {
        room.entries.shift()
        room.state.first++
        removed++
      }
    }
    return removed
  }

  /** The room, created on its first append only. */
  #room(name: string): Room {
    let room = this.#rooms.get(name)
    if (!room) {
      room = { state: { epoch: this.#epoch, head: 0, first: 1 }, entries: [], ids: new Map(), reads: new Map() }
      this.#rooms.set(name, room)
    }
    return room
  }

  /** The retained entry at `offset`. */
  #slot(room: Room, offset: number): Slot | undefined {
    return offset >= room.state.first ? room.entries[offset - room.state.first] : undefined
  }

  /** Where the sender's id was stored, while it still counts: inside the window, or while its entry is retained. */
  #seen(room: Room, sender: string, id: string, now: number): StoredId | undefined {
    const seen = room.ids.get(idKey(sender, id))
    return seen && (seen.expires > now || seen.offset >= room.state.first) ? seen : undefined
  }

  /** Appends an entry at the next offset, trims to the limit and remembers its id. */
  #push(room: Room, slot: Slot, sender: string, id: string, now: number): void {
    const offset = isChange(slot) ? slot.offset : slot.message.offset
    room.state.head = offset
    room.entries.push(slot)
    if (room.entries.length > this.#limit) {
      room.entries.shift()
      room.state.first++
    }
    // Ids live at least as long as the window, and at least while their entry is retained.
    const key = idKey(sender, id)
    room.ids.delete(key)
    room.ids.set(key, { offset, ts: now, expires: now + this.#window })
    this.#expireIds(room, now)
  }

  /** The change with its target's current state (null once the target is no longer retained). */
  #update(room: Room, change: Change, viewer?: string): Update {
    const slot = this.#slot(room, change.target)
    const message = slot && !isChange(slot) ? view(slot.message, slot.reactors, viewer) : null
    return { ...change, message }
  }

  /** Moves the user's position forward to `offset`; the position after. */
  #moveRead(room: Room, user: string, offset: number): number {
    const read = room.reads.get(user) ?? 0
    if (offset <= read) return read
    // Re-inserted so the map stays in order of the latest move.
    room.reads.delete(user)
    room.reads.set(user, offset)
    if (room.reads.size > READ_LIMIT) room.reads.delete(room.reads.keys().next().value as string)
    return offset
  }

  #positions(room: Room): ReadPosition[] {
    return [...room.reads].map(([user, offset]) => ({ user, offset })).sort(furthestFirst)
  }

  /**
   * Ids are kept in insertion order, so expired ones sit at the front; past
   * the count bound the oldest go too, unless their message is retained.
   */
  #expireIds(room: Room, now: number): void {
    const oldestRetained = room.state.first
    const keep = this.#idLimit + room.entries.length
    for (const [id, entry] of room.ids) {
      if (entry.offset >= oldestRetained) break
      if (entry.expires > now && room.ids.size <= keep) break
      room.ids.delete(id)
    }
  }
}

/** A message with its content and its sender's name removed: room, offset, id, ts and sender id stay. */
export function tombstone(message: Message): Message {
  return {
    room: message.room,
    offset: message.offset,
    id: message.id,
    from: { id: message.from.id, name: ERASED_NAME },
    text: '',
    ts: message.ts,
  }
}

function entryTs(slot: Slot): number {
  return isChange(slot) ? slot.ts : slot.message.ts
}

function toMessage(draft: Draft, offset: number, ts: number): Message {
  return {
    room: draft.room,
    offset,
    id: draft.id,
    from: draft.from,
    text: draft.text,
    ...(draft.meta === undefined ? {} : { meta: draft.meta }),
    ts,
  }
}
