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
  const server = new Server({ port: config.port, host: config.host, routes: { security: true } })
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
