import { backoff, type ReconnectOptions } from './backoff.js'
import { isOffline, watchBrowser } from './browser.js'
import { DEFAULTS } from './defaults.js'
import { ConfabError, type ConfabErrorCode } from './errors.js'
import { createLiveness } from './liveness.js'
import { CLOSE, type ClientFrame, type CloseAction, closeAction, type RelayFrame, SUBPROTOCOL } from './protocol.js'

/** Where the connection stands. `closed` is final: make a new client to connect again. */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed'

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

/** The options of `connect` the connection uses. Internal. */
export interface ConnectionOptions {
  token?: string | (() => string | Promise<string>)
  name?: string
  key?: string
  /** Milliseconds of silence before the link counts as dead; undefined: the relay's, from `welcome`. */
  heartbeat?: number
  /** `false` never reconnects; otherwise backoff settings over {@link DEFAULTS}. */
  reconnect?: false | ReconnectOptions
}

/** What the connection tells the client. Internal. */
export interface ConnectionHooks {
  /** A frame from the current socket. A `welcome` comes here before the status turns `open`. */
  frame(frame: RelayFrame): void
  /** The status changed (in {@link Connection}'s one `setStatus`). */
  status(next: Status, previous: Status): void
  /** The socket is gone: nothing on it will be answered, every room is unjoined. */
  down(): void
  /** A failure nothing else reports (a refused token, a close for good). */
  error(error: ConfabError): void
  /** The `resume` string to send in `hello`: the guest identity to keep. */
  resume(): string | undefined
}

/** One socket at a time to one relay, replaced after every drop until closed. Internal. */
export interface Connection {
  readonly status: Status
  /** Sends a frame once the session is open (after `welcome`); false when it is not. */
  send(frame: ClientFrame): boolean
  /** The link may be dead (an ack is late): ping now and drop it unless a frame comes within `within` ms. */
  probe(within: number): void
  /** Closes for good. */
  close(): void
}

const OPEN = 1

/** What the SDK says when the relay closes the connection with a code it does not retry. */
function stopCode(code: number): ConfabErrorCode {
  if (code === CLOSE.UNAUTHORIZED) return 'unauthorized'
  if (code === CLOSE.FORBIDDEN || code === CLOSE.POLICY) return 'forbidden'
  if (code === CLOSE.TOO_LARGE) return 'too_large'
  if (code === CLOSE.TOO_MANY_ERRORS) return 'bad_request'
  return 'closed'
}

/**
 * Opens a socket to `url` at once and keeps one open: reconnects with backoff after a drop, ignores the late
 * callbacks of replaced sockets (a generation counter), watches liveness and the browser's wake-ups.
 */
export function createConnection(
  WS: SocketConstructor,
  url: string,
  o: ConnectionOptions,
  hooks: ConnectionHooks,
): Connection {
  const { token } = o
  const retry = o.reconnect === false ? undefined : { ...DEFAULTS.reconnect, ...o.reconnect }
  const report = (code: ConfabErrorCode, message: string): void => hooks.error(new ConfabError(code, message))
  let status: Status = 'connecting'
  let socket: Socket | undefined
  let generation = 0
  let attempt = 0
  let authRetried = false
  let offline = false
  let heartbeat = o.heartbeat ?? DEFAULTS.heartbeat
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stableTimer: ReturnType<typeof setTimeout> | undefined

  /** The one place the status changes. */
  const setStatus = (next: Status): void => {
    const previous = status
    if (previous === next) return
    status = next
    hooks.status(next, previous)
  }

  const send = (frame: ClientFrame): boolean => {
    if (status !== 'open' || socket?.readyState !== OPEN) return false
    socket.send(JSON.stringify(frame))
    return true
  }

  const live = createLiveness(
    () => send({ type: 'ping' }),
    () => drop('backoff'),
  )

  const onFrame = (f: RelayFrame): void => {
    live.touch()
    if (f.type !== 'welcome') {
      hooks.frame(f)
      return
    }
    authRetried = false
    heartbeat = o.heartbeat ?? f.heartbeat
    live.start(heartbeat)
    stableTimer = setTimeout(() => {
      attempt = 0
    }, DEFAULTS.stableAfter)
    // The client takes the user and limits first: a status listener may send at once.
    hooks.frame(f)
    setStatus('open')
  }

  /**
   * Forgets the socket: its late callbacks are ignored (generation) and its listeners removed;
   * what was on the wire waits for the next socket.
   */
  const discard = (): void => {
    generation++
    live.stop()
    clearTimeout(stableTimer)
    clearTimeout(retryTimer)
    hooks.down()
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
    const delay =
      action === 'soon' ? Math.random() * DEFAULTS.soon : action === 'now' && n === 0 ? 0 : backoff(n, retry)
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
      ws = new WS(url, SUBPROTOCOL) as Socket
    } catch (e) {
      // The environment refuses the URL (for instance ws: from an https page): retrying cannot help.
      report('bad_request', `cannot open a WebSocket to ${url}: ${e}`)
      return close()
    }
    socket = ws
    live.start(heartbeat)
    ws.onopen = () =>
      ws.send(
        JSON.stringify({
          type: 'hello',
          v: 1,
          token: secret,
          name: o.name,
          resume: hooks.resume(),
          key: o.key,
        } satisfies ClientFrame),
      )
    ws.onmessage = (event) => {
      if (mine !== generation) return
      let frame: RelayFrame
      try {
        frame = JSON.parse(String(event.data)) as RelayFrame
      } catch {
        return report('bad_request', 'the relay sent non-JSON')
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
      if (status === 'open') live.probe(DEFAULTS.probeWithin)
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
  }

  void open()
  return {
    get status() {
      return status
    },
    send,
    probe: live.probe,
    close,
  }
}
