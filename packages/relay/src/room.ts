import type { Member } from '@confab/sdk/protocol'
import { Batch } from './batch'
import type { Metrics } from './metrics'
import { type Entry, isUpdate, type RoomState, type Store } from './store/types'
import { SharedFrame } from './writer'

/**
 * Count-frame deliveries per second one large room may cost a node: a room of 20,000 local members gets
 * a count every 4 s at most (and any room one a second at most, the registry's tick).
 */
export const COUNT_RATE = 5000

/** A local connection as the rooms see it. */
export interface Subscriber {
  /** The connection's user; one presence entry per user id however many connections it has. */
  readonly user: Member
  /** Writes a frame serialized for this subscriber alone (`joined`). */
  send(data: string): void
  /** Writes a frame shared by every subscriber of a room: serialized and framed once, the same bytes for all. */
  deliver(frame: SharedFrame): void
  /** The room's history moved under the subscriber (epoch change or a lost gap): make it reconnect and resume. */
  resync(): void
  /** Closes the connection (a ban: moderation.ts). */
  close?(code: number, reason: string): void
}

/** What every room of a registry shares. */
export interface RoomContext {
  store: Store
  metrics: Metrics
  /** Where delivery failures go (a store or broker failing mid-delivery). */
  logger: { error(object: object, message: string): void }
  /** The room has a batch to write: flush it at the end of this event-loop turn. */
  schedule(room: Room): void
}

/** Work done for a room strictly in order, so subscribers see offsets in order. */
type Task =
  | { kind: 'entry'; entry: Entry; epoch: string | undefined }
  | { kind: 'event'; frame: SharedFrame; skipUser: string | null; operators?: boolean }
  | { kind: 'presence'; joins: Member[]; leaves: Member[] }
  | { kind: 'run'; run: () => Promise<void> }

/**
 * One room with local subscribers: who is in it (connections counted per
 * user), and its delivery. Everything that reaches subscribers goes through
 * one ordered queue, so log entries (messages, and changes to them) arrive in offset order, each once, within
 * one epoch: a gap is refilled from the store, and a history that moved
 * (new epoch, offsets handed out again, a trimmed gap) makes every
 * subscriber resync. Output is batched per event-loop turn (see `Batch`).
 */
export class Room {
  readonly name: string
  readonly subscribers = new Set<Subscriber>()
  /** Subscribers added but not yet sent `joined`: a flush skips them. */
  readonly joining = new Set<Subscriber>()
  readonly #ctx: RoomContext
  /** Joins in flight: the registry keeps the room until they finish. */
  #pending = 0
  /** The broker delivers this room's events here. */
  #subscribed: Promise<void> | null = null
  /**
   * Distinct users in the room on every node, as last read from presence (at a local join, or by the
   * registry's count tick at most a second after a change).
   */
  count = 0
  /**
   * At or above the registry's `largeAt`: members get counts instead of joins and leaves. It stays
   * large while it has local subscribers, so a client that got a partial list never gets lists again.
   */
  large = false
  /** The count last broadcast to the room, and when. */
  #sentCount = -1
  #sentAt = 0
  /** Subscribers whose user is an operator: in a large room only they get joins and leaves. */
  readonly #operators = new Set<Subscriber>()
  /** Local connections per user id: presence changes only on the first and the last. */
  readonly #users = new Map<string, { member: Member; count: number }>()
  readonly #queue: Task[] = []
  #running = false
  readonly #batch = new Batch()
  #epoch = ''
  /** The next offset to deliver; anything lower has been delivered or predates every subscriber. */
  #next = 1

  constructor(name: string, ctx: RoomContext) {
    this.name = name
    this.#ctx = ctx
  }

  /** No subscriber and no join on its way: the registry may drop the room. */
  get idle(): boolean {
    return this.subscribers.size === 0 && this.#pending === 0
  }

  /** Runs a join in the room's order, keeping the room while it is on its way. */
  join(run: () => Promise<void>): Promise<void> {
    this.#pending++
    return new Promise<void>((resolve, reject) => {
      this.#enqueue({
        kind: 'run',
        run: () =>
          run()
            .then(resolve, reject)
            .finally(() => {
              this.#pending--
            }),
      })
    })
  }

  /**
   * Subscribes the room to the broker once (`subscribe` is the broker's);
   * a failed subscription is tried again by the next join.
   */
  async subscribe(subscribe: (room: string) => Promise<void>): Promise<void> {
    this.#subscribed ??= subscribe(this.name).catch((error: unknown) => {
      this.#subscribed = null
      throw error
    })
    await this.#subscribed
  }

  /** Adds a subscriber that is about to be sent `joined`; true when it is its user's first connection here. */
  add(sub: Subscriber): boolean {
    this.subscribers.add(sub)
    this.joining.add(sub)
    if (sub.user.role === 'operator') this.#operators.add(sub)
    const entry = this.#users.get(sub.user.id)
    if (entry) {
      entry.count++
      return false
    }
    this.#users.set(sub.user.id, { member: sub.user, count: 1 })
    return true
  }

  /** `joined` was written: the subscriber gets the room's live output from here on. */
  admitted(sub: Subscriber): void {
    this.joining.delete(sub)
    if (this.subscribers.has(sub)) this.#batch.joined(sub)
  }

  /** Removes a subscriber; the member when it was its user's last connection here, else null. */
  remove(sub: Subscriber): Member | null {
    if (!this.subscribers.delete(sub)) return null
    this.#batch.drop(sub)
    this.joining.delete(sub)
    this.#operators.delete(sub)
    const entry = this.#users.get(sub.user.id)
    if (!entry || --entry.count > 0) return null
    this.#users.delete(sub.user.id)
    return entry.member
  }

  /**
   * Aligns delivery with the store's state read for a join: the first join
   * starts at the head; a history that moved resyncs everyone here; messages
   * stored but not yet fanned out are delivered first, so the joiner's
   * `joined` and the live stream meet exactly. Runs inside the room's queue.
   */
  async align(state: RoomState): Promise<void> {
    if (this.#epoch === '') {
      this.#restart(state)
    } else if (state.epoch !== this.#epoch || state.head < this.#next - 1) {
      this.#resyncAll()
      this.#restart(state)
    } else if (state.head >= this.#next) {
      await this.#catchUp(state.head - this.#next + 1)
    }
    this.#next = Math.max(this.#next, state.head + 1)
  }

  /** A message or change event from the broker (any node): the log entry at its offset. */
  entry(entry: Entry, epoch: string | undefined): void {
    // Fast path: in order, in this room's epoch, and nothing queued ahead of it.
    if (
      !this.#running &&
      this.#queue.length === 0 &&
      entry.offset === this.#next &&
      (epoch === undefined || epoch === this.#epoch)
    ) {
      this.#deliver(entry)
    } else this.#enqueue({ kind: 'entry', entry, epoch })
  }

  /** Presence changes: merged into the turn's batch in order with its messages, one frame per turn. */
  presence(joins: Member[], leaves: Member[]): void {
    this.#enqueue({ kind: 'presence', joins, leaves })
  }

  /**
   * A large room's joins and leaves, to its operators only (with the count as last read); a lone
   * joiner is not told of its own join, which its `joined` listed.
   */
  operatorPresence(joins: Member[], leaves: Member[]): void {
    if (this.#operators.size === 0) return
    const frame = { type: 'presence', room: this.name, joins, leaves, count: this.count }
    const lone = leaves.length === 0 && joins.length === 1 ? (joins[0]?.id ?? null) : null
    this.#enqueue({ kind: 'event', frame: SharedFrame.of(JSON.stringify(frame)), skipUser: lone, operators: true })
  }

  /**
   * The count as presence read it now: the room turns large at `largeAt`. With `announce` (the count
   * tick, never a join: that would be a frame to everyone per join) a large room's members get a
   * `presence` frame with the count when it changed since the last one. True when a changed count is
   * held back (the room is too large for another frame yet): count it again at the next tick.
   */
  counted(count: number, largeAt: number, announce: boolean): boolean {
    this.count = count
    if (count >= largeAt) this.large = true
    if (!announce || !this.large || count === this.#sentCount || this.subscribers.size === 0) return false
    // A frame to every member costs a write each: a room of N gets one every N / COUNT_RATE seconds at most.
    const now = Date.now()
    if (now - this.#sentAt < (this.subscribers.size / COUNT_RATE) * 1000) return true
    this.#sentAt = now
    this.#sentCount = count
    const frame = { type: 'presence', room: this.name, joins: [], leaves: [], count }
    this.event(SharedFrame.of(JSON.stringify(frame)), null)
    return false
  }

  /** Any other shared frame, to every subscriber but `skipUser`'s connections. */
  event(frame: SharedFrame, skipUser: string | null): void {
    this.#enqueue({ kind: 'event', frame, skipUser })
  }

  /** Writes the turn's batch to every subscriber that has its `joined`. */
  flush(): void {
    this.#batch.flush(this.name, this.subscribers, this.joining)
  }

  #enqueue(task: Task): void {
    this.#queue.push(task)
    if (!this.#running) void this.#drain()
  }

  async #drain(): Promise<void> {
    this.#running = true
    try {
      for (let task = this.#queue.shift(); task !== undefined; task = this.#queue.shift()) {
        try {
          await this.#do(task)
        } catch (error) {
          // A join's own errors reach its caller; anything here is the store or broker failing mid-delivery.
          this.#ctx.logger.error({ err: error, room: this.name }, 'room delivery failed')
        }
      }
    } finally {
      this.#running = false
    }
  }

  async #do(task: Task): Promise<void> {
    switch (task.kind) {
      case 'run':
        return task.run()
      case 'event':
        // Messages delivered before the event reach every socket before it.
        this.flush()
        for (const sub of task.operators === true ? this.#operators : this.subscribers) {
          if (sub.user.id !== task.skipUser) sub.deliver(task.frame)
        }
        return
      case 'presence':
        if (this.subscribers.size === 0) return
        if (this.#batch.empty) this.#ctx.schedule(this)
        if (this.#batch.presence(task.joins, task.leaves)) this.flush()
        return
      case 'entry': {
        const { offset } = task.entry
        if (task.epoch !== undefined && task.epoch !== this.#epoch) {
          // Counted in another epoch: the history moved (this node resyncs), or the event is older than a move it saw.
          await this.#checkEpoch()
          if (task.epoch !== this.#epoch) return
        }
        if (offset < this.#next) {
          // Usually a duplicate (a refetched gap, a resend); but offsets also restart when the history was lost.
          await this.#checkEpoch()
          return
        }
        if (offset > this.#next) await this.#catchUp(offset - this.#next)
        if (offset === this.#next) this.#deliver(task.entry)
        return
      }
    }
  }

  /**
   * When the store's epoch moved on, or its head went back below what was
   * delivered here (history lost without a new epoch), everyone here resyncs
   * and delivery restarts from the new head.
   */
  async #checkEpoch(): Promise<void> {
    const state = await this.#ctx.store.state(this.name)
    if (state.epoch === this.#epoch && state.head >= this.#next - 1) return
    this.#resyncAll()
    this.#restart(state)
  }

  /** Fetches and delivers `count` log entries from the next offset on; a hole in the store means subscribers must resync. */
  async #catchUp(count: number): Promise<void> {
    // No viewer: the frames are shared by every member, so reactions carry no `mine`.
    const missing = await this.#ctx.store.after(this.name, this.#next - 1, count)
    for (const entry of missing) {
      if (entry.offset !== this.#next) {
        // Trimmed from history before this node saw it: nobody here can be gap-free any more.
        this.#resyncAll()
        this.#next = entry.offset
      }
      this.#deliver(entry)
    }
  }

  #restart(state: RoomState): void {
    this.#epoch = state.epoch
    this.#next = state.head + 1
  }

  #resyncAll(): void {
    for (const sub of this.subscribers) sub.resync()
  }

  /**
   * One log entry to every local subscriber, as a `message` or an `update`
   * frame: serialized and framed once, the same bytes for all, into the
   * turn's batch. An idle relay delivers at once: the turn ends right after it.
   */
  #deliver(entry: Entry): void {
    this.#next = entry.offset + 1
    if (this.subscribers.size === 0) return
    const change = isUpdate(entry)
    const frame = SharedFrame.of(JSON.stringify({ type: change ? 'update' : 'message', ...entry }))
    if (!change) this.#ctx.metrics.messagesOut.inc(this.subscribers.size)
    if (this.#batch.empty) this.#ctx.schedule(this)
    if (this.#batch.message(frame)) this.flush()
  }
}
