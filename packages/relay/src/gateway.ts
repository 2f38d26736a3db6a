import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { CLOSE, SUBPROTOCOL } from '@confab/sdk/protocol'
import { WebSocketServer, type Server as WsServer } from 'ws'
import { ClientAddress } from './address'
import {
  Connection,
  type ConnectionContext,
  type ConnectionHooks,
  type GatewayContext,
  RelaySocket,
  selectProtocol,
} from './connection'
import { Deadlines } from './deadlines'
import { AddressCounter, defaultMaxSockets, SocketGate } from './limits'
import { originAllowed } from './origin'
import { compactCloseListeners, forgetIdleTimer } from './socket-internals'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/**
 * How long a socket the relay closed may take to finish the close handshake
 * before it is dropped, in ms. ws's own wait is 30 s; a reader cut for a full
 * send queue would keep its megabyte queued all that time.
 */
export const CLOSE_GRACE = 2000 // 2 seconds

/**
 * The path of a request target, without its query: plain string work, because
 * the target is whatever an unauthenticated client wrote (`//[` makes
 * `new URL` throw, and a throw in an `upgrade` listener ends the process).
 * An absolute-form target (`http://host/ws`) is not a path and gets 404.
 */
export function pathOf(target: string | undefined): string {
  if (target === undefined) return '/'
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

/** Refuses an upgrade with a plain HTTP answer; no WebSocket is created. */
function refuse(socket: Duplex, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/**
 * The WebSocket endpoint: admits each TCP connection of the server (per
 * address and in total, before HTTP reads it), checks each upgrade (path,
 * draining, origin, subprotocol, WebSockets per forwarded address behind a
 * trusted proxy) before any WebSocket exists, owns the open connections,
 * pings them, and drains them on shutdown.
 */
export class Gateway {
  /** The relay's context, with this gateway's hooks: what every connection holds. */
  readonly #ctx: GatewayContext
  readonly #wss: WsServer<typeof RelaySocket>
  readonly #connections = new Set<Connection>()
  readonly #perAddress: AddressCounter
  readonly #addresses: ClientAddress
  readonly #sockets: SocketGate
  /** WebSockets through a trusted proxy, with the forwarded address each is counted under while open. */
  readonly #proxied = new Map<Connection, string>()
  #heartbeat: NodeJS.Timeout | null = null
  #draining = false
  #listener: HttpServer | null = null
  /** Sockets that have not said hello yet, oldest first: one timer for all. */
  readonly #hellos: Deadlines<Connection>
  /** Sockets the relay is closing, oldest first: dropped if still open after the grace. */
  readonly #closing: Deadlines<Connection>
  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(request, socket, head)

  constructor(ctx: ConnectionContext) {
    const { limits } = ctx.config
    this.#perAddress = new AddressCounter(limits.connectionsPerIp)
    this.#addresses = new ClientAddress(ctx.config.trustProxy)
    const total = limits.maxSockets === 0 ? defaultMaxSockets() : limits.maxSockets
    this.#sockets = new SocketGate(this.#perAddress, total, (address) => this.#addresses.trusts(address))
    this.#hellos = new Deadlines(limits.helloTimeout, (connection) => connection.helloDue())
    this.#closing = new Deadlines(CLOSE_GRACE, (connection) => {
      if (!connection.gone) connection.terminate()
    })
    const hooks: ConnectionHooks = {
      closing: (connection) => this.#closing.add(connection),
      closed: (connection, code) => {
        this.#connections.delete(connection)
        const forwarded = this.#proxied.get(connection)
        if (forwarded !== undefined) {
          this.#proxied.delete(connection)
          this.#perAddress.release(forwarded)
        }
        ctx.metrics.connections.set(this.#connections.size)
        ctx.logger.debug({ session: connection.session, code }, 'socket closed')
      },
    }
    this.#ctx = { ...ctx, hooks }
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: limits.maxPayload,
      perMessageDeflate: false,
      handleProtocols: selectProtocol,
      WebSocket: RelaySocket,
    })
    ctx.metrics.measureQueue(() => {
      let bytes = 0
      for (const connection of this.#connections) bytes += connection.queued
      return bytes
    })
  }

  /** True once draining began: `/readyz` answers 503 and upgrades are refused. */
  get draining(): boolean {
    return this.#draining
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size
  }

  /** Closes every connection of `user` on this node, in rooms or not (a relay-wide ban). */
  kick(user: string, code: number, reason: string): void {
    for (const connection of this.#connections) if (connection.user.id === user) connection.close(code, reason)
  }

  /** Open TCP connections admitted, HTTP and WebSocket. */
  get sockets(): number {
    return this.#sockets.open
  }

  /** Admits the TCP connections and takes the upgrades of an HTTP server, and starts the heartbeat. */
  attach(listener: HttpServer): void {
    this.#listener = listener
    this.#sockets.guard(listener)
    listener.on('upgrade', this.#onUpgrade)
    this.#heartbeat = setInterval(() => this.#beat(), this.#ctx.config.heartbeat)
    this.#heartbeat.unref()
  }

  /**
   * Stops taking upgrades, closes every socket with 1012 so clients reconnect
   * elsewhere and resume, and waits up to `timeout` ms before cutting the rest.
   */
  async drain(timeout: number): Promise<void> {
    this.#draining = true
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    this.#hellos.stop()
    const open = [...this.#connections]
    const closed = open.map((connection) => connection.whenClosed)
    for (const connection of open) connection.close(CLOSE.RESTART, 'relay restarting')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeout)
      }),
    ])
    clearTimeout(timer)
    for (const connection of this.#connections) connection.terminate()
    this.#closing.stop()
    this.#listener?.off('upgrade', this.#onUpgrade)
  }

  /** Why an upgrade on our path must be refused, as an HTTP status and body; null to accept. */
  #refusal(request: IncomingMessage): [status: number, body: string] | null {
    const { config, logger } = this.#ctx
    if (this.#draining) return [503, 'relay is restarting']
    if (!originAllowed(config.origins, request.headers.origin)) {
      logger.info({ origin: request.headers.origin }, 'origin refused')
      return [403, 'origin not allowed']
    }
    const offered = request.headers['sec-websocket-protocol']
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === SUBPROTOCOL)) {
      return [400, `subprotocol ${SUBPROTOCOL} required`]
    }
    return null
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = pathOf(request.url)
    if (path !== this.#ctx.config.path) {
      // Another upgrade handler of the host app may own this path.
      if ((this.#listener?.listenerCount('upgrade') ?? 1) <= 1) refuse(socket, 404, 'not found')
      return
    }
    const refusal = this.#refusal(request)
    if (refusal !== null) {
      refuse(socket, ...refusal)
      return
    }
    // A direct peer was counted when its TCP connection was admitted; through a trusted proxy, count the client now.
    const address = this.#addresses.of(request)
    const proxied = this.#addresses.trusts(request.socket.remoteAddress)
    if (proxied && !this.#perAddress.acquire(address)) {
      refuse(socket, 429, 'too many connections from this address')
      return
    }

    // Over the cap the socket is still opened, so that a browser sees 1013 and retries after a short random delay.
    const { maxConnections } = this.#ctx.config.limits
    const overloaded = maxConnections > 0 && this.#connections.size >= maxConnections
    let accepted: Connection | null = null
    // Without verifyClient, ws completes the upgrade (or refuses it) before handleUpgrade returns.
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      accepted = new Connection(ws, this.#ctx)
    })
    const connection = accepted as Connection | null
    if (connection === null) {
      // Refused by ws (bad handshake, or the client already hung up): nothing holds the address.
      if (proxied) this.#perAddress.release(address)
      return
    }
    // ws turned the socket's idle timeout off; the cleared timer would otherwise stay on it for its whole life.
    forgetIdleTimer(socket)
    compactCloseListeners(socket)
    if (proxied) this.#proxied.set(connection, address)
    // From here the connection's close releases the address; `request` is not kept.
    this.#connections.add(connection)
    this.#ctx.metrics.connections.set(this.#connections.size)
    if (this.#draining) connection.close(CLOSE.RESTART, 'relay restarting')
    else if (overloaded) connection.close(CLOSE.TRY_AGAIN, 'relay overloaded')
    else this.#hellos.add(connection)
  }

  /** One timer for every socket: a peer that did not answer the last ping is dropped. */
  #beat(): void {
    for (const connection of this.#connections) {
      if (!connection.alive) {
        this.#ctx.logger.debug({ session: connection.session }, 'heartbeat missed')
        connection.terminate()
        continue
      }
      connection.alive = false
      connection.ping()
    }
  }
}
