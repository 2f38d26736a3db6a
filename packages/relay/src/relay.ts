import { createServer, type IncomingMessage } from 'node:http'
import { Server } from '@hapi/hapi'
import { type RelayOptions, resolveConfig } from './config'
import { confab } from './plugin'

/** A standalone relay: a hapi server with the `confab` plugin. */
export interface Relay {
  /** The hapi server, for adding routes or inspecting. */
  readonly server: Server
  /** `http://HOST:PORT` once started (the real port when 0 was asked). */
  readonly url: string
  /** Starts listening. */
  start(): Promise<void>
  /** Drains (every socket closed with 1012), stops listening, closes storage. */
  stop(): Promise<void>
}

/**
 * Builds a relay with its own hapi server; a thin wrapper over the `confab`
 * plugin. Options are validated here: a bad one rejects with `ConfigError`.
 */
export async function createRelay(options: RelayOptions = {}): Promise<Relay> {
  const config = resolveConfig(options)
  const { headersTimeout, requestTimeout, keepAliveTimeout } = config.limits
  // Deadlines of a few seconds, checked every second: node's defaults (60 s for headers, 300 s for a request,
  // checked every 30 s) let idle or trickling connections hold a file descriptor for minutes.
  const listener = createServer({
    headersTimeout,
    requestTimeout,
    keepAliveTimeout,
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  })
  // A connection that sends nothing at all is cut by the idle timeout (ws clears it on upgrade). Once a request
  // has arrived, a slow handler is not the client's fault: the timeout is off until node's keep-alive one.
  listener.timeout = headersTimeout
  listener.on('request', (request: IncomingMessage) => request.socket.setTimeout(0))
  const server = new Server({ port: config.port, host: config.host, listener, routes: { security: true } })
  await server.register({ plugin: confab, options })
  return {
    server,
    get url() {
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
      const bracketed = host.includes(':') ? `[${host}]` : host
      return `http://${bracketed}:${server.info.port}`
    },
    async start() {
      await server.start()
    },
    async stop() {
      // hapi's own timeout covers the HTTP side; the plugin bounds the WebSocket drain.
      await server.stop({ timeout: config.shutdownTimeout })
    },
  }
}
