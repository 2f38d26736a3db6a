import { randomUUID } from 'node:crypto'
import {
  type AckFrame,
  CLOSE,
  type ClientFrame,
  type HelloFrame,
  type HistoryFrame,
  type JoinFrame,
  type Limits,
  type Member,
  type PublishFrame,
  type RelayFrame,
  SUBPROTOCOL,
  type WelcomeFrame,
} from '@confab/sdk/protocol'
import type { Logger } from 'pino'
import WebSocket from 'ws'
import { type Authenticate, mayEnter } from './auth'
import type { AuthUser, RelayConfig } from './config'
import { asClientError, ClientError, type ErrorContext, errorFrame, isExpected } from './errors'
import { decodeFrame } from './frames'
import { TokenBucket } from './limits'
import type { Metrics } from './metrics'
import type { Rooms, Subscriber } from './rooms'

/** What every connection shares. */
export interface ConnectionContext {
  config: RelayConfig
  rooms: Rooms
  authenticate: Authenticate
  metrics: Metrics
  logger: Logger
  /** Announced in `welcome`. */
  limits: Limits
}

/** Frames waiting for their turn before the socket stops reading (TCP backpressure does the rest). */
const MAX_INBOX = 32
/** History page size when a `history` frame gives no limit. */
const DEFAULT_PAGE = 50

type State = 'hello' | 'authenticating' | 'open' | 'closed'

/** Send options for every frame: text opcode even for a Buffer. One object, not one per send. */
const TEXT = { binary: false } as const

/**
 * One client socket: the hello handshake, then frames handled one at a time
 * in arrival order (so a client's publishes are stored in the order sent),
 * with its limits, and its rooms. Closing leaves every room.
 */
export class Connection implements Subscriber {
  /** Id for logs and support, sent in `welcome`. */
  readonly session = randomUUID()
  /** Set by the heartbeat: false once pinged, true again on any sign of life. */
  alive = true
  /** Settles when the socket has closed. */
  readonly whenClosed: Promise<void>
  #user: AuthUser = { id: '', name: '' }
  #state: State = 'hello'
  readonly #ws: WebSocket
  readonly #ctx: ConnectionContext
  readonly #rooms = new Set<string>()
  readonly #inbox: string[] = []
  #busy = false
  readonly #publishes: TokenBucket
  readonly #errors: TokenBucket
  #refusedInARow = 0
  #helloTimer: NodeJS.Timeout | null

  constructor(ws: WebSocket, ctx: ConnectionContext) {
    this.#ws = ws
    this.#ctx = ctx
    const { limits } = ctx.config
    this.#publishes = new TokenBucket(limits.publishRate, limits.publishBurst)
    // A bad frame now and then is a bug in a client; a steady stream is abuse.
    this.#errors = new TokenBucket(1, limits.maxErrors)
    this.#helloTimer = setTimeout(() => this.close(CLOSE.HELLO_TIMEOUT, 'no hello in time'), limits.helloTimeout)
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary))
    ws.on('pong', () => {
      this.alive = true
    })
    ws.on('error', (error) => ctx.logger.debug({ err: error, session: this.session }, 'socket error'))
    this.whenClosed = new Promise((resolve) => {
      ws.once('close', () => {
        this.#closed()
        resolve()
      })
    })
  }

  /** Bytes queued to this socket and not yet written. */
  get queued(): number {
    return this.#ws.bufferedAmount
  }

  /** Sends a ws-level ping (the heartbeat). */
  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping()
  }

  /** The connection's user (empty until `hello` succeeds). */
  get user(): Member {
    return this.#user
  }

  /** Writes a serialized frame, unless the socket is closing; a full send queue cuts the socket with 4100. */
  send(data: string | Buffer): void {
    const ws = this.#ws
    if (ws.readyState !== WebSocket.OPEN || this.#state === 'closed') return
    if (ws.bufferedAmount > this.#ctx.config.limits.maxBufferedBytes) {
      this.#ctx.metrics.sendQueueDrops.inc()
      this.close(CLOSE.SLOW_CONSUMER, 'send queue full')
      return
    }
    // Bytes go out as a text frame: they are UTF-8 JSON, shared by every recipient.
    ws.send(data, TEXT)
  }

  /** The room's history moved: reconnect at once and resume. */
  resync(): void {
    this.close(CLOSE.RESYNC, 'resync required')
  }

  /** Closes the socket with a code from the protocol; rooms are left at once. */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#ctx.metrics.closes.inc({ code: String(code) })
    this.#ctx.logger.debug({ session: this.session, code, reason }, 'closing socket')
    this.#closed()
    this.#ws.close(code, reason)
  }

  /** Drops a peer that stopped answering pings, without a close handshake. */
  terminate(): void {
    this.#closed()
    this.#ws.terminate()
  }

  #frame(frame: RelayFrame): void {
    this.send(JSON.stringify(frame))
  }

  #error(error: ClientError, context: ErrorContext = {}): void {
    this.#ctx.metrics.error(error.code)
    this.#frame(errorFrame(error, context))
  }

  /** A client mistake: answered, and counted towards closing with 4009. */
  #mistake(error: ClientError, context: ErrorContext = {}): void {
    this.#error(error, context)
    if (this.#errors.take() > 0) this.close(CLOSE.TOO_MANY_ERRORS, 'too many bad frames')
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    this.alive = true
    if (this.#state === 'closed') return
    if (isBinary) {
      this.#mistake(new ClientError('bad_request', 'binary frames are not supported'))
      return
    }
    this.#inbox.push(data.toString())
    if (this.#inbox.length >= MAX_INBOX) this.#ws.pause()
    if (!this.#busy) void this.#drain()
  }

  async #drain(): Promise<void> {
    this.#busy = true
    try {
      for (let text = this.#inbox.shift(); text !== undefined; text = this.#inbox.shift()) {
        if (this.#state === 'closed') break
        if (this.#ws.isPaused && this.#inbox.length < MAX_INBOX / 2) this.#ws.resume()
        await this.#handle(text)
      }
    } catch (error) {
      // #handle answers every client mistake itself; reaching here is a relay bug.
      this.#ctx.logger.error({ err: error, session: this.session }, 'connection failed')
      this.close(1011, 'internal error')
    } finally {
      this.#busy = false
    }
  }

  async #handle(text: string): Promise<void> {
    const { limits } = this.#ctx.config
    const decoded = decodeFrame(text, { maxDepth: limits.maxDepth, maxText: limits.maxText })
    if (!decoded.ok) {
      this.#mistake(decoded.error, { ref: decoded.ref, room: decoded.room })
      return
    }
    const { frame } = decoded
    const context: ErrorContext = { ref: 'ref' in frame ? frame.ref : undefined }
    if ('room' in frame) context.room = frame.room
    if (this.#state !== 'open' && frame.type !== 'hello') {
      this.#mistake(new ClientError('bad_request', 'send hello first'), context)
      return
    }
    try {
      await this.#dispatch(frame)
    } catch (error) {
      if (!isExpected(error)) this.#ctx.logger.error({ err: error, session: this.session }, 'frame failed')
      this.#error(asClientError(error), context)
    }
  }

  async #dispatch(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'hello':
        return this.#hello(frame)
      case 'join':
        return this.#join(frame)
      case 'leave':
        this.#rooms.delete(frame.room)
        this.#ctx.rooms.leave(this, frame.room)
        this.#frame(
          frame.ref === undefined
            ? { type: 'left', room: frame.room }
            : { type: 'left', ref: frame.ref, room: frame.room },
        )
        return
      case 'publish':
        return this.#publish(frame)
      case 'typing':
        if (!this.#ctx.rooms.typing(this, frame.room, frame.active !== false)) {
          throw new ClientError('bad_request', 'join the room first')
        }
        return
      case 'history':
        return this.#history(frame)
      case 'ping':
        this.#frame(frame.ref === undefined ? { type: 'pong' } : { type: 'pong', ref: frame.ref })
        return
    }
  }

  async #hello(frame: HelloFrame): Promise<void> {
    if (this.#state !== 'hello') {
      this.#mistake(new ClientError('bad_request', 'hello was already sent'))
      return
    }
    this.#state = 'authenticating'
    let identity: Awaited<ReturnType<Authenticate>>
    try {
      identity = await this.#ctx.authenticate(frame)
    } catch (error) {
      if (!isExpected(error)) this.#ctx.logger.error({ err: error, session: this.session }, 'authentication failed')
      const refusal = error instanceof ClientError ? error : new ClientError('unauthorized', 'authentication failed')
      this.#error(refusal)
      this.close(CLOSE.UNAUTHORIZED, refusal.code)
      return
    }
    // The socket may have closed while the token was being checked.
    if ((this.#state as State) === 'closed') return
    if (this.#helloTimer) clearTimeout(this.#helloTimer)
    this.#helloTimer = null
    this.#user = identity.user
    this.#state = 'open'
    const welcome: WelcomeFrame = {
      type: 'welcome',
      v: 1,
      session: this.session,
      user: { id: identity.user.id, name: identity.user.name },
      heartbeat: this.#ctx.config.heartbeat,
      limits: this.#ctx.limits,
    }
    if (identity.resume !== undefined) welcome.resume = identity.resume
    this.#frame(welcome)
    this.#ctx.logger.debug({ session: this.session, user: identity.user.id }, 'hello')
  }

  async #join(frame: JoinFrame): Promise<void> {
    if (!mayEnter(this.#user, frame.room)) throw new ClientError('forbidden', 'not allowed in this room')
    if (this.#rooms.has(frame.room)) throw new ClientError('bad_request', 'already in this room')
    if (this.#rooms.size >= this.#ctx.config.limits.maxRooms) {
      throw new ClientError('limit_exceeded', `at most ${this.#ctx.config.limits.maxRooms} rooms per connection`)
    }
    this.#rooms.add(frame.room)
    try {
      await this.#ctx.rooms.join(this, frame.room, { ref: frame.ref, since: frame.since, history: frame.history })
    } catch (error) {
      this.#rooms.delete(frame.room)
      throw error
    }
    // Closed while joining: the registry must not keep a dead subscriber.
    if (this.#state === 'closed') this.#ctx.rooms.leave(this, frame.room)
  }

  async #publish(frame: PublishFrame): Promise<void> {
    if (!this.#rooms.has(frame.room)) throw new ClientError('bad_request', 'join the room first')
    const wait = this.#publishes.take()
    if (wait > 0) {
      if (++this.#refusedInARow >= this.#ctx.config.limits.rateAbuse) {
        this.close(CLOSE.RATE_ABUSE, 'publishing too fast')
        return
      }
      throw new ClientError('rate_limited', 'publishing too fast', wait)
    }
    this.#refusedInARow = 0
    const from: Member = { id: this.#user.id, name: this.#user.name }
    await this.#ctx.rooms.publish(
      { room: frame.room, id: frame.id, from, text: frame.text, meta: frame.meta },
      ({ message }) => {
        const ack: AckFrame = {
          type: 'ack',
          ref: frame.ref,
          room: message.room,
          id: message.id,
          offset: message.offset,
          ts: message.ts,
        }
        this.#frame(ack)
      },
    )
  }

  async #history(frame: HistoryFrame): Promise<void> {
    if (!mayEnter(this.#user, frame.room)) throw new ClientError('forbidden', 'not allowed in this room')
    const page = await this.#ctx.rooms.history(frame.room, frame.before, frame.limit ?? DEFAULT_PAGE)
    this.#frame({ type: 'history', ref: frame.ref, room: frame.room, ...page })
  }

  /** Leaves every room once; runs on the first close, from either side. */
  #closed(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    if (this.#helloTimer) clearTimeout(this.#helloTimer)
    this.#helloTimer = null
    this.#inbox.length = 0
    for (const room of this.#rooms) this.#ctx.rooms.leave(this, room)
    this.#rooms.clear()
  }
}

/** Picks `confab.v1` from the subprotocols a client offers. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false
}
