import { createNanoEvents, type Unsubscribe } from 'nanoevents'
import { DEFAULTS } from './defaults.js'
import { ConfabError } from './errors.js'
import {
  type ClientFrame,
  MAX_REF,
  type Member,
  type Message,
  type Meta,
  type Position,
  type RelayFrame,
  ROOM_PATTERN,
} from './protocol.js'

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
  /** The full member list after a change (the local user included, one entry per user). */
  presence(members: Member[]): void
  /** Who is typing now (the local user excluded). */
  typing(members: Member[]): void
  /** History could not be resumed; messages that follow start a fresh view. */
  reset(info: ResetInfo): void
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

/** Options of `room.send`. */
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
  /** Everyone in the room now, the local user included; empty until joined. */
  readonly members: Member[]
  /** Who is typing now, the local user excluded. */
  readonly typingMembers: Member[]
  /** Last position delivered, if any. */
  readonly position: Position | undefined
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
  /** Tells the relay the user has read up to `offset` (default: the newest delivered); in a conversation it clears the user's side of the unread count. */
  markRead(offset?: number): void
}

/** What a room needs from its client. Internal. */
export interface Link {
  /** Sends a frame on the open socket, within the relay's frame rate; false when there is no socket or no token. */
  send(frame: ClientFrame): boolean
  publish(room: string, text: string, options?: SendOptions): Promise<Message>
  history(room: string, options: HistoryOptions): Promise<Message[]>
  /** Sends the room's queued messages and history requests (the room just got `joined`). */
  flush(room: string): void
  /** The local user, once welcomed. */
  user(): Member | undefined
  /** Records the room's last position. */
  save(room: string, position: Position): void
  /** The room was left by the app: forget it, and tell the relay unless the name never was valid. */
  left(room: string, tell: boolean): void
}

/** The client's handle on a room. Internal. */
export interface RoomControl {
  room: Room
  /** The `ref` of this room's `join` frames: the relay's answers and refusals carry it. */
  readonly ref: string
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

/**
 * The one place a join's `ref` is made: `join:` and the room's name (readable in logs), or, where that would
 * pass the relay's {@link MAX_REF}, a fresh client ref. The client matches answers by this ref alone.
 */
export const joinRef = (name: string, fresh: () => string): string =>
  name.length + 5 > MAX_REF ? fresh() : `join:${name}`

/** Why `name` is not a room name the relay accepts (the relay's own words), or undefined when it is one. */
export const checkRoom = (name: string): ConfabError | undefined =>
  ROOM_PATTERN.test(name)
    ? undefined
    : new ConfabError('bad_request', 'room must be 1 to 64 characters: letters, digits, and _ - . : @')

/** Creates a room that starts from `position` (a persisted one) or from nothing; `ref` names its joins. */
export function createRoom(
  name: string,
  options: JoinOptions,
  link: Link,
  ref: string,
  position?: Position,
): RoomControl {
  const events = createNanoEvents<RoomEvents>()
  // A name the relay would refuse never goes out: the room is refused for good, without a round trip.
  const invalid = checkRoom(name)
  let pos = position
  let joined = false
  // True while the join is on the current socket (it may wait for a token of the relay's frame rate).
  let joining = false
  let refused: ConfabError | undefined
  // Live messages that beat `joined` on a fresh socket wait here, so the replay comes first.
  let early: Message[] | undefined
  let members: Member[] = []
  const typists = new Map<string, { member: Member; timer: ReturnType<typeof setTimeout> }>()
  // When our last `typing` frame went (0: none since we stopped); `typingOn`: a "stopped" is owed.
  let typedAt = 0
  let typingOn = false
  let idle: ReturnType<typeof setTimeout> | undefined

  const deliver = (m: Message): void => {
    if (!pos || m.offset <= pos.offset) return
    pos = { epoch: pos.epoch, offset: m.offset }
    link.save(name, pos)
    events.emit('message', m)
  }
  const typingNow = (): Member[] => [...typists.values()].map((t) => t.member)
  const emitTyping = (): void => events.emit('typing', typingNow())
  const unType = (id: string): boolean => {
    const t = typists.get(id)
    if (t) clearTimeout(t.timer)
    return typists.delete(id)
  }

  const room: Room = {
    name,
    get members() {
      return members
    },
    get typingMembers() {
      return typingNow()
    },
    get position() {
      return pos
    },
    on: (event, cb) => events.on(event, cb),
    send: (text, o) =>
      link.publish(name, text, o).then((m) => {
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
    history: (o = {}) => link.history(name, o),
    markRead(offset = pos?.offset) {
      if (offset !== undefined && joined) link.send({ type: 'read', room: name, offset })
    },
    leave() {
      clearTimeout(idle)
      link.left(name, !invalid)
    },
  }

  return {
    room,
    ref,
    ready: () => joined,
    online() {
      if (joining || invalid) return
      early = []
      joining = link.send({ type: 'join', ref, room: name, since: pos, history: options.history })
    },
    offline() {
      refused = undefined
      joining = joined = typingOn = false
      early = undefined
      typedAt = 0
      clearTimeout(idle)
      if (typists.size) {
        for (const t of typists.values()) clearTimeout(t.timer)
        typists.clear()
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
          }
          pos ??= { epoch: f.epoch, offset: 0 }
          for (const m of [...f.messages, ...(early ?? [])]) deliver(m)
          early = undefined
          // A first join without history starts at the head: a re-join must not replay older messages.
          if (pos.offset < f.head) pos = { epoch: f.epoch, offset: f.head }
          link.save(name, pos)
          joined = true
          refused = undefined
          members = f.members
          events.emit('presence', members)
          link.flush(name)
          break
        }
        case 'message': {
          const { type: _, ...m } = f
          if (early) early.push(m)
          else deliver(m)
          // Whoever sent a message has stopped typing it; a new `typing` from them shows them again.
          if (unType(m.from.id)) emitTyping()
          break
        }
        case 'presence': {
          const gone = new Set([...f.leaves, ...f.joins].map((m) => m.id))
          members = [...members.filter((m) => !gone.has(m.id)), ...f.joins]
          events.emit('presence', members)
          break
        }
        case 'typing': {
          if (f.user.id === link.user()?.id) break
          // A refresh re-arms the expiry: a typist the relay keeps announcing never drops out.
          unType(f.user.id)
          if (f.active) {
            const timer = setTimeout(() => unType(f.user.id) && emitTyping(), DEFAULTS.typingExpire)
            typists.set(f.user.id, { member: f.user, timer })
          }
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
