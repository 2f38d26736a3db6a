import {
  CONVERSATION_PREFIX,
  type Conversation,
  type JoinedFrame,
  type Member,
  type Message,
  type Meta,
  type Position,
  type ReadPosition,
  type Update,
} from '@confab/sdk/protocol'
import type { Broker, BrokerEvent } from './broker/types'
import { type ChangeRequest, changeDraft, sharedUpdate } from './changes'
import { ClientError } from './errors'
import type { Metrics } from './metrics'
import { newestWithin, PAGE_BYTES } from './page'
import type { Turn } from './pipeline'
import type { MemberPage, Presence } from './presence/types'
import { ReadReceipts } from './reads'
import { Room, type RoomContext, type Subscriber } from './room'
import { conversationRoom, isConversationRoom } from './store/conversations'
import {
  type AppendResult,
  type ChangeResult,
  type Draft,
  isUpdate,
  type Store,
  StoreUnavailableError,
} from './store/types'
import { Typing } from './typing'
import { SharedFrame } from './writer'

export type { ChangeRequest } from './changes'
export type { Subscriber } from './room'

/** What a join asks for. */
export interface JoinRequest {
  ref: string
  since?: Position | undefined
  /** Recent messages wanted when not resuming. */
  history?: number | undefined
}

/** A publish as the registry stores it; identity comes from the relay, never the client. */
export interface PublishRequest {
  room: string
  id: string
  from: Member
  text: string
  meta?: Meta | undefined
  /** Who publishes, for `beforePublish` (see hooks.ts); 'user' when unset. */
  role?: 'user' | 'guest' | 'api' | undefined
}

/** Checks joins and publishes before the registry does them (bans, mutes, hooks: see hooks.ts). */
export interface RoomsGuard {
  /** Throws a `ClientError` to refuse the join. */
  join(user: Member, room: string): Promise<void>
  /** Throws to refuse; otherwise stores (possibly changed) through `store` and returns its result. */
  publish(request: PublishRequest, store: (request: PublishRequest) => Promise<AppendResult>): Promise<AppendResult>
  /** The same for an edit, delete or reaction. */
  change(request: ChangeRequest, store: (request: ChangeRequest) => Promise<ChangeResult>): Promise<ChangeResult>
}

/** Where the registry logs what it cannot hand to a client. */
export interface RoomsLogger {
  error(object: object, message: string): void
}

/** Options of the registry. */
export interface RoomsOptions {
  store: Store
  broker: Broker
  presence: Presence
  metrics: Metrics
  logger: RoomsLogger
  /** Messages a room retains: the cap on `history` counts. */
  historyLimit: number
  /** How long `typing` lasts without a refresh, in ms. */
  typingTimeout: number
  /** Bytes of messages (as JSON) one `joined` or `history` page may hold (default 512 KiB, half the send-queue bound). */
  pageBytes?: number
  /** Bans, mutes and hooks (issue 15). */
  guard?: RoomsGuard
  /** Events of the broker's control channel (moderation.ts), which no client can join. */
  control?: (event: Extract<BrokerEvent, { type: 'control' }>) => void
  /** Called with a conversation's entry after each append to its room that changed it. */
  onConversation?: (conversation: Conversation) => void
  /** How long after sending its author may edit a message, in ms (default 0: unlimited). */
  editWindow?: number
  /** Different emoji one message may carry (default 20). */
  maxReactions?: number
  /** Shortest time between two `read` announcements of one user in one room, in ms (default 1,000). */
  readInterval?: number
  /** Distinct users from which a room is large (default 500; docs/scaling.md, "Large rooms"). */
  largeAt?: number
  /** How often a room whose presence changed is counted again, in ms (default 1,000): a large room's count frames. */
  countInterval?: number
}

/** Members a large room's `joined` lists: the first page by user id. */
export const FIRST_PAGE = 50

/**
 * Retries of a message event the broker failed to publish, after the first
 * attempt: waits of 100 ms doubling to 5 s, about 40 s in all. A message is
 * acked once stored, so without a retry its fan-out would wait for the room's
 * next message; past the last retry it still does.
 */
const FANOUT_RETRIES = 12
const fanOutDelay = (attempt: number): number => Math.min(5000, 100 * 2 ** attempt)

/**
 * The rooms this node has local subscribers in: the join, publish and
 * history API the connections and the HTTP API use. Subscribes to the
 * broker on a room's first local subscriber and unsubscribes after the last,
 * hands each room its broker events (the `Room` orders and delivers them),
 * counts each user's connections so presence sees one member per user,
 * tracks typing with relay-side expiry, and flushes every room's batch at the
 * end of the event-loop turn.
 */
export class Rooms {
  readonly #rooms = new Map<string, Room>()
  readonly #o: RoomsOptions
  readonly #typing: Typing
  readonly #ctx: RoomContext
  /** Rooms with a batch to write, flushed together at the end of the turn (in the order they were scheduled). */
  #scheduled = new Set<Room>()
  #flushing: NodeJS.Immediate | null = null
  /** Retries of failed fan-outs waiting for their turn (only ever non-empty while the broker fails). */
  readonly #retries = new Set<NodeJS.Timeout>()
  readonly #reads: ReadReceipts
  /** Rooms whose presence changed since the last count tick. */
  #uncounted = new Set<Room>()
  #counter: NodeJS.Timeout | null = null
  readonly #largeAt: number
  #stopped = false

  constructor(options: RoomsOptions) {
    this.#o = options
    this.#largeAt = options.largeAt ?? 500
    this.#typing = new Typing(options.typingTimeout, (room, user, active) => {
      this.#broadcast(room, { type: 'typing', user, active })
    })
    this.#reads = new ReadReceipts({
      interval: options.readInterval,
      send: (room, user, offset) => this.#broadcast(room, { type: 'read', user, offset }),
    })
    this.#ctx = {
      store: options.store,
      metrics: options.metrics,
      logger: options.logger,
      schedule: (room) => this.#schedule(room),
    }
  }

  /** Connects the broker and presence to this registry; call once before any join. */
  async start(): Promise<void> {
    await this.#o.broker.start((room, event) => this.#onEvent(room, event))
    this.#o.presence.watch((room, leaves) => {
      this.#broadcast(room, { type: 'presence', joins: [], leaves })
    })
    this.#typing.start()
    this.#counter = setInterval(() => this.#count(), this.#o.countInterval ?? 1000).unref()
  }

  /** Stops timers; the owner closes the store, broker and presence. */
  stop(): void {
    this.#stopped = true
    if (this.#counter !== null) clearInterval(this.#counter)
    this.#uncounted.clear()
    for (const timer of this.#retries) clearTimeout(timer)
    this.#retries.clear()
    this.#typing.stop()
    this.#reads.stop()
    if (this.#flushing !== null) clearImmediate(this.#flushing)
    this.#flushAll()
  }

  /** Number of rooms with local subscribers. */
  get size(): number {
    return this.#rooms.size
  }

  /**
   * Adds the subscriber to the room and sends it `joined` before any live
   * event of the room, with the requested history or the resumed messages.
   */
  async join(sub: Subscriber, name: string, request: JoinRequest): Promise<void> {
    await this.#o.guard?.join(sub.user, name)
    const room = this.#room(name)
    return room.join(() => this.#join(room, sub, request)).finally(() => this.#maybeRelease(room))
  }

  async #join(room: Room, sub: Subscriber, request: JoinRequest): Promise<void> {
    const { store } = this.#o
    // Subscribe before reading the head, so nothing stored after the read can be missed.
    await room.subscribe((name) => this.#o.broker.subscribe(name))
    const state = await store.state(room.name)
    await room.align(state)

    const { since } = request
    let recovered =
      since === undefined ||
      (since.epoch === state.epoch && since.offset >= state.first - 1 && since.offset <= state.head)
    const wanted = Math.min(request.history ?? 0, this.#o.historyLimit)
    const viewer = sub.user.id
    // Resuming: the log after `since`, messages and changes, each message in its current state.
    const fetched =
      since !== undefined && recovered
        ? await store.after(room.name, since.offset, state.head - since.offset, viewer)
        : await store.before(room.name, state.head + 1, wanted, viewer)
    const page = newestWithin(fetched, this.#o.pageBytes ?? PAGE_BYTES)
    // More missed entries than one page holds: like a position outside retained history, the client starts over from the newest.
    if (since !== undefined && page.length < fetched.length) recovered = false
    const messages: Message[] = []
    const updates: Update[] = []
    for (const entry of page) {
      if (!isUpdate(entry)) messages.push(entry)
      else if (recovered) updates.push(entry)
    }
    const reading = await store.readState(room.name, viewer)
    this.#reads.learn(room.name, viewer, reading.read)

    // The batch so far predates `joined`: until it is sent a flush skips the new subscriber, and after it gets only what follows.
    const first = room.add(sub)
    this.#o.metrics.rooms.set(this.#rooms.size)
    let members: Member[]
    let count: number
    const { presence } = this.#o
    try {
      if (first && (await presence.add(room.name, sub.user))) {
        await this.#o.broker.publish(room.name, { type: 'presence', joins: [sub.user], leaves: [] })
      }
      count = await presence.count(room.name)
      room.counted(count, this.#largeAt, false)
      if (room.large) {
        // A large room lists one page: the joiner learns the rest by asking (`members`), never by default.
        members = (await presence.page(room.name, undefined, FIRST_PAGE)).members
        if (!members.some((m) => m.id === sub.user.id)) members.push(sub.user)
      } else {
        members = await presence.list(room.name)
        count = members.length
      }
    } catch (error) {
      this.#remove(room, sub)
      throw error
    }
    const joined: JoinedFrame = {
      type: 'joined',
      ref: request.ref,
      room: room.name,
      epoch: state.epoch,
      head: state.head,
      recovered,
      messages,
      members,
      count,
      read: reading.read,
      unread: reading.unread,
      reads: reading.reads,
    }
    if (updates.length > 0) joined.updates = updates
    sub.send(JSON.stringify(joined))
    room.admitted(sub)
  }

  /** Removes the subscriber from the room; a user's last connection leaving is a presence leave. */
  leave(sub: Subscriber, name: string): void {
    const room = this.#rooms.get(name)
    if (!room?.subscribers.has(sub)) return
    this.#remove(room, sub)
  }

  /**
   * Stores a publish, calls `acked` with the result, then fans it out, a
   * duplicate too: a client resends what it got no ack for, and when the
   * first fan-out failed after the ack, the resend is what repairs it
   * (subscribers drop offsets they already delivered). A failed fan-out is
   * retried with backoff in the background. With a `turn` (a connection's
   * pipelined publish, see pipeline.ts) the append and the ack keep the
   * order of the connection's earlier publishes.
   */
  async publish(request: PublishRequest, acked: (result: AppendResult) => void, turn?: Turn): Promise<AppendResult> {
    const { guard } = this.#o
    const result = guard
      ? await guard.publish(request, (r) => this.#append(r, turn))
      : await this.#append(request, turn)
    if (turn === undefined) acked(result)
    else {
      // Awaited only when an earlier publish is still unanswered: acks and fan-outs then keep the order
      // the appends completed in, across connections too (see pipeline.ts).
      const held = turn.answer(() => acked(result))
      if (held !== undefined) await held
    }
    if (result.conversation !== undefined) this.#o.onConversation?.(result.conversation)
    // The store moved the sender's read position to its message: members infer it, so it is not announced.
    this.#reads.learn(request.room, request.from.id, result.message.offset)
    if (!result.duplicate) {
      this.#o.metrics.messagesIn.inc()
      // Members clear a typist when its message arrives: so does the relay, or the next typing frame would pass for a refresh.
      this.#typing.sent(request.room, request.from.id)
    }
    await this.#fanOut(request.room, { type: 'message', message: result.message, epoch: result.epoch }, 0)
    return result
  }

  /**
   * Stores an edit, delete or reaction (the store checks it against its
   * target), calls `acked`, then fans the change out as an `update` in log
   * order with the room's messages, a duplicate too (see `publish`: members
   * drop an offset they already delivered, so a resend broadcasts nothing twice).
   */
  async change(request: ChangeRequest, acked: (result: ChangeResult) => void): Promise<ChangeResult> {
    const { guard } = this.#o
    const store = (r: ChangeRequest) =>
      this.#o.store.change(
        changeDraft(r, { editWindow: this.#o.editWindow ?? 0, maxReactions: this.#o.maxReactions ?? 20 }),
      )
    const result = guard ? await guard.change(request, store) : await store(request)
    acked(result)
    await this.#fanOut(request.room, { type: 'update', update: sharedUpdate(result.update), epoch: result.epoch }, 0)
    if (request.action !== 'react' && isConversationRoom(request.room)) await this.#preview(request.room, result.update)
    return result
  }

  /**
   * After an edit or delete of a conversation's newest message, the inbox's preview says what the message
   * says now (nothing, once deleted), and every operator hears it. The change is acked and delivered
   * already: a failure here costs only a stale preview, so it is logged, not thrown.
   */
  async #preview(room: string, update: Update): Promise<void> {
    const message = update.message
    if (message === null) return
    try {
      const { store } = this.#o
      const [newest] = await store.before(room, (await store.state(room)).head + 1, 1)
      if (newest?.offset !== message.offset) return
      const entry = await store.updateConversation(room.slice(CONVERSATION_PREFIX.length), {
        preview: { text: message.deleted ? '' : message.text, ts: message.ts },
      })
      if (entry !== null) this.#o.onConversation?.(entry)
    } catch (error) {
      this.#o.logger.error({ err: error, room }, 'conversation preview update failed')
    }
  }

  /**
   * Moves the user's read position in the room (never back; the store clamps it to the head) and, when it
   * moved further than this node knew, tells the room's members on every node, throttled per user.
   * Resolves with the position after the move.
   */
  async read(user: string, name: string, offset: number): Promise<number> {
    const position = await this.#o.store.markRead(name, user, offset)
    if (this.#reads.learn(name, user, position) && position > 0) this.#reads.announce(name, user, position)
    return position
  }

  /** Every read position in the room, furthest first (the HTTP API). */
  reads(name: string, limit: number): Promise<ReadPosition[]> {
    return this.#o.store.reads(name, limit)
  }

  /** Stores the publish as it finally is (after any hook rewrote it), with the conversation's side in a `conv:` room. */
  async #append(request: PublishRequest, turn: Turn | undefined): Promise<AppendResult> {
    const draft: Draft = { room: request.room, id: request.id, from: request.from, text: request.text }
    if (request.meta !== undefined) draft.meta = request.meta
    if (isConversationRoom(request.room)) draft.conversation = await this.#conversationOf(request)
    const { store } = this.#o
    return turn === undefined ? store.append(draft) : turn.append(() => store.append(draft))
  }

  /** Tells every member of the room, on every node, that the message at `offset` was deleted (erasure). */
  deleted(room: string, offset: number): Promise<void> {
    return this.#o.broker.publish(room, { type: 'deleted', offset })
  }

  /** Closes this node's connections of `user` that are in `room` (any room when undefined). */
  kick(user: string, room: string | undefined, code: number, reason: string): void {
    const rooms =
      room === undefined ? [...this.#rooms.values()] : [this.#rooms.get(room)].filter((r) => r !== undefined)
    for (const r of rooms) for (const sub of r.subscribers) if (sub.user.id === user) sub.close?.(code, reason)
  }

  /**
   * Which side writes to a conversation, and its visitor: the owner is the visitor; anyone else allowed
   * in (an operator, the HTTP API) answers, which needs the entry the visitor's first message made.
   */
  async #conversationOf(request: PublishRequest): Promise<NonNullable<Draft['conversation']>> {
    const { from } = request
    if (from.role !== 'operator' && conversationRoom(from.id) === request.room) {
      return { visitor: { id: from.id, name: from.name }, by: 'visitor' }
    }
    const entry = await this.#o.store.conversation(request.room.slice(CONVERSATION_PREFIX.length))
    if (entry === null) throw new ClientError('not_found', 'no such conversation')
    return { visitor: { id: entry.visitor.id, name: entry.visitor.name }, by: 'operator' }
  }

  /** Publishes a message event; on failure schedules the next attempt and resolves. */
  async #fanOut(room: string, event: BrokerEvent, attempt: number): Promise<void> {
    try {
      await this.#o.broker.publish(room, event)
    } catch (error) {
      if (attempt === 0) this.#o.logger.error({ err: error, room }, 'broker publish failed, retrying')
      if (this.#stopped) return
      if (attempt >= FANOUT_RETRIES) {
        // Stored and acked: subscribers get it from the store with the room's next message.
        this.#o.logger.error({ err: error, room }, 'broker publish failed, giving up')
        return
      }
      const timer = setTimeout(() => {
        this.#retries.delete(timer)
        void this.#fanOut(room, event, attempt + 1)
      }, fanOutDelay(attempt))
      timer.unref()
      this.#retries.add(timer)
    }
  }

  /** Marks the subscriber's user as typing (or not) in a room it has joined; refreshes are not rebroadcast. */
  typing(sub: Subscriber, name: string, active: boolean): boolean {
    const room = this.#rooms.get(name)
    if (!room?.subscribers.has(sub)) return false
    this.#typing.set(name, sub.user, active)
    return true
  }

  /** True when the subscriber is in the room. */
  has(sub: Subscriber, name: string): boolean {
    return this.#rooms.get(name)?.subscribers.has(sub) ?? false
  }

  /**
   * A page of history, oldest first, in current state (`mine` in reactions for `viewer`), and whether
   * older entries are retained.
   */
  async history(
    name: string,
    before: number | undefined,
    limit: number,
    viewer?: string,
  ): Promise<{ messages: Message[]; more: boolean }> {
    const { store } = this.#o
    const state = await store.state(name)
    const fetched = await store.before(name, before ?? state.head + 1, Math.min(limit, this.#o.historyLimit), viewer)
    const messages = newestWithin(fetched, this.#o.pageBytes ?? PAGE_BYTES)
    const oldest = messages[0]?.offset
    return { messages, more: oldest !== undefined && oldest > state.first }
  }

  /** Everyone in the room on any node. */
  members(name: string): Promise<Member[]> {
    return this.#o.presence.list(name)
  }

  /** How many distinct users are in the room on any node. */
  memberCount(name: string): Promise<number> {
    return this.#o.presence.count(name)
  }

  /** A page of the room's members by user id after the cursor, and the next cursor (null at the end). */
  memberPage(name: string, cursor: string | undefined, limit: number): Promise<MemberPage> {
    return this.#o.presence.page(name, cursor, limit)
  }

  /** Counts again the rooms whose presence changed since the last tick (at most one query per room per tick). */
  #count(): void {
    if (this.#uncounted.size === 0) return
    const rooms = this.#uncounted
    this.#uncounted = new Set()
    for (const room of rooms) {
      this.#o.presence.count(room.name).then(
        (count) => {
          if (room.counted(count, this.#largeAt, true)) this.#uncounted.add(room)
        },
        (error: unknown) => {
          // Tried again at the next tick.
          this.#uncounted.add(room)
          if (!(error instanceof StoreUnavailableError))
            this.#o.logger.error({ err: error, room: room.name }, 'presence count failed')
        },
      )
    }
  }

  #room(name: string): Room {
    let room = this.#rooms.get(name)
    if (room) return room
    room = new Room(name, this.#ctx)
    this.#rooms.set(name, room)
    return room
  }

  #remove(room: Room, sub: Subscriber): void {
    const member = room.remove(sub)
    if (member !== null) {
      this.#typing.clear(room.name, member.id)
      this.#o.presence.remove(room.name, member).then(
        (gone) => {
          if (gone) this.#broadcast(room.name, { type: 'presence', joins: [], leaves: [member] })
        },
        (error: unknown) => this.#o.logger.error({ err: error, room: room.name }, 'presence remove failed'),
      )
    }
    this.#maybeRelease(room)
  }

  /** Unsubscribes from the broker once nobody is in the room and no join is on its way. */
  #maybeRelease(room: Room): void {
    if (!room.idle || this.#rooms.get(room.name) !== room) return
    this.#rooms.delete(room.name)
    this.#o.metrics.rooms.set(this.#rooms.size)
    this.#o.broker.unsubscribe(room.name).catch((error: unknown) => {
      this.#o.logger.error({ err: error, room: room.name }, 'broker unsubscribe failed')
    })
  }

  #broadcast(room: string, event: BrokerEvent): void {
    this.#o.broker.publish(room, event).catch((error: unknown) => {
      this.#o.logger.error({ err: error, room }, 'broker publish failed')
    })
  }

  /** Every broker event for a room this node subscribed to, from any node. */
  #onEvent(name: string, event: BrokerEvent): void {
    if (event.type === 'control') {
      this.#o.control?.(event)
      return
    }
    const room = this.#rooms.get(name)
    if (!room) return
    switch (event.type) {
      case 'message':
        // Its sender's read position moved with it. (A broker re-delivering the room's newest entry may hand a change here.)
        if (!isUpdate(event.message)) this.#reads.learn(name, event.message.from.id, event.message.offset)
        room.entry(event.message, event.epoch)
        return
      case 'update':
        room.entry(event.update, event.epoch)
        return
      case 'read':
        this.#reads.learn(name, event.user, event.offset)
        // To everyone, the reader's own other connections too: their unread counts follow.
        room.event(
          SharedFrame.of(JSON.stringify({ type: 'read', room: name, user: event.user, offset: event.offset })),
          null,
        )
        return
      case 'presence':
        this.#uncounted.add(room)
        if (room.large) room.operatorPresence(event.joins, event.leaves)
        else room.presence(event.joins, event.leaves)
        return
      case 'typing': {
        const frame = SharedFrame.of(
          JSON.stringify({ type: 'typing', room: name, user: event.user, active: event.active }),
        )
        // Typing goes to others: a user's own tabs do not see themselves typing.
        room.event(frame, event.user.id)
        return
      }
      case 'deleted':
        room.event(SharedFrame.of(JSON.stringify({ type: 'deleted', room: name, offset: event.offset })), null)
        return
    }
  }

  /** Queues the room for the end-of-turn flush. */
  #schedule(room: Room): void {
    this.#scheduled.add(room)
    if (this.#flushing === null) this.#flushing = setImmediate(this.#flushAll)
  }

  readonly #flushAll = (): void => {
    this.#flushing = null
    const rooms = this.#scheduled
    if (rooms.size === 0) return
    this.#scheduled = new Set()
    for (const room of rooms) room.flush()
  }
}
