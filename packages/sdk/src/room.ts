import { createNanoEvents, type Unsubscribe } from 'nanoevents'
import { DEFAULTS } from './defaults.js'
import { ConfabError } from './errors.js'
import type { Draft } from './outbox.js'
import {
  type ClientFrame,
  type HistoryResultFrame,
  MAX_REF,
  type Member,
  type Message,
  type Meta,
  type Position,
  type Reaction,
  type ReadPosition,
  type RelayFrame,
  ROOM_PATTERN,
  type Update,
} from './protocol.js'
import type { Sender } from './sender.js'

/** Why a room's history could not be resumed. */
export interface ResetInfo {
  /**
   * `epoch`: the room's history was lost (for instance a relay with the memory store restarted);
   * `gap`: messages after the last position are no longer retained.
   */
  reason: 'epoch' | 'gap'
  /** The room's current epoch. */
  epoch: string
  /** Offset of the newest stored message now. */
  head: number
}

/** Events of a {@link Room}. */
export interface RoomEvents {
  /** A message, delivered once per offset and in offset order. */
  message(message: Message): void
  /** The member list after a change (the local user included, one entry per user; see `Room.members`), or a new `memberCount`. */
  presence(members: Member[]): void
  /** Who is typing now (the local user excluded). */
  typing(members: Member[]): void
  /** History could not be resumed; messages that follow start a fresh view. */
  reset(info: ResetInfo): void
  /**
   * A message was edited, deleted or reacted to: its state after the change (`reactions[emoji].mine` filled in from
   * what this client knows), and the change. In log order with `message`, once per change.
   */
  update(message: Message, update: Update): void
  /** A read position moved (another member's, or yours: then `read` and `unread` changed); the others' positions now. */
  read(positions: ReadPosition[]): void
}

/** Options of `client.join`. */
export interface JoinOptions {
  /** Recent messages to receive on the first join (default 0, capped by the relay's history limit). */
  history?: number
}

/** Options of `room.history`. */
export interface HistoryOptions {
  /** Only messages with an offset below this one (default: up to the newest). */
  before?: number
  /** At most this many messages (default 50, capped by the relay). */
  limit?: number
}

/** Options of `room.send` and `room.edit`. */
export interface SendOptions {
  /** Any JSON object, delivered with the message. */
  meta?: Meta
  /**
   * The message's idempotency key, at most 64 characters (default: a fresh one). Pass the `id` of an earlier attempt,
   * such as `error.id` of a rejected send, to retry it: the relay answers an id it has already
   * stored (within 10 minutes) with the original message, and does not store or broadcast it again.
   * While a message with this id is still queued in this room (as after a `timeout`), the call sends nothing: it waits for that message.
   */
  id?: string
}

/** One joined room: its messages, members and typing state. */
export interface Room {
  /** The room's name, as passed to `join`. */
  readonly name: string
  /**
   * Everyone in the room now, the local user included; empty until joined. In a large room (see `memberCount`)
   * only the first page by user id and you: page the rest with `client.request({ type: 'members', room, cursor })`.
   */
  readonly members: Member[]
  /** Distinct users in the room now, the local user included (the relay's count; in large rooms updated at most once a second); 0 until joined. */
  readonly memberCount: number
  /** Who is typing now, the local user excluded. */
  readonly typingMembers: Member[]
  /** Last position delivered, if any. */
  readonly position: Position | undefined
  /** Messages from others after your read position (from the relay at each join, then kept up to date here). */
  readonly unread: number
  /** Your read position: everything up to this offset is read (0: nothing). */
  readonly read: number
  /** Other members' read positions, furthest first. */
  readonly reads: ReadPosition[]
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof RoomEvents>(event: E, cb: RoomEvents[E]): Unsubscribe
  /**
   * Sends a message. Resolves with the stored message once the relay acknowledged it; waits in
   * the outbox while offline. Rejects with ConfabError `timeout` (not confirmed yet: the message stays queued),
   * `closed`, `limit_exceeded` or the relay's code (at once in a room whose join the relay refused);
   * the error's `id` retries the same message (see {@link SendOptions.id}).
   */
  send(text: string, options?: SendOptions): Promise<Message>
  /**
   * Edits one of your messages (new `text`, and `meta` when given). Resolves with the message's new state once the
   * relay stored the change; queued, resent and rejected like `send` (the relay may refuse it: `forbidden`, `not_found`).
   */
  edit(offset: number, text: string, options?: SendOptions): Promise<Message>
  /** Deletes a message (your own; operators any): resolves with its tombstone. Queued like `send`. */
  delete(offset: number): Promise<Message>
  /** Adds your `emoji` reaction to a message, or removes it if you had it: resolves with the message's new state. Queued like `send`. */
  react(offset: number, emoji: string): Promise<Message>
  /**
   * Call on every keystroke: the SDK sends at most one frame per 2 s and says "stopped" after 3 s idle.
   * Right after one of your messages is stored the next keystroke sends at once: the message ended your typing for the others.
   */
  typing(): void
  /**
   * Older messages, oldest first. Waits while the room is not joined (offline, reconnecting); rejects
   * with ConfabError `timeout` when no answer came within `sendTimeout` of the call, `closed` after leave or close.
   */
  history(options?: HistoryOptions): Promise<Message[]>
  /** Leaves the room; its queued messages are rejected with `closed`. */
  leave(): void
  /**
   * Marks everything up to `offset` (default: the newest delivered) as read: `unread` drops now, the relay is told
   * (at the next join when offline), and so are your other tabs and the other members.
   */
  markRead(offset?: number): void
}

/** What a room needs from its client (the sender's `publish`, `request` and `flush` among it). Internal. */
export interface Link extends Pick<Sender, 'publish' | 'request' | 'flush'> {
  /** Sends a frame on the open socket, within the relay's frame rate; false when there is no socket or no token. */
  send(frame: ClientFrame): boolean
  /** The local user, once welcomed. */
  user(): Member | undefined
  /** Records the room's last position. */
  save(room: string, position: Position): void
  /** The room was left by the app: forget it, and tell the relay unless the name never was valid. */
  left(room: string, tell: boolean): void
}

/** `T` with its `K` writable. */
type Mutable<T, K extends keyof T> = Omit<T, K> & { -readonly [P in K]: T[P] }

/** The client's handle on a room. Internal. */
export interface RoomControl {
  room: Room
  /** True while joined on the current socket. */
  ready(): boolean
  /** A frame for this room arrived. */
  handle(frame: RelayFrame): void
  /** The session is open: (re-)join, resuming from the last position, unless the join is on the wire already. */
  online(): void
  /** The socket is gone: not joined, and any refusal forgotten. */
  offline(): void
  /** The relay said "not now" (`unavailable`, `rate_limited`) to the join: it goes again at the next flush. */
  retry(): void
  /** The relay refused the join on this socket: sends and history requests fail with it at once until a join succeeds. */
  refuse(error: ConfabError): void
  /** Why the room cannot be used now (the relay's refusal, or an invalid name for good); undefined when it can. */
  refusal(): ConfabError | undefined
}

/** Why `name` is not a room name the relay accepts (the relay's own words), or undefined when it is one. */
export const checkRoom = (name: string): ConfabError | undefined =>
  ROOM_PATTERN.test(name) ? undefined : new ConfabError('bad_request', 'invalid room name')

/**
 * Creates a room that starts from `position` (a persisted one) or from nothing. Its joins' `ref` is its name: at
 * most {@link MAX_REF} characters and never one of the SDK's other refs (`#` and a number), so the relay's answers
 * and refusals find the room by it.
 */
export function createRoom(name: string, options: JoinOptions, link: Link, position?: Position): RoomControl {
  const events = createNanoEvents<RoomEvents>()
  // A name the relay would refuse never goes out: the room is refused for good, without a round trip.
  const invalid = checkRoom(name)
  let pos = position
  let joined = false
  // True while the join is on the current socket (it may wait for a token of the relay's frame rate).
  let joining = false
  let refused: ConfabError | undefined
  // Live messages and changes that beat `joined` on a fresh socket wait here, so the replay comes first.
  let early: (Message | Update)[] | undefined
  let members: Member[] = []
  // Read state: own position; offsets of the unread messages from others (the ones `joined` counted but did not
  // deliver stand at the offset before its first message, so marking a delivered one reads them); others' positions.
  let read = 0
  let unread: number[] = []
  let reads: ReadPosition[] = []
  // Reactions of the local user, as offset and emoji (`5👍`: an emoji never starts with a digit): learnt from the states the relay gives this user (joined,
  // history, ack) and the user's own reactions, since an `update` frame (one for every member) says nothing of `mine`.
  const mine = new Set<string>()
  const typists = new Map<string, { member: Member; timer: ReturnType<typeof setTimeout> }>()
  // When our last `typing` frame went (0: none since we stopped); `typingOn`: a "stopped" is owed.
  let typedAt = 0
  let typingOn = false
  let idle: ReturnType<typeof setTimeout> | undefined

  const me = (): string | undefined => link.user()?.id
  /**
   * Completes a message state with what this client knows of its user's reactions, and learns from it: a state the
   * relay made for this user (`joined`, `history`, `ack`) has `mine` on every reaction, an `update` frame on none.
   */
  const know = (m: Message | null | undefined): void => {
    for (const e in m?.reactions) {
      const k = m.offset + e
      const r = m.reactions[e] as Reaction
      r.mine ??= mine.has(k)
      mine[r.mine ? 'add' : 'delete'](k)
    }
  }
  /** `user` has read up to `offset` (the local user's position only moves forward; another's is the latest word). */
  const seen = (user: string, offset: number): void => {
    if (user === me()) {
      if (offset > read) read = offset
      unread = unread.filter((o) => o > read)
    } else reads = [{ user, offset }, ...reads.filter((r) => r.user !== user)]
    events.emit('read', reads)
  }
  /** Delivers a message or change once, in offset order, and keeps the read state. */
  const deliver = (x: Message | Update): void => {
    if (!pos || x.offset <= pos.offset) return
    pos = { epoch: pos.epoch, offset: x.offset }
    link.save(name, pos)
    if ('action' in x) {
      const { target, message: m, emoji } = x
      if (emoji && x.from.id === me()) mine[x.on ? 'add' : 'delete'](target + emoji)
      know(m)
      // A change to a message no longer retained has nothing to show.
      if (m) events.emit('update', m, x)
    } else {
      // A sender has read up to their message (the relay moved their position: no `read` frame follows).
      if (x.offset > read && !x.deleted) {
        if (x.from.id !== me()) unread.push(x.offset)
        seen(x.from.id, x.offset)
      }
      know(x)
      events.emit('message', x)
    }
  }
  const change = (draft: Omit<Draft, 'room' | 'id'>, id?: string): Promise<Message> =>
    link.publish({ ...draft, room: name }, id)
  const typingNow = (): Member[] => [...typists.values()].map((t) => t.member)
  const emitTyping = (): void => events.emit('typing', typingNow())
  const unType = (id: string): boolean => {
    clearTimeout(typists.get(id)?.timer)
    return typists.delete(id)
  }

  // Mutable inside: `memberCount` is a plain field (no getter) to keep the bundle small.
  const room: Mutable<Room, 'memberCount'> = {
    name,
    get members() {
      return members
    },
    memberCount: 0,
    get typingMembers() {
      return typingNow()
    },
    get position() {
      return pos
    },
    get unread() {
      return unread.length
    },
    get read() {
      return read
    },
    get reads() {
      return reads
    },
    on: (event, cb) => events.on(event, cb),
    edit: (offset, text, o = {}) => change({ type: 'edit', offset, text, meta: o.meta }, o.id),
    delete: (offset) => change({ type: 'delete', offset }),
    react: (offset, emoji) => change({ type: 'react', offset, emoji }),
    send: (text, o = {}) =>
      change({ text, meta: o.meta }, o.id).then((m) => {
        // Our message ended our typing for everyone else: the next keystroke says we type again, unthrottled.
        typedAt = 0
        return m
      }),
    typing() {
      const now = Date.now()
      if (joined && now - typedAt >= DEFAULTS.typingEvery && link.send({ type: 'typing', room: name, active: true })) {
        typedAt = now
        typingOn = true
      }
      clearTimeout(idle)
      idle = setTimeout(() => {
        if (typingOn) link.send({ type: 'typing', room: name, active: false })
        typedAt = 0
        typingOn = false
      }, DEFAULTS.typingIdle)
    },
    history: (o) => link.request({ ...o, type: 'history', room: name }).then((f) => (f as HistoryResultFrame).messages),
    markRead(offset = pos?.offset ?? 0) {
      if (offset <= read) return
      // Offline, the relay learns it at the next join.
      if (joined) link.send({ type: 'read', room: name, offset })
      seen(me() as string, offset)
    },
    // The client takes the room offline, which clears the typing timer.
    leave: () => link.left(name, !invalid),
  }

  return {
    room,
    ready: () => joined,
    online() {
      if (joining || invalid) return
      early = []
      joining = link.send({ type: 'join', ref: name, room: name, since: pos, history: options.history })
    },
    offline() {
      refused = early = undefined
      joining = joined = typingOn = false
      typedAt = 0
      clearTimeout(idle)
      if (typists.size) {
        for (const id of typists.keys()) unType(id)
        emitTyping()
      }
    },
    retry() {
      joining = false
    },
    refuse(error) {
      refused = error
    },
    refusal: () => invalid ?? refused,
    handle(f) {
      switch (f.type) {
        case 'joined': {
          if (pos && (pos.epoch !== f.epoch || !f.recovered)) {
            events.emit('reset', { reason: pos.epoch === f.epoch ? 'gap' : 'epoch', epoch: f.epoch, head: f.head })
            pos = undefined
            // Offsets of another epoch, or changes never to be replayed: what this client knew no longer holds.
            mine.clear()
            read = 0
          }
          pos ??= { epoch: f.epoch, offset: 0 }
          const local = read
          // The relay's count, from its position: the replay's unread messages counted one by one, the others
          // (older) as if just after the position, so that marking any later offset reads them.
          read = f.read ?? 0
          unread = []
          reads = f.reads ?? []
          for (const x of [...f.messages, ...(f.updates ?? [])].sort((a, b) => a.offset - b.offset)) deliver(x)
          // (A relay without read positions sends no count: `length` NaN is 0, as a negative one would be.)
          unread = [...Array.from({ length: (f.unread as number) - unread.length }, () => read + 1), ...unread]
          for (const x of early ?? []) deliver(x)
          early = refused = undefined
          // A first join without history starts at the head: a re-join must not replay older messages.
          if (pos.offset < f.head) pos = { epoch: f.epoch, offset: f.head }
          link.save(name, pos)
          joined = true
          // Read offline (or the frame was lost): the relay learns it now.
          room.markRead(local)
          members = f.members
          room.memberCount = f.count ?? members.length
          events.emit('presence', members)
          link.flush(name)
          break
        }
        case 'message':
        case 'update': {
          const { type: _, ...x } = f
          if (early) early.push(x)
          else deliver(x)
          // Whoever sent a message has stopped typing it; a new `typing` from them shows them again.
          if (f.type === 'message' && unType(f.from.id)) emitTyping()
          break
        }
        case 'read':
          seen(f.user, f.offset)
          break
        case 'history':
          // This user's reactions on older messages (an ack's state says nothing an own `update` does not).
          f.messages.map(know)
          break
        case 'presence': {
          const gone = new Set([...f.leaves, ...f.joins].map((m) => m.id))
          members = [...members.filter((m) => !gone.has(m.id)), ...f.joins]
          room.memberCount = f.count ?? members.length
          events.emit('presence', members)
          break
        }
        case 'typing': {
          const { id } = f.user
          if (id === me()) break
          // A refresh re-arms the expiry: a typist the relay keeps announcing never drops out.
          unType(id)
          if (f.active)
            typists.set(id, {
              member: f.user,
              timer: setTimeout(() => unType(id) && emitTyping(), DEFAULTS.typingExpire),
            })
          emitTyping()
          break
        }
        case 'left':
          joined = false
          break
      }
    },
  }
}
