import { createNanoEvents, type Unsubscribe } from 'nanoevents'
import type { ReconnectOptions } from './backoff.js'
import { createConnection, type SocketConstructor, type Status } from './connection.js'
import { DEFAULTS } from './defaults.js'
import { ConfabError, notNow } from './errors.js'
import type { ClientFrame, Conversation, ErrorFrame, Limits, Member, RelayFrame } from './protocol.js'
import { createRoom, type JoinOptions, type Link, type Room, type RoomControl } from './room.js'
import { createSender } from './sender.js'
import { load, pickStorage, type StorageLike, save } from './storage.js'
import { socketUrl } from './url.js'

export type { Socket, SocketConstructor, Status } from './connection.js'

/** Events of a {@link Client}. */
export interface ClientEvents {
  /** The status changed; the callback gets the new one, then the one before it. */
  status(status: Status, previous: Status): void
  /** A failure no promise reports: a refused token, a close by the relay, an error frame that answers nothing. */
  error(error: ConfabError): void
  /** Operators online relay-wide changed (visitors, after `conversation()`). */
  operators(online: number): void
  /** Operators: a conversation of the index was created or changed, on any relay node. */
  conversation(conversation: Conversation): void
}

/** A frame that expects an answer, without its `ref` (the client adds one). */
export type RequestFrame = ClientFrame extends infer F ? (F extends { ref: string } ? Omit<F, 'ref'> : never) : never

/** Options of {@link connect}. Every one is optional. */
export interface ConnectOptions {
  /** JWT for a relay with auth. A function is called before every connect, so it can refresh. */
  token?: string | (() => string | Promise<string>)
  /** Display name, used when the relay runs without auth (and for operators signed in by `key`). */
  name?: string
  /** The relay's operator key: signs in as an operator (the inbox uses it; never put it in a visitor page). */
  key?: string
  /** WebSocket constructor (default `globalThis.WebSocket`; Node 20 needs `ws`). */
  WebSocket?: SocketConstructor
  /** `false` never reconnects; otherwise backoff settings (defaults 500 ms, 30,000 ms, factor 2, full jitter). */
  reconnect?: false | ReconnectOptions
  /** Milliseconds without any frame before the link counts as dead (default: the relay's, from `welcome`; 20,000 before it). */
  heartbeat?: number
  /**
   * Milliseconds to wait for an ack once a message is on the wire (default 10,000), through any `unavailable` or
   * `rate_limited` retries: then `send` rejects with `timeout`, the link is probed, and the message stays queued.
   * Also the deadline of a history page, from the call.
   */
  sendTimeout?: number
  /** Keep the outbox, room positions and guest identity across page loads: `true` for sessionStorage, or a storage object (default off). */
  persist?: boolean | StorageLike
  /** Messages that may wait for an ack at once, queued and in flight together (default 100). */
  outbox?: number
}

/** One connection to a relay, shared by every room the app joins. */
export interface Client {
  /** Where the connection stands now. */
  readonly status: Status
  /** The local user from the relay's `welcome`; undefined until the first one. */
  readonly user: Member | undefined
  /** The limits of the relay's last `welcome` (such as `maxText`); undefined until the first one. */
  readonly limits: Limits | undefined
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof ClientEvents>(event: E, cb: ClientEvents[E]): Unsubscribe
  /**
   * Joins a room (again returns the same Room for the same name); re-joined after every reconnect. A name the
   * relay would refuse (see `ROOM_PATTERN`) is never sent: `error` is emitted with `bad_request` at once and the
   * Room's `send` and `history` reject with it.
   */
  join(room: string, options?: JoinOptions): Room
  /** Closes for good: status `closed`, waiting sends and history requests reject with `closed`. A persisted outbox stays stored. */
  close(): void
  /**
   * Sends a frame that expects an answer, once the session is open, and resolves with the answer frame;
   * rejects with the relay's ConfabError, `closed`, or `timeout` after `sendTimeout` from the call.
   */
  request(frame: RequestFrame): Promise<RelayFrame>
  /** The current user's private conversation with the site's operators, joined (the relay names its room). The same Room on every call. */
  conversation(options?: JoinOptions): Promise<Room>
  /** Operators online relay-wide, once `conversation()` was asked; undefined before. */
  readonly operators: number | undefined
}

/**
 * Opens a connection to a relay at `url` (`ws(s)://` or `http(s)://`; an empty path means `/ws`)
 * and keeps it open: reconnecting with backoff, re-joining rooms from their last position and
 * resending unacknowledged messages with their original ids.
 */
export function connect(url: string, options: ConnectOptions = {}): Client {
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (!WS) throw new TypeError("confab: no global WebSocket; pass one (in Node, from 'ws')")
  const target = socketUrl(url)
  const storage = pickStorage(options.persist)
  const key = `confab:${target}`
  const events = createNanoEvents<ClientEvents>()
  const rooms = new Map<string, RoomControl>()
  const saved = load(storage, key)
  const positions = saved.rooms
  let user: Member | undefined
  let limits: Limits | undefined
  let operators: number | undefined
  let convo: Promise<Room> | undefined
  // Persisted with the outbox: a restored message must go out as the guest that first sent it.
  let resume = saved.resume

  const report = (error: ConfabError): void => void events.emit('error', error)
  const persist = (): void => {
    if (!storage) return
    try {
      save(storage, key, { outbox: sender.drafts(), rooms: positions, resume })
    } catch (e) {
      // Quota or privacy mode: the client still works, only a reload would lose the queue.
      report(new ConfabError('internal', `could not persist: ${e}`))
    }
  }

  const sender = createSender(
    options.outbox ?? DEFAULTS.outbox,
    options.sendTimeout ?? DEFAULTS.sendTimeout,
    saved.outbox,
    {
      send: (frame) => connection.send(frame),
      probe: (within) => connection.probe(within),
      joined(room) {
        const r = rooms.get(room)
        // A room not joined yet is joined first: its join may be waiting for a token. (One refused stays refused:
        // its join was answered on this socket.)
        if (r?.ready()) return true
        r?.online()
        return false
      },
      rooms: () => rooms.keys(),
      check(room) {
        const r = rooms.get(room as string)
        const closed = connection.status === 'closed'
        // Nothing would ever answer: throw `closed` on a closed client or a left room, or the room's refusal.
        if (closed || (room !== undefined && !r))
          throw new ConfabError('closed', closed ? 'client closed' : `left room ${room}`)
        const refusal = r?.refusal()
        if (refusal) throw refusal
      },
      user: () => user,
      changed: persist,
      error: report,
    },
  )

  /** An `error` frame: what it answers (by ref) fails, or goes again when the relay means "not now". */
  const onError = (f: ErrorFrame): void => {
    const error = new ConfabError(f.code, f.message, f.retryAfter)
    if (sender.refused(f, error)) return
    // A join's ref is its room's name.
    const joining = rooms.get(f.ref as string)
    if (joining && notNow(f.code)) {
      joining.retry()
      sender.later(f.retryAfter)
    } else if (joining) {
      // Until the next join, the room's sends and history requests would wait forever: refuse them as the relay did.
      joining.refuse(error)
      sender.rejectAll(joining.room.name, error)
    }
    report(error)
  }

  const onFrame = (f: RelayFrame): void => {
    switch (f.type) {
      case 'welcome':
        user = f.user
        limits = f.limits
        // Persisted with the room positions at `joined`, before any message of this session can be on the wire.
        resume = f.resume
        sender.welcome(f.limits)
        break
      case 'operators':
        operators = f.online
        events.emit('operators', operators)
        break
      case 'error':
        onError(f)
        break
      default:
        if (f.type === 'ack') sender.ack(f)
        else if (!sender.answer(f) && f.type === 'conversation' && f.conversation)
          events.emit('conversation', f.conversation)
        // Every frame that names a room goes to it, an ack or a history page too: the room learns its user's
        // reactions from the states they carry. (A `pong` has no room: renewing the connection's deadline was all.)
        rooms.get((f as { room: string }).room)?.handle(f)
    }
  }

  const connection = createConnection(WS, target, options, {
    frame: onFrame,
    status(next, previous) {
      events.emit('status', next, previous)
      if (next === 'open') {
        for (const r of rooms.values()) r.online()
        // The operator count is per connection: a new socket asks again (its answer is the `conversation` event).
        if (convo && previous !== 'connecting') connection.send({ type: 'conversation', ref: sender.ref() })
        sender.flush()
      }
      // Messages still waiting stay in storage (when persisted): the next page's client sends them.
      if (next === 'closed') sender.rejectAll(undefined, new ConfabError('closed', 'client closed'))
    },
    down() {
      // Unanswered requests go again on the next socket (each is safe to repeat), within their deadline.
      sender.down()
      for (const r of rooms.values()) r.offline()
    },
    error: report,
    resume: () => resume,
  })

  const link: Link = {
    ...sender,
    send: sender.paced,
    user: () => user,
    save(room, position) {
      positions[room] = position
      persist()
    },
    left(room, tell) {
      rooms.get(room)?.offline()
      rooms.delete(room)
      // The relay would otherwise keep the room: sent whatever the frame rate says.
      if (tell) connection.send({ type: 'leave', room })
      delete positions[room]
      sender.rejectAll(room, new ConfabError('closed', `left room ${room}`))
      persist()
    },
  }

  const join = (name: string, joinOptions: JoinOptions = {}): Room => {
    let r = rooms.get(name)
    if (!r) {
      r = createRoom(name, joinOptions, link, positions[name])
      rooms.set(name, r)
      const invalid = r.refusal()
      if (invalid) report(invalid)
      else r.online() // sends nothing unless open
    }
    return r.room
  }

  return {
    get status() {
      return connection.status
    },
    get operators() {
      return operators
    },
    request: sender.request,
    conversation(joinOptions) {
      convo ??= sender.request({ type: 'conversation' }).then(
        (f) =>
          new Promise<Room>((resolve, reject) => {
            const name = (f as { room: string }).room
            const room = join(name, joinOptions)
            const settle = (error?: unknown) => {
              off()
              offError()
              if (error) {
                // Forgotten, so that the next call joins afresh.
                room.leave()
                convo = undefined
                reject(error)
              } else resolve(room)
            }
            // The first member list comes with `joined`; a refused join is reported right after the room took it.
            const off = room.on('presence', () => settle())
            const offError = events.on('error', (e) => e === rooms.get(name)?.refusal() && settle(e))
          }),
        (e) => {
          convo = undefined
          throw e
        },
      )
      return convo
    },
    get user() {
      return user
    },
    get limits() {
      return limits
    },
    on: (event, cb) => events.on(event, cb),
    join,
    close: connection.close,
  }
}
