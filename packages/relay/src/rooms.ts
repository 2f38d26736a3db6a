import type { JoinedFrame, Member, Message, Meta, Position, PresenceFrame } from '@confab/sdk/protocol'
import type { Broker, BrokerEvent } from './broker/types'
import type { Metrics } from './metrics'
import type { Presence } from './presence/types'
import type { AppendResult, Store } from './store/types'
import { Typing } from './typing'
import { SharedFrame } from './writer'

/** A local connection as the room registry sees it. */
export interface Subscriber {
  /** The connection's user; one presence entry per user id however many connections it has. */
  readonly user: Member
  /** Writes a frame serialized for this subscriber alone (`joined`). */
  send(data: string): void
  /** Writes a frame shared by every subscriber of a room: serialized and framed once, the same bytes for all. */
  deliver(frame: SharedFrame): void
  /** The room's history moved under the subscriber (epoch change or a lost gap): make it reconnect and resume. */
  resync(): void
}

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
}

/** Default of `RoomsOptions.pageBytes`. */
const PAGE_BYTES = 512 * 1024 // 512 KiB

/**
 * The newest of `messages` (oldest first) whose JSON fits in `budget` bytes,
 * and always the newest one, so a client paging back never gets stuck on an
 * empty page. A page built this way can never alone fill a send queue.
 */
function newestWithin(messages: Message[], budget: number): Message[] {
  let bytes = 0
  for (let i = messages.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(JSON.stringify(messages[i])) + 1
    if (bytes > budget && i < messages.length - 1) return messages.slice(i + 1)
  }
  return messages
}

/**
 * Bytes of messages a room batches into one write before flushing early, so
 * a batch stays small next to the 1 MiB send-queue bound.
 */
const MAX_BATCH = 64 * 1024 // 64 KiB

/** Users whose presence changes one batch merges before flushing early: a `presence` frame of about 60 KiB. */
const MAX_PRESENCE = 1000

/**
 * Retries of a message event the broker failed to publish, after the first
 * attempt: waits of 100 ms doubling to 5 s, about 40 s in all. A message is
 * acked once stored, so without a retry its fan-out would wait for the room's
 * next message; past the last retry it still does.
 */
const FANOUT_RETRIES = 12
const fanOutDelay = (attempt: number): number => Math.min(5000, 100 * 2 ** attempt)

/** Work done for a room strictly in order, so subscribers see offsets in order. */
type Task =
  | { kind: 'message'; message: Message; epoch: string | undefined }
  | { kind: 'event'; frame: SharedFrame; skipUser: string | null }
  | { kind: 'presence'; joins: Member[]; leaves: Member[] }
  | { kind: 'run'; run: () => Promise<void> }

/** A user's presence changes within one batch: the first and the latest, and the member as last seen. */
interface Change {
  member: Member
  first: 'join' | 'leave'
  last: 'join' | 'leave'
}

/** The presence changes of a room's batch, merged into one `presence` frame written at `at` among the outbox's messages. */
interface PresenceBatch {
  /** Index in `outbox` before which the frame goes: where the batch's first change happened. */
  readonly at: number
  readonly changes: Map<string, Change>
}

interface LocalRoom {
  readonly name: string
  readonly subscribers: Set<Subscriber>
  /** Local connections per user id: presence changes only on the first and the last. */
  readonly users: Map<string, { member: Member; count: number }>
  readonly queue: Task[]
  /** Messages delivered during this event-loop turn, written to every subscriber together at its end. */
  outbox: SharedFrame[]
  /** Bytes in `outbox`. */
  outboxBytes: number
  /** Presence changes of this batch, written with the outbox as one `presence` frame. */
  presence: PresenceBatch | null
  /** Subscribers that joined during this batch, with the outbox length then: they get nothing from before it. */
  fresh: Map<Subscriber, number>
  /** Subscribers added but not yet sent `joined`: a flush skips them. */
  readonly joining: Set<Subscriber>
  /** In `Rooms.#dirty`, waiting for the end of the turn. */
  dirty: boolean
  running: boolean
  /** Joins in flight: keep the room subscribed until they finish. */
  pending: number
  /** The broker delivers this room's events here. */
  subscribed: boolean
  epoch: string
  /** The next offset to deliver; anything lower has been delivered or predates every subscriber. */
  next: number
}

/**
 * The rooms this node has local subscribers in. Subscribes to the broker on
 * the first local subscriber and unsubscribes after the last; delivers every
 * room's messages in offset order, refilling gaps from the store (the broker
 * may lose or reorder events); counts each user's connections so presence
 * sees one member per user; tracks typing with relay-side expiry.
 */
export class Rooms {
  readonly #rooms = new Map<string, LocalRoom>()
  readonly #o: RoomsOptions
  readonly #typing: Typing
  /** Rooms with a non-empty outbox, flushed together at the end of the turn. */
  #dirty: LocalRoom[] = []
  #flushing: NodeJS.Immediate | null = null
  /** Retries of failed fan-outs waiting for their turn (only ever non-empty while the broker fails). */
  readonly #retries = new Set<NodeJS.Timeout>()
  #stopped = false

  constructor(options: RoomsOptions) {
    this.#o = options
    this.#typing = new Typing(options.typingTimeout, (room, user, active) => {
      this.#broadcast(room, { type: 'typing', user, active })
    })
  }

  /** Connects the broker and presence to this registry; call once before any join. */
  async start(): Promise<void> {
    await this.#o.broker.start((room, event) => this.#onEvent(room, event))
    this.#o.presence.watch((room, leaves) => {
      this.#broadcast(room, { type: 'presence', joins: [], leaves })
    })
    this.#typing.start()
  }

  /** Stops timers; the owner closes the store, broker and presence. */
  stop(): void {
    this.#stopped = true
    for (const timer of this.#retries) clearTimeout(timer)
    this.#retries.clear()
    this.#typing.stop()
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
  join(sub: Subscriber, name: string, request: JoinRequest): Promise<void> {
    const room = this.#room(name)
    room.pending++
    return new Promise<void>((resolve, reject) => {
      this.#enqueue(room, {
        kind: 'run',
        run: async () => {
          try {
            await this.#join(room, sub, request)
            resolve()
          } catch (error) {
            reject(error)
          } finally {
            room.pending--
            this.#maybeRelease(room)
          }
        },
      })
    })
  }

  async #join(room: LocalRoom, sub: Subscriber, request: JoinRequest): Promise<void> {
    const { store } = this.#o
    if (!room.subscribed) {
      // Subscribe before reading the head, so nothing stored after the read can be missed.
      await this.#o.broker.subscribe(room.name)
      room.subscribed = true
    }
    const state = await store.state(room.name)
    if (room.epoch === '') {
      room.epoch = state.epoch
      room.next = state.head + 1
    } else if (state.epoch !== room.epoch || state.head < room.next - 1) {
      // The history this node was delivering is gone (a new epoch, or offsets handed out again): everyone here must start over.
      for (const other of room.subscribers) other.resync()
      room.epoch = state.epoch
      room.next = state.head + 1
    } else if (state.head >= room.next) {
      // Stored but not yet fanned out: deliver now, so the new subscriber's `joined` and the live stream meet exactly.
      await this.#catchUp(room, state.head - room.next + 1)
    }
    room.next = Math.max(room.next, state.head + 1)

    const { since } = request
    let recovered =
      since === undefined ||
      (since.epoch === state.epoch && since.offset >= state.first - 1 && since.offset <= state.head)
    const wanted = Math.min(request.history ?? 0, this.#o.historyLimit)
    const fetched =
      since !== undefined && recovered
        ? await store.after(room.name, since.offset, state.head - since.offset)
        : await store.before(room.name, state.head + 1, wanted)
    const budget = this.#o.pageBytes ?? PAGE_BYTES
    const messages = newestWithin(fetched, budget)
    // More missed messages than one page holds: like a position outside retained history, the client starts over from the newest.
    if (since !== undefined && messages.length < fetched.length) recovered = false

    // The batch so far predates `joined`: until it is sent a flush skips the new subscriber, and after it gets only what follows.
    const first = this.#addUser(room, sub.user)
    room.subscribers.add(sub)
    room.joining.add(sub)
    this.#o.metrics.rooms.set(this.#rooms.size)
    let members: Member[]
    try {
      if (first && (await this.#o.presence.add(room.name, sub.user))) {
        await this.#o.broker.publish(room.name, { type: 'presence', joins: [sub.user], leaves: [] })
      }
      members = await this.#o.presence.list(room.name)
    } catch (error) {
      room.joining.delete(sub)
      this.#removeSubscriber(room, sub)
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
    }
    room.joining.delete(sub)
    sub.send(JSON.stringify(joined))
    if (room.subscribers.has(sub)) room.fresh.set(sub, room.outbox.length)
  }

  /** Removes the subscriber from the room; a user's last connection leaving is a presence leave. */
  leave(sub: Subscriber, name: string): void {
    const room = this.#rooms.get(name)
    if (!room?.subscribers.has(sub)) return
    this.#removeSubscriber(room, sub)
  }

  /**
   * Stores a publish, calls `acked` with the result, then fans it out, a
   * duplicate too: a client resends what it got no ack for, and when the
   * first fan-out failed after the ack, the resend is what repairs it
   * (subscribers drop offsets they already delivered). A failed fan-out is
   * retried with backoff in the background.
   */
  async publish(request: PublishRequest, acked: (result: AppendResult) => void): Promise<AppendResult> {
    const draft = { room: request.room, id: request.id, from: request.from, text: request.text }
    const result = await this.#o.store.append(request.meta === undefined ? draft : { ...draft, meta: request.meta })
    acked(result)
    if (!result.duplicate) {
      this.#o.metrics.messagesIn.inc()
      // Members clear a typist when its message arrives: so does the relay, or the next typing frame would pass for a refresh.
      this.#typing.sent(request.room, request.from.id)
    }
    await this.#fanOut(request.room, { type: 'message', message: result.message, epoch: result.epoch }, 0)
    return result
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

  /** A page of history, oldest first, and whether older messages are retained. */
  async history(
    name: string,
    before: number | undefined,
    limit: number,
  ): Promise<{ messages: Message[]; more: boolean }> {
    const { store } = this.#o
    const state = await store.state(name)
    const fetched = await store.before(name, before ?? state.head + 1, Math.min(limit, this.#o.historyLimit))
    const messages = newestWithin(fetched, this.#o.pageBytes ?? PAGE_BYTES)
    const oldest = messages[0]?.offset
    return { messages, more: oldest !== undefined && oldest > state.first }
  }

  /** Everyone in the room on any node. */
  members(name: string): Promise<Member[]> {
    return this.#o.presence.list(name)
  }

  #room(name: string): LocalRoom {
    let room = this.#rooms.get(name)
    if (room) return room
    room = {
      name,
      subscribers: new Set(),
      users: new Map(),
      queue: [],
      outbox: [],
      outboxBytes: 0,
      presence: null,
      fresh: new Map(),
      joining: new Set(),
      dirty: false,
      running: false,
      pending: 0,
      subscribed: false,
      epoch: '',
      next: 1,
    }
    this.#rooms.set(name, room)
    return room
  }

  #addUser(room: LocalRoom, member: Member): boolean {
    const entry = room.users.get(member.id)
    if (entry) {
      entry.count++
      return false
    }
    room.users.set(member.id, { member, count: 1 })
    return true
  }

  #removeSubscriber(room: LocalRoom, sub: Subscriber): void {
    if (!room.subscribers.delete(sub)) return
    room.fresh.delete(sub)
    room.joining.delete(sub)
    const entry = room.users.get(sub.user.id)
    if (entry && --entry.count === 0) {
      room.users.delete(sub.user.id)
      this.#typing.clear(room.name, sub.user.id)
      const { member } = entry
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
  #maybeRelease(room: LocalRoom): void {
    if (room.subscribers.size > 0 || room.pending > 0 || this.#rooms.get(room.name) !== room) return
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
    const room = this.#rooms.get(name)
    if (!room) return
    switch (event.type) {
      case 'message': {
        const { message, epoch } = event
        // Fast path: in order, in this room's epoch, and nothing queued ahead of it.
        if (
          !room.running &&
          room.queue.length === 0 &&
          message.offset === room.next &&
          (epoch === undefined || epoch === room.epoch)
        ) {
          this.#deliver(room, message)
        } else this.#enqueue(room, { kind: 'message', message, epoch })
        return
      }
      case 'presence':
        // Merged into the room's batch in order with its messages: one `presence` frame per room per turn.
        this.#enqueue(room, { kind: 'presence', joins: event.joins, leaves: event.leaves })
        return
      case 'typing': {
        const frame = SharedFrame.of(
          JSON.stringify({ type: 'typing', room: name, user: event.user, active: event.active }),
        )
        // Typing goes to others: a user's own tabs do not see themselves typing.
        this.#enqueue(room, { kind: 'event', frame, skipUser: event.user.id })
        return
      }
    }
  }

  #enqueue(room: LocalRoom, task: Task): void {
    room.queue.push(task)
    if (!room.running) void this.#drain(room)
  }

  async #drain(room: LocalRoom): Promise<void> {
    room.running = true
    try {
      for (let task = room.queue.shift(); task !== undefined; task = room.queue.shift()) {
        try {
          await this.#run(room, task)
        } catch (error) {
          // A join's own errors reach its caller; anything here is the store or broker failing mid-delivery.
          this.#o.logger.error({ err: error, room: room.name }, 'room delivery failed')
        }
      }
    } finally {
      room.running = false
    }
  }

  async #run(room: LocalRoom, task: Task): Promise<void> {
    switch (task.kind) {
      case 'run':
        return task.run()
      case 'event':
        // Messages delivered before the event reach every socket before it.
        this.#flush(room)
        for (const sub of room.subscribers) if (sub.user.id !== task.skipUser) sub.deliver(task.frame)
        return
      case 'presence':
        this.#presence(room, task.joins, task.leaves)
        return
      case 'message': {
        const { offset } = task.message
        if (task.epoch !== undefined && task.epoch !== room.epoch) {
          // Counted in another epoch: the history moved (this node resyncs), or the event is older than a move it saw.
          await this.#checkEpoch(room)
          if (task.epoch !== room.epoch) return
        }
        if (offset < room.next) {
          // Usually a duplicate (a refetched gap, a resend); but offsets also restart when the history was lost.
          await this.#checkEpoch(room)
          return
        }
        if (offset > room.next) await this.#catchUp(room, offset - room.next)
        if (offset === room.next) this.#deliver(room, task.message)
        return
      }
    }
  }

  /**
   * When the store's epoch moved on, or its head went back below what was
   * delivered here (history lost without a new epoch), everyone here resyncs
   * and delivery restarts from the new head.
   */
  async #checkEpoch(room: LocalRoom): Promise<void> {
    const state = await this.#o.store.state(room.name)
    if (state.epoch === room.epoch && state.head >= room.next - 1) return
    for (const sub of room.subscribers) sub.resync()
    room.epoch = state.epoch
    room.next = state.head + 1
  }

  /** Fetches and delivers `count` messages from `room.next` on; a hole in the store means subscribers must resync. */
  async #catchUp(room: LocalRoom, count: number): Promise<void> {
    const missing = await this.#o.store.after(room.name, room.next - 1, count)
    for (const message of missing) {
      if (message.offset !== room.next) {
        // Trimmed from history before this node saw it: nobody here can be gap-free any more.
        for (const sub of room.subscribers) sub.resync()
        room.next = message.offset
      }
      this.#deliver(room, message)
    }
  }

  /**
   * One message to every local subscriber: serialized and framed once, the
   * same bytes for all. The frame joins the room's outbox, written at the end
   * of the event-loop turn; so the messages one turn produced (a burst of
   * publishes read together, a refilled gap) go out in one write per socket.
   * An idle relay delivers at once: the turn ends right after the message.
   */
  #deliver(room: LocalRoom, message: Message): void {
    room.next = message.offset + 1
    if (room.subscribers.size === 0) return
    const frame = SharedFrame.of(JSON.stringify({ type: 'message', ...message }))
    this.#o.metrics.messagesOut.inc(room.subscribers.size)
    room.outbox.push(frame)
    room.outboxBytes += frame.size
    this.#mark(room)
    if (room.outboxBytes >= MAX_BATCH) this.#flush(room)
  }

  /**
   * Presence changes join the room's batch: however many users join or leave
   * during a turn, each subscriber gets one `presence` frame, in the same write
   * as the turn's messages and placed where the first change happened, so a
   * joiner is announced before anything it sends afterwards.
   */
  #presence(room: LocalRoom, joins: readonly Member[], leaves: readonly Member[]): void {
    if (room.subscribers.size === 0) return
    let batch = room.presence
    if (batch === null) {
      batch = { at: room.outbox.length, changes: new Map() }
      room.presence = batch
      this.#mark(room)
    }
    const { changes } = batch
    const change = (member: Member, kind: 'join' | 'leave'): void => {
      const entry = changes.get(member.id)
      if (entry) {
        entry.member = member
        entry.last = kind
      } else changes.set(member.id, { member, first: kind, last: kind })
    }
    for (const member of joins) change(member, 'join')
    for (const member of leaves) change(member, 'leave')
    if (changes.size >= MAX_PRESENCE) this.#flush(room)
  }

  /** Queues the room for the end-of-turn flush. */
  #mark(room: LocalRoom): void {
    if (room.dirty) return
    room.dirty = true
    this.#dirty.push(room)
    if (this.#flushing === null) this.#flushing = setImmediate(this.#flushAll)
  }

  /**
   * Writes the room's batch to every subscriber: one shared buffer, one write
   * per socket. Members from before the batch get its presence changes net
   * (a user who joined and left appears in neither list); a subscriber that
   * joined during the batch, whose `joined` listed the members at some point
   * within it, gets each changed user's latest change instead, and none of
   * the messages from before its `joined`.
   */
  #flush(room: LocalRoom): void {
    const frames = room.outbox
    const batch = room.presence
    const fresh = room.fresh
    room.outbox = []
    room.outboxBytes = 0
    room.presence = null
    if (fresh.size > 0) room.fresh = new Map()
    if (frames.length === 0 && batch === null) return

    let net: SharedFrame | null = null
    let latest: SharedFrame | null = null
    /** With a lone join, that user's id: news to none of its own connections, which learn the members from `joined`. */
    let netJoiner: string | null = null
    let latestJoiner: string | null = null
    if (batch !== null) {
      const netFrame: PresenceFrame = { type: 'presence', room: room.name, joins: [], leaves: [] }
      const latestFrame: PresenceFrame = { type: 'presence', room: room.name, joins: [], leaves: [] }
      let cancelled = false
      for (const { member, first, last } of batch.changes.values()) {
        const list = last === 'join' ? 'joins' : 'leaves'
        latestFrame[list].push(member)
        if (first === last) netFrame[list].push(member)
        else cancelled = true
      }
      if (latestFrame.joins.length + latestFrame.leaves.length > 0) {
        latest = SharedFrame.of(JSON.stringify(latestFrame))
        latestJoiner = loneJoiner(latestFrame)
      }
      if (!cancelled) {
        net = latest
        netJoiner = latestJoiner
      } else if (netFrame.joins.length + netFrame.leaves.length > 0) {
        net = SharedFrame.of(JSON.stringify(netFrame))
        netJoiner = loneJoiner(netFrame)
      }
    }
    const at = batch?.at ?? 0
    const cache = new Map<string, SharedFrame | null>()
    /** The batch from outbox index `from` on, with `presence` at its place (first, when that was before `from`). */
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
    for (const sub of room.subscribers) {
      if (room.joining.has(sub)) continue
      const from = fresh.size === 0 ? undefined : fresh.get(sub)
      const frame =
        from === undefined
          ? netJoiner === sub.user.id
            ? build(0, null)
            : shared
          : build(from, latestJoiner === sub.user.id ? null : latest)
      if (frame !== null) sub.deliver(frame)
    }
  }

  readonly #flushAll = (): void => {
    this.#flushing = null
    const rooms = this.#dirty
    this.#dirty = []
    for (const room of rooms) {
      room.dirty = false
      this.#flush(room)
    }
  }
}

/** The id of the one user a presence frame announces as joining, when that is all it says. */
function loneJoiner(frame: PresenceFrame): string | null {
  return frame.leaves.length === 0 && frame.joins.length === 1 ? (frame.joins[0]?.id ?? null) : null
}
