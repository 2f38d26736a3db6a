import { randomUUID } from 'node:crypto'
import type { Conversation, Message } from '@confab/sdk/protocol'
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
  type AppendResult,
  type Ban,
  type DeadEvent,
  type Draft,
  ERASED_NAME,
  type QueuedEvent,
  type RoomState,
  type Store,
} from './types'

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** Messages retained per room (default 1,000). */
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
  /** Retained messages, oldest first: `messages[i].offset === state.first + i`. */
  messages: Message[]
  /**
   * Sender and client id (see `idKey`) -> where and when its message was
   * stored and when the id stops counting. Never the message itself: a
   * window of 10 minutes would otherwise keep every message posted in it.
   */
  ids: Map<string, StoredId>
}

interface StoredId {
  offset: number
  ts: number
  expires: number
}

/** Ids are scoped to the sender, so nobody can claim another user's id first; the length prefix keeps the pair unambiguous. */
function idKey(draft: Draft): string {
  return `${draft.from.id.length}:${draft.from.id}:${draft.id}`
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
    const key = idKey(draft)
    const seen = room.ids.get(key)
    // Known while inside the window or while its message is retained, whichever is longer.
    if (seen && (seen.expires > now || seen.offset >= room.state.first)) {
      // Trimmed from history: answered from the resent draft, as the Redis store does (same id, offset and time).
      const message = room.messages[seen.offset - room.state.first] ?? toMessage(draft, seen.offset, seen.ts)
      return { message, duplicate: true, epoch: room.state.epoch }
    }

    const message = toMessage(draft, room.state.head + 1, now)
    room.state.head = message.offset
    room.messages.push(message)
    if (room.messages.length > this.#limit) {
      room.messages.shift()
      room.state.first++
    }
    // Ids live at least as long as the window, and at least while their message is retained.
    room.ids.delete(key)
    room.ids.set(key, { offset: message.offset, ts: now, expires: now + this.#window })
    this.#expireIds(room, now)
    if (draft.conversation === undefined) return { message, duplicate: false, epoch: room.state.epoch }
    const { visitor, by } = draft.conversation
    const id = conversationId(visitor.id)
    const entry = afterMessage(this.#conversations.get(id) ?? newConversation(visitor, now), message, by)
    if (by === 'visitor') entry.visitor.name = visitor.name
    this.#conversations.set(id, entry)
    return { message, duplicate: false, epoch: room.state.epoch, conversation: entry }
  }

  async state(name: string): Promise<RoomState> {
    const room = this.#rooms.get(name)
    return room ? { ...room.state } : { epoch: this.#epoch, head: 0, first: 1 }
  }

  async after(name: string, after: number, limit: number): Promise<Message[]> {
    const room = this.#rooms.get(name)
    if (!room) return []
    const start = Math.max(0, after + 1 - room.state.first)
    return room.messages.slice(start, start + Math.max(0, limit))
  }

  async before(name: string, before: number, limit: number): Promise<Message[]> {
    const room = this.#rooms.get(name)
    if (!room) return []
    const end = Math.max(0, Math.min(room.messages.length, before - room.state.first))
    return room.messages.slice(Math.max(0, end - Math.max(0, limit)), end)
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

  async find(name: string, sender: string, id: string): Promise<Message | undefined> {
    const room = this.#rooms.get(name)
    const seen = room?.ids.get(idKey({ from: { id: sender }, id } as Draft))
    if (!room || !seen) return undefined
    if (!(seen.expires > this.#now() || seen.offset >= room.state.first)) return undefined
    return (
      room.messages[seen.offset - room.state.first] ?? {
        room: name,
        offset: seen.offset,
        id,
        from: { id: sender, name: '' },
        text: '',
        ts: seen.ts,
      }
    )
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
      room.messages.forEach((message, i) => {
        if (message.from.id !== user) return
        room.messages[i] = tombstone(message)
        erased.push({ room: message.room, offset: message.offset })
      })
    }
    return erased
  }

  async expireBefore(before: number): Promise<number> {
    let removed = 0
    for (const room of this.#rooms.values()) {
      while (room.messages.length > 0 && (room.messages[0] as Message).ts < before) {
        room.messages.shift()
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
      room = { state: { epoch: this.#epoch, head: 0, first: 1 }, messages: [], ids: new Map() }
      this.#rooms.set(name, room)
    }
    return room
  }

  /**
   * Ids are kept in insertion order, so expired ones sit at the front; past
   * the count bound the oldest go too, unless their message is retained.
   */
  #expireIds(room: Room, now: number): void {
    const oldestRetained = room.state.first
    const keep = this.#idLimit + room.messages.length
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
