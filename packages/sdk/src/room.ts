import { createNanoEvents, type Unsubscribe } from 'nanoevents'
import type { ConfabError } from './errors.js'
import type { ClientFrame, Member, Message, Meta, Position, RelayFrame } from './protocol.js'

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
  /** Call on every keystroke: the SDK sends at most one frame per 2 s and says "stopped" after 3 s idle. */
  typing(): void
  /**
   * Older messages, oldest first. Waits while the room is not joined (offline, reconnecting); rejects
   * with ConfabError `timeout` when no answer came within `sendTimeout` of the call, `closed` after leave or close.
   */
  history(options?: HistoryOptions): Promise<Message[]>
  /** Leaves the room; its queued messages are rejected with `closed`. */
  leave(): void
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
  /** The room was left by the app: sends `leave`. */
  left(room: string): void
}

/** The client's handle on a room. Internal. */
export interface RoomControl {
  room: Room
  /** True while joined on the current socket. */
  ready(): boolean
  /** A frame for this room arrived. */
  handle(frame: RelayFrame): void
  /** The session is open: (re-)join, resuming from the last position, unless the join is on the wire already. */
  online(): void
  /** The socket is gone (or the join must wait): not joined, and any refusal forgotten. */
  offline(): void
  /** The relay's refusal of the join on the current socket: sends and history requests fail with it at once. */
  refused?: ConfabError
  /** True while the join is on the current socket (it may wait for a token of the relay's frame rate). */
  sent?: boolean
}

/** Milliseconds between typing frames while the user keeps typing. */
const TYPING_EVERY = 2_000
/** Milliseconds of no keystroke after which the SDK says the user stopped. */
const TYPING_IDLE = 3_000
/** Milliseconds after which a typist the relay never said stopped is dropped anyway. */
const TYPING_EXPIRE = 6_000

/** Creates a room that starts from `position` (a persisted one) or from nothing. */
export function createRoom(name: string, options: JoinOptions, link: Link, position?: Position): RoomControl {
  const events = createNanoEvents<RoomEvents>()
  let pos = position
  let joined = false
  // Live messages that beat `joined` on a fresh socket wait here, so the replay comes first.
  let early: Message[] | undefined
  let members: Member[] = []
  const typists = new Map<string, { member: Member; timer: ReturnType<typeof setTimeout> }>()
  let typingSince = 0
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
    send: (text, o) => link.publish(name, text, o),
    typing() {
      const now = Date.now()
      if (joined && now - typingSince >= TYPING_EVERY && link.send({ type: 'typing', room: name, active: true }))
        typingSince = now
      clearTimeout(idle)
      idle = setTimeout(() => {
        if (typingSince) link.send({ type: 'typing', room: name, active: false })
        typingSince = 0
      }, TYPING_IDLE)
    },
    history: (o = {}) => link.history(name, o),
    leave() {
      clearTimeout(idle)
      link.left(name)
    },
  }

  return {
    room,
    ready: () => joined,
    online() {
      if (this.sent) return
      early = []
      this.sent = link.send({ type: 'join', ref: `join:${name}`, room: name, since: pos, history: options.history })
    },
    offline() {
      this.refused = this.sent = undefined
      joined = false
      early = undefined
      typingSince = 0
      clearTimeout(idle)
      if (typists.size) {
        for (const t of typists.values()) clearTimeout(t.timer)
        typists.clear()
        emitTyping()
      }
    },
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
          members = f.members
          events.emit('presence', members)
          link.flush(name)
          break
        }
        case 'message': {
          const { type: _, ...m } = f
          if (early) early.push(m)
          else deliver(m)
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
          unType(f.user.id)
          if (f.active) {
            const timer = setTimeout(() => unType(f.user.id) && emitTyping(), TYPING_EXPIRE)
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
