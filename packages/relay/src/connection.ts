import { randomBytes } from 'node:crypto'
import { CLOSE, type PublishFrame, type RelayFrame, SUBPROTOCOL } from '@confab/sdk/protocol'
import WebSocket from 'ws'
import { decodeFrame } from './decoder'
import { asClientError, ClientError, type ErrorContext, errorFrame, isExpected } from './errors'
import { TokenBucket } from './limits'
import { Pipeline, type Turn } from './pipeline'
import { type ConnectionContext, Session } from './session'
import { type SharedFrame, writeShared, writeText } from './writer'
import { releaseReadBuffers } from './ws-internals'

export type { ConnectionContext } from './session'

/** What the gateway learns from its connections. */
export interface ConnectionHooks {
  /** The relay began closing the socket: it gets a short grace for the close handshake, then is dropped. */
  closing(connection: Connection): void
  /** The socket has closed (called once). */
  closed(connection: Connection, code: number): void
}

/** What a connection has from its gateway: the shared context, and the gateway's hooks. */
export interface GatewayContext extends ConnectionContext {
  hooks: ConnectionHooks
}

/** Frames waiting for their turn before the socket stops reading (TCP backpressure does the rest). */
const MAX_INBOX = 32
/** Publishes of one connection in flight at once (see pipeline.ts); further frames wait in the inbox. */
export const MAX_IN_FLIGHT = 32
/** Longest frame that may be a ping answered ahead of the queue (a ping with a 64-character ref is far shorter). */
const MAX_PING = 256
/** Close code for a `hello` refused as malformed (say, a name over 1,000 characters): 4000-4099, do not reconnect unchanged. */
export const BAD_HELLO = 4000

/** Hands one socket event to its connection; false for events it does not take. Set in `Connection`'s static block. */
let dispatch: (connection: Connection, event: string | symbol, args: unknown[]) => boolean

/**
 * The relay's WebSocket (ws's `WebSocketServer` option `WebSocket`): its
 * `message`, `pong`, `error` and `close` events go from `emit` straight to its
 * connection. Listeners for them would cost every socket about 100 bytes of
 * listener table; other listeners, if any, are still called.
 */
export class RelaySocket extends WebSocket {
  /** Set once the relay accepts the socket. */
  connection: Connection | null = null

  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter's emit, which this overrides
  override emit(event: string | symbol, ...args: any[]): boolean {
    const { connection } = this
    // Handled, and nobody else listening: an `error` without listeners must not reach EventEmitter, which throws.
    if (connection !== null && dispatch(connection, event, args) && this.listenerCount(event) === 0) return true
    return super.emit(event, ...args)
  }
}

/** Session ids: a random prefix per process and a counter, built only when read (`welcome`, logs). */
const SESSION_PREFIX = randomBytes(6).toString('base64url')
let sessions = 0

/**
 * One client socket: frames read in arrival order, its writes with their
 * send-queue bound, its mistakes, and closing. Publishes are pipelined (up to
 * `MAX_IN_FLIGHT`: the next one's store append is issued before the previous
 * one's round trip ends) yet stored, acked and refused in the order sent;
 * any other frame waits until the publishes before it are done, so it sees
 * them. What the frames mean (hello, rooms, limits) is its base class
 * `Session`'s.
 * Closing leaves every room.
 */
export class Connection extends Session {
  /** Set by the heartbeat: false once pinged, true again on any sign of life. */
  alive = true
  readonly #serial = ++sessions
  readonly #ws: RelaySocket
  declare protected readonly ctx: GatewayContext
  // Created when first needed: an idle socket should cost little more than the WebSocket itself.
  #inbox: string[] | null = null
  #busy = false
  #pipeline: Pipeline | null = null
  #errors: TokenBucket | null = null
  #whenClosed: { promise: Promise<void>; resolve: () => void } | null = null

  constructor(ws: RelaySocket, ctx: GatewayContext) {
    super(ctx)
    ws.connection = this
    this.#ws = ws
  }

  static {
    dispatch = (connection, event, args) => {
      switch (event) {
        case 'message':
          connection.#receive(args[0] as WebSocket.RawData, args[1] as boolean)
          releaseReadBuffers(connection.#ws)
          return true
        case 'pong':
          connection.alive = true
          return true
        case 'error':
          connection.ctx.logger.debug({ err: args[0], session: connection.session }, 'socket error')
          return true
        case 'close':
          connection.#closed()
          connection.ctx.hooks.closed(connection, args[0] as number)
          connection.#whenClosed?.resolve()
          return true
        default:
          return false
      }
    }
  }

  /** Id for logs and support, sent in `welcome`. */
  get session(): string {
    return `${SESSION_PREFIX}-${this.#serial.toString(36)}`
  }

  /** Settles when the socket has closed. */
  get whenClosed(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    if (this.#whenClosed === null) {
      let resolve = () => {}
      const promise = new Promise<void>((done) => {
        resolve = done
      })
      this.#whenClosed = { promise, resolve }
    }
    return this.#whenClosed.promise
  }

  /** True once the socket has fully closed. */
  get gone(): boolean {
    return this.#ws.readyState === WebSocket.CLOSED
  }

  /** Bytes queued to this socket and not yet written. */
  get queued(): number {
    return this.#ws.bufferedAmount
  }

  /** Sends a ws-level ping (the heartbeat). */
  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping()
  }

  /** Writes one serialized frame, unless the socket is closing; a full send queue cuts the socket with 4100. */
  send(data: string): void {
    if (this.#writable(Buffer.byteLength(data))) writeText(this.#ws, data)
  }

  /** Writes a frame shared by many recipients: the ready-made bytes, no allocation here. */
  deliver(frame: SharedFrame): void {
    if (this.#writable(frame.size)) writeShared(this.#ws, frame)
  }

  /**
   * Open, and room in its send queue for `bytes` more; a socket whose queue
   * would pass the bound is cut here. An empty queue takes any one frame:
   * pages are built within half the bound, so only a relay configured for
   * huge messages sends a frame larger than the bound.
   */
  #writable(bytes: number): boolean {
    const ws = this.#ws
    if (this.state === 'closed' || ws.readyState !== WebSocket.OPEN) return false
    const queued = ws.bufferedAmount
    if (queued > 0 && queued + bytes > this.ctx.config.limits.maxBufferedBytes) {
      this.ctx.metrics.sendQueueDrops.inc()
      this.close(CLOSE.SLOW_CONSUMER, 'send queue full')
      return false
    }
    return true
  }

  /** The room's history moved: reconnect at once and resume. */
  resync(): void {
    this.close(CLOSE.RESYNC, 'resync required')
  }

  /** The hello deadline passed: close unless `hello` succeeded by now. */
  helloDue(): void {
    const { state } = this
    if (state === 'hello' || state === 'authenticating') this.close(CLOSE.HELLO_TIMEOUT, 'no hello in time')
  }

  /**
   * Closes the socket with a code from the protocol; rooms are left at once.
   * The close frame waits behind whatever is queued, so the gateway drops the
   * socket if the handshake does not finish within a short grace.
   */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.ctx.metrics.closes.inc({ code: String(code) })
    this.ctx.logger.debug({ session: this.session, code, reason }, 'closing socket')
    this.#closed()
    this.#ws.close(code, reason)
    this.ctx.hooks.closing(this)
  }

  /** Drops the socket without a close handshake (dead peer, or a close that did not finish in time). */
  terminate(): void {
    this.#closed()
    this.#ws.terminate()
  }

  /** Writes one relay frame to this client. */
  reply(frame: RelayFrame): void {
    this.send(JSON.stringify(frame))
  }

  /** Answers a refusal with an `error` frame. */
  refuse(error: ClientError, context: ErrorContext = {}): void {
    this.ctx.metrics.error(error.code)
    this.reply(errorFrame(error, context))
  }

  /** A client mistake: answered, and counted towards closing with 4009. */
  mistake(error: ClientError, context: ErrorContext = {}): void {
    this.refuse(error, context)
    // A bad frame now and then is a bug in a client; a steady stream is abuse.
    this.#errors ??= new TokenBucket(1, this.ctx.config.limits.maxErrors)
    if (this.#errors.take() > 0) this.close(CLOSE.TOO_MANY_ERRORS, 'too many bad frames')
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    this.alive = true
    const { state } = this
    if (state === 'closed') return
    if (isBinary) {
      this.mistake(new ClientError('bad_request', 'binary frames are not supported'))
      return
    }
    const text = data.toString()
    // A ping is the client's liveness probe: answered here, ahead of frames still waiting behind a
    // slow store, so a healthy link is never taken for dead. It has no side effects to order.
    if (state === 'open' && text.length <= MAX_PING && text.includes('"ping"') && this.#pong(text)) return
    if (!this.#busy) {
      void this.#drain(text)
      return
    }
    this.#inbox ??= []
    this.#inbox.push(text)
    if (this.#inbox.length >= MAX_INBOX) this.#ws.pause()
  }

  /** Answers `text` at once when it is a valid ping; false when it is anything else. */
  #pong(text: string): boolean {
    const { limits } = this.ctx.config
    const decoded = decodeFrame(text, { maxDepth: limits.maxDepth, maxText: limits.maxText })
    if (!decoded.ok || decoded.frame.type !== 'ping') return false
    const { ref } = decoded.frame
    this.reply(ref === undefined ? { type: 'pong' } : { type: 'pong', ref })
    return true
  }

  /** Handles `first`, then whatever queued up meanwhile, one frame at a time. */
  async #drain(first: string): Promise<void> {
    this.#busy = true
    try {
      for (let text: string | undefined = first; text !== undefined; text = this.#inbox?.shift()) {
        if (this.state === 'closed') break
        if (this.#ws.isPaused && (this.#inbox?.length ?? 0) < MAX_INBOX / 2) this.#ws.resume()
        await this.#handle(text)
      }
      // An empty array still holds its grown backing store: drop it between bursts.
      this.#inbox = null
      if (this.#pipeline?.size === 0) this.#pipeline = null
    } catch (error) {
      this.#failed(error)
    } finally {
      this.#busy = false
    }
  }

  /** #handle and #publish answer every client mistake themselves; reaching here is a relay bug. */
  #failed(error: unknown): void {
    this.ctx.logger.error({ err: error, session: this.session }, 'connection failed')
    this.close(1011, 'internal error')
  }

  async #handle(text: string): Promise<void> {
    const { limits } = this.ctx.config
    const decoded = decodeFrame(text, { maxDepth: limits.maxDepth, maxText: limits.maxText })
    if (decoded.ok && decoded.frame.type === 'publish') {
      if (this.state === 'open') return this.#pipelined(decoded.frame)
    } else if (this.#pipeline !== null) {
      // Answers go out in the order frames came, and a join or history after publishes must see them.
      await this.#pipeline.drained()
      if (this.state === 'closed') return
    }
    if (!decoded.ok) {
      if (decoded.hello && this.state === 'hello') {
        // Nothing can follow a refused hello, and a client that resends it unchanged would only be refused again.
        this.refuse(decoded.error)
        this.close(BAD_HELLO, decoded.error.code)
        return
      }
      // What is wrong with a second hello matters less than that there is one.
      if (decoded.hello) {
        this.mistake(new ClientError('bad_request', 'hello was already sent'))
        return
      }
      this.mistake(decoded.error, { ref: decoded.ref, room: decoded.room })
      return
    }
    const { frame } = decoded
    const context: ErrorContext = { ref: 'ref' in frame ? frame.ref : undefined }
    if ('room' in frame) context.room = frame.room
    if (this.state !== 'open' && frame.type !== 'hello') {
      this.mistake(new ClientError('bad_request', 'send hello first'), context)
      return
    }
    try {
      await this.handle(frame)
    } catch (error) {
      this.#refused(error, context)
    }
  }

  /** Starts a publish once the pipeline has room; does not wait for it. */
  async #pipelined(frame: PublishFrame): Promise<void> {
    this.#pipeline ??= new Pipeline(MAX_IN_FLIGHT)
    const pipeline = this.#pipeline
    await pipeline.room()
    if (this.state === 'closed') return
    const context: ErrorContext = { ref: frame.ref, room: frame.room }
    this.#publish(frame, context, pipeline.next(), pipeline).catch((error: unknown) => this.#failed(error))
  }

  /** One publish in the pipeline: refused, like acked, in its turn. */
  async #publish(frame: PublishFrame, context: ErrorContext, turn: Turn, pipeline: Pipeline): Promise<void> {
    try {
      await this.handle(frame, turn)
    } catch (error) {
      await turn.answer(() => this.#refused(error, context))
    } finally {
      pipeline.finished(turn)
    }
  }

  #refused(error: unknown, context: ErrorContext): void {
    if (!isExpected(error)) this.ctx.logger.error({ err: error, session: this.session }, 'frame failed')
    this.refuse(asClientError(error), context)
  }

  /** Leaves every room once; runs on the first close, from either side. */
  #closed(): void {
    if (this.end()) this.#inbox = null
  }
}

/** Picks `confab.v1` from the subprotocols a client offers. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false
}
