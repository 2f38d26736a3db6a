import { createNanoEvents, type Unsubscribe } from 'nanoevents'
import { backoff, RECONNECT, type ReconnectOptions } from './backoff.js'
import { isOffline, watchBrowser } from './browser.js'
import { type Bucket, createBucket } from './bucket.js'
import { ConfabError, type ConfabErrorCode } from './errors.js'
import { createLiveness } from './liveness.js'
import { createOutbox, type Entry } from './outbox.js'
import {
  CLOSE,
  type ClientFrame,
  type CloseAction,
  closeAction,
  type ErrorFrame,
  type HistoryFrame,
  type HistoryResultFrame,
  type Limits,
  type Member,
  type Message,
  type RelayFrame,
  SUBPROTOCOL,
} from './protocol.js'
import { createRoom, type JoinOptions, type Link, type Room, type RoomControl } from './room.js'
import { load, pickStorage, type StorageLike, save } from './storage.js'
import { socketUrl } from './url.js'

/** Where the connection stands. `closed` is final: make a new client to connect again. */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Events of a {@link Client}. */
export interface ClientEvents {
  /** The status changed; the callback gets the new one. */
  status(status: Status): void
  /** A failure no promise reports: a refused token, a close by the relay, an error frame that answers nothing. */
  error(error: ConfabError): void
}

/** The part of a WebSocket the SDK uses: the browser's own and the `ws` package's both fit. */
export interface Socket {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number }) => void) | null
  onerror: ((event: unknown) => void) | null
  send(data: string): void
  close(): void
}

/** A WebSocket constructor: `globalThis.WebSocket`, or the default export of `ws` in Node. */
export type SocketConstructor = new (url: string, protocols: string) => unknown

/** Options of {@link connect}. Every one is optional. */
export interface ConnectOptions {
  /** JWT for a relay with auth. A function is called before every connect, so it can refresh. */
  token?: string | (() => string | Promise<string>)
  /** Display name, used when the relay runs without auth. */
  name?: string
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
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof ClientEvents>(event: E, cb: ClientEvents[E]): Unsubscribe
  /** Joins a room (again returns the same Room for the same name); re-joined after every reconnect. */
  join(room: string, options?: JoinOptions): Room
  /** Closes for good: status `closed`, waiting sends and history requests reject with `closed`. A persisted outbox stays stored. */
  close(): void
}

/** Milliseconds a connection must stay up before the backoff attempts count from zero again. */
const STABLE_AFTER = 5_000
/** Milliseconds: upper bound of the random delay after a close with 1012 or 1013. */
const SOON = 5_000
/** Milliseconds a probed link has to show a frame (after `online`, `visibilitychange`, `pageshow`). */
const PROBE_WITHIN = 5_000
/** Milliseconds before the first `welcome` tells the relay's heartbeat. */
const FIRST_HEARTBEAT = 20_000
const OPEN = 1

/** What the SDK says when the relay closes the connection with a code it does not retry. */
function stopCode(code: number): ConfabErrorCode {
  if (code === CLOSE.UNAUTHORIZED) return 'unauthorized'
  if (code === CLOSE.FORBIDDEN || code === CLOSE.POLICY) return 'forbidden'
  if (code === CLOSE.TOO_LARGE) return 'too_large'
  if (code === CLOSE.TOO_MANY_ERRORS) return 'bad_request'
  return 'closed'
}

/** A message id: unique enough within a room's 10-minute idempotency window, no crypto needed. */
const makeId = (): string => Date.now().toString(36) + Math.random().toString(36).slice(2, 10)

/** A history request: sent once the room is joined, again after a reconnect, until answered or timed out. */
interface Ask {
  frame: HistoryFrame
  /** True while on the current socket. */
  sent?: boolean
  answer(a: HistoryResultFrame | ConfabError): void
}

/**
 * Opens a connection to a relay at `url` (`ws(s)://` or `http(s)://`; an empty path means `/ws`)
 * and keeps it open: reconnecting with backoff, re-joining rooms from their last position and
 * resending unacknowledged messages with their original ids.
 */
export function connect(url: string, options: ConnectOptions = {}): Client {
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (!WS)
    throw new TypeError("confab: no global WebSocket; pass one: connect(url, { WebSocket }) with WebSocket from 'ws'")
  const target = socketUrl(url)
  const { token, sendTimeout = 10_000 } = options
  const retry = options.reconnect === false ? undefined : { ...RECONNECT, ...options.reconnect }
  const storage = pickStorage(options.persist)
  const key = `confab:${target}`
  const events = createNanoEvents<ClientEvents>()
  const outboxLimit = options.outbox ?? 100
  const outbox = createOutbox(outboxLimit)
  const rooms = new Map<string, RoomControl>()
  const asks = new Map<string | undefined, Ask>()
  const saved = load(storage, key)
  const positions = saved.rooms
  const live = createLiveness(
    () => send({ type: 'ping' }),
    () => drop('backoff'),
  )

  let status: Status = 'connecting'
  let socket: Socket | undefined
  let generation = 0
  let attempt = 0
  let authRetried = false
  let offline = false
  let user: Member | undefined
  // Persisted with the outbox: a restored message must go out as the guest that first sent it.
  let resume = saved.resume
  let heartbeat = options.heartbeat ?? FIRST_HEARTBEAT
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let paceTimer: ReturnType<typeof setTimeout> | undefined
  // Set by every `welcome`, before any room can be joined (and so before any publish).
  let bucket: Bucket
  // The relay's limit on join, leave, typing and history frames, when its `welcome` announces one.
  let frames: Bucket | undefined
  let stableTimer: ReturnType<typeof setTimeout> | undefined
  let refs = 0

  const fail = (code: ConfabErrorCode, message: string): ConfabError => new ConfabError(code, message)
  const report = (code: ConfabErrorCode, message: string): void => events.emit('error', fail(code, message))

  /** The one place the status changes. */
  const setStatus = (next: Status): void => {
    if (status === next) return
    status = next
    events.emit('status', next)
  }

  /** Sends a frame once the session is open (after `welcome`); false when it is not. */
  const send = (frame: ClientFrame): boolean => {
    if (status !== 'open' || socket?.readyState !== OPEN) return false
    socket.send(JSON.stringify(frame))
    return true
  }
  /**
   * Sends a join, typing or history frame within the relay's frame rate, so that a start-up with many rooms
   * is not refused (and, refused often enough, closed with 4101). Without a token it sends nothing and
   * flushes again when one is due.
   */
  const paced = (frame: ClientFrame): boolean => {
    // Only frames on an open socket count: when none is open the token is not missed (the next `welcome` makes a new bucket).
    const wait = frames?.take()
    if (!wait) return send(frame)
    pace(wait)
    return false
  }

  const persist = (): void => {
    if (!storage) return
    try {
      save(storage, key, { outbox: outbox.list().map((e) => e.draft), rooms: positions, resume })
    } catch (e) {
      // Quota or privacy mode: the client still works, only a reload would lose the queue.
      report('internal', `could not persist the outbox: ${e}`)
    }
  }

  /**
   * Settles the `send` calls waiting on `entry`. A final failure nobody waits for (a message restored
   * from storage, or one whose callers already got `timeout`) goes to the `error` event instead.
   */
  const settle = (entry: Entry, result: Message | ConfabError, final = true): void => {
    const error =
      result instanceof ConfabError && new ConfabError(result.code, result.message, result.retryAfter, entry.draft.id)
    const waits = entry.waits.splice(0)
    if (error && final && !waits.length) events.emit('error', error)
    for (const [ok, reject] of waits) error ? reject(error) : ok(result as Message)
  }
  /** The relay answered the message for good: out of the outbox, its callers told, the next one in its room sent. */
  const done = (entry: Entry, result: Message | ConfabError): void => {
    outbox.take(entry)
    persist()
    settle(entry, result)
    flush(entry.draft.room)
  }
  /** The deadline of an entry in line on the current socket; one that runs already is kept. */
  const arm = (entry: Entry): void => {
    entry.timer ??= setTimeout(() => {
      entry.timer = undefined
      // Not confirmed in time, but maybe stored: the message stays queued and goes again, same id, after a
      // reconnect. Only its callers are told, so that none waits forever.
      settle(entry, fail('timeout', `no ack within ${sendTimeout} ms`), false)
      // A lost ack most often means a dead link: find out now, not a heartbeat later. Half the timeout
      // (5 s by default) settles it before this deadline comes round again for a retry waiting here.
      if (entry.sent) live.probe(sendTimeout / 2)
      // Its room's line is stuck: what waits behind it gets a deadline too, and this one another.
      for (const e of outbox.list()) if (e.draft.room === entry.draft.room) arm(e)
    }, sendTimeout)
  }
  /**
   * Sends the room's history requests, then its oldest waiting message, paced to the relay's publish rate.
   * One publish per room is on the wire at a time: one the relay answers "not now" (`unavailable`,
   * `rate_limited`) goes again before those behind it, so the room stores them in the app's order.
   */
  const flush = (room: string): void => {
    const r = rooms.get(room)
    // A room not joined yet is joined first: its join may be waiting for a token. (One refused stays refused:
    // its join was answered on this socket.)
    if (!r?.ready()) return void r?.online()
    for (const ask of asks.values()) if (ask.frame.room === room) ask.sent ||= paced(ask.frame)
    const entry = outbox.list().find((e) => e.draft.room === room)
    if (!entry || entry.sent) return
    const wait = bucket.take()
    if (wait) pace(wait)
    else if (send({ type: 'publish', ref: entry.ref, ...entry.draft })) {
      entry.sent = true
      arm(entry)
    }
  }
  /** Flushes every joined room again in `ms` (one timer, however many rooms wait). */
  const pace = (ms: number): void => {
    paceTimer ??= setTimeout(() => {
      paceTimer = undefined
      for (const name of rooms.keys()) flush(name)
    }, ms)
  }
  /** Rejects the waiting messages and history requests of one room, or of all rooms (`undefined`), without touching storage. */
  const rejectAll = (room: string | undefined, error: ConfabError): void => {
    for (const entry of outbox.list()) {
      if (room !== undefined && entry.draft.room !== room) continue
      outbox.take(entry)
      settle(entry, error)
    }
    for (const ask of asks.values()) if (room === undefined || ask.frame.room === room) ask.answer(error)
  }
  /**
   * Throws `closed` for a call on a closed client or a left room, and the relay's refusal for a room it would
   * not let us join: nothing would ever answer the call.
   */
  const usable = (room: string): void => {
    const r = rooms.get(room)
    if (status === 'closed' || !r) throw fail('closed', status === 'closed' ? 'client closed' : `left room ${room}`)
    if (r.refused) throw r.refused
  }

  const link: Link = {
    send: paced,
    flush,
    user: () => user,
    publish(room, text, { meta, id = makeId() } = {}) {
      return new Promise<Message>((ok, reject) => {
        usable(room)
        const queued = outbox.list().find((e) => e.draft.id === id && e.draft.room === room)
        // A retry with the id of a message still queued (say after a `timeout`) waits for that message.
        if (queued) queued.waits.push([ok, reject])
        else {
          outbox.add({ ref: `#${++refs}`, draft: { room, id, text, meta }, waits: [[ok, reject]] })
          persist()
        }
        flush(room)
      })
    },
    history(room, { before, limit }) {
      return new Promise<Message[]>((ok, reject) => {
        usable(room)
        const ref = `#${++refs}`
        // Bounded like a send on the wire, but from the call: waiting for the connection counts too.
        const timer = setTimeout(() => answer(fail('timeout', `no answer within ${sendTimeout} ms`)), sendTimeout)
        const answer = (a: HistoryResultFrame | ConfabError): void => {
          clearTimeout(timer)
          asks.delete(ref)
          if (a instanceof ConfabError) reject(a)
          else ok(a.messages)
        }
        asks.set(ref, { frame: { type: 'history', ref, room, before, limit }, answer })
        flush(room)
      })
    },
    save(room, position) {
      positions[room] = position
      persist()
    },
    left(room) {
      rooms.get(room)?.offline()
      rooms.delete(room)
      // The relay would otherwise keep the room: sent whatever the frame rate says.
      send({ type: 'leave', room })
      delete positions[room]
      rejectAll(room, fail('closed', `left room ${room}`))
      persist()
    },
  }

  /** An `error` frame: fail what it answers, or retry it when the relay means "not now". */
  const onError = (f: ErrorFrame): void => {
    const { ref, room, code } = f
    const error = new ConfabError(code, f.message, f.retryAfter)
    const later = code === 'rate_limited' || code === 'unavailable'
    // A publish the relay could not parse may come back without its ref, naming only the room. With one publish
    // per room on the wire, that one is what failed: left unanswered, it would block its room for good. (The
    // SDK's other frames that name a room have no ref either, but are well-formed and paced: they are not refused.)
    const entry = outbox.list().find((e) => (ref ? e.ref === ref : e.sent && e.draft.room === room))
    const ask = asks.get(ref)
    const joining = ref === `join:${room}` && rooms.get(room as string)
    if (later && (entry || ask || joining)) {
      // Not the frame's fault: it keeps its place in line and goes again (a join too) when the relay says.
      // A message keeps its deadline, so a long outage still ends its `send` with `timeout` (it stays queued).
      ;(entry || ask || (joining as RoomControl)).sent = undefined
      pace(f.retryAfter ?? 1_000)
    } else if (entry) done(entry, error)
    else if (ask) ask.answer(error)
    else if (joining) {
      // Until the next join, the room's sends and history requests would wait forever: refuse them as the relay did.
      joining.refused = error
      rejectAll(room, error)
    }
    if (!entry && !ask) events.emit('error', error)
  }

  const onFrame = (f: RelayFrame): void => {
    live.touch()
    switch (f.type) {
      case 'welcome':
        user = f.user
        // Persisted with the room positions at `joined`, before any message of this session can be on the wire.
        resume = f.resume
        authRetried = false
        heartbeat = options.heartbeat ?? f.heartbeat
        {
          // `frameRate` and `frameBurst` are optional: relays before them do not announce them.
          const limits = f.limits as Limits & { frameRate?: number; frameBurst: number }
          bucket = createBucket(limits.publishRate, limits.publishBurst)
          frames = limits.frameRate ? createBucket(limits.frameRate, limits.frameBurst) : undefined
        }
        live.start(heartbeat)
        stableTimer = setTimeout(() => {
          attempt = 0
        }, STABLE_AFTER)
        setStatus('open')
        for (const r of rooms.values()) r.online()
        break
      case 'ack': {
        // Only the SDK's own refs match: never confused with an app's id.
        const entry = outbox.list().find((e) => e.ref === f.ref)
        // An ack follows `welcome`, so `user` is set.
        if (entry) done(entry, { ...entry.draft, offset: f.offset, from: user as Member, ts: f.ts })
        break
      }
      case 'history':
        asks.get(f.ref)?.answer(f)
        break
      case 'error':
        onError(f)
        break
      default:
        // A `pong` has no room: renewing the deadline above was all it had to do.
        rooms.get((f as { room: string }).room)?.handle(f)
    }
  }

  /**
   * Forgets the socket: its late callbacks are ignored (generation) and its listeners removed;
   * rooms are no longer joined, and what was on the wire waits for the next socket.
   */
  const discard = (): void => {
    generation++
    live.stop()
    clearTimeout(stableTimer)
    clearTimeout(retryTimer)
    clearTimeout(paceTimer)
    paceTimer = undefined
    outbox.pause()
    for (const r of rooms.values()) r.offline()
    // History requests go again after the re-join, within their own deadline.
    for (const ask of asks.values()) ask.sent = false
    const ws = socket
    socket = undefined
    if (!ws) return
    ws.onopen = ws.onmessage = ws.onclose = null
    // `ws` in Node throws on an 'error' event nobody listens to, and closing a socket that is
    // still connecting emits one; this socket's errors no longer concern anyone.
    ws.onerror = () => {}
    ws.close()
  }

  /** The socket is gone (closed by the relay, dead, or the browser went offline): decide what next. */
  const drop = (action: CloseAction, code?: number): void => {
    discard()
    if (code === CLOSE.UNAUTHORIZED && typeof token === 'function' && !authRetried) {
      authRetried = true
      action = 'now'
    }
    if (action === 'stop' || !retry) {
      if (code === undefined) report('closed', 'connection lost')
      else if (code !== CLOSE.NORMAL) report(stopCode(code), `connection closed (code ${code})`)
      close()
      return
    }
    setStatus('reconnecting')
    if (offline || isOffline()) return // the `online` event reconnects
    const n = attempt++
    const delay = action === 'soon' ? Math.random() * SOON : action === 'now' && n === 0 ? 0 : backoff(n, retry)
    retryTimer = setTimeout(open, delay)
  }

  const open = async (): Promise<void> => {
    const mine = ++generation
    let secret: string | undefined
    try {
      // A function token runs in a microtask, so even a synchronous throw reaches `error` listeners.
      secret = typeof token === 'function' ? await Promise.resolve().then(token) : token
    } catch (e) {
      if (mine !== generation) return
      report('unauthorized', `the token function failed: ${(e as Error)?.message ?? e}`)
      return drop('backoff')
    }
    if (mine !== generation) return
    let ws: Socket
    try {
      ws = new WS(target, SUBPROTOCOL) as Socket
    } catch (e) {
      // The environment refuses the URL (for instance ws: from an https page): retrying cannot help.
      report('bad_request', `cannot open a WebSocket to ${target}: ${e}`)
      return close()
    }
    socket = ws
    live.start(heartbeat)
    ws.onopen = () =>
      ws.send(JSON.stringify({ type: 'hello', v: 1, token: secret, name: options.name, resume } satisfies ClientFrame))
    ws.onmessage = (event) => {
      if (mine !== generation) return
      let frame: RelayFrame
      try {
        frame = JSON.parse(String(event.data)) as RelayFrame
      } catch {
        return report('bad_request', 'the relay sent a frame that is not JSON')
      }
      onFrame(frame)
    }
    ws.onclose = (event) => {
      if (mine === generation) drop(closeAction(event.code), event.code)
    }
    ws.onerror = () => {} // always followed by `close`, which says what there is to say
  }

  const unwatch = watchBrowser({
    wake() {
      offline = false
      if (status === 'open') live.probe(PROBE_WITHIN)
      else if (status === 'reconnecting' && !socket) {
        clearTimeout(retryTimer)
        void open()
      }
    },
    offline() {
      offline = true
      if (status !== 'closed') drop('backoff')
    },
  })

  const close = (): void => {
    if (status === 'closed') return
    discard()
    unwatch()
    setStatus('closed')
    // Messages still waiting stay in storage (when persisted): the next page's client sends them.
    rejectAll(undefined, fail('closed', 'client closed'))
  }

  for (const o of saved.outbox.slice(0, outboxLimit)) {
    // Restored from a previous page: nobody awaits these, so failures go to the `error` event.
    outbox.add({ ref: `#${++refs}`, draft: o, waits: [] })
  }

  const client: Client = {
    get status() {
      return status
    },
    get user() {
      return user
    },
    on: (event, cb) => events.on(event, cb),
    join(name, joinOptions = {}) {
      let r = rooms.get(name)
      if (!r) {
        r = createRoom(name, joinOptions, link, positions[name])
        rooms.set(name, r)
        r.online() // sends nothing unless open
      }
      return r.room
    },
    close,
  }
  void open()
  return client
}
