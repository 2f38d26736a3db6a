import type { Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import type { Server } from '@hapi/hapi'
import hapiPino from 'hapi-pino'
import { type Logger, pino } from 'pino'
import type { RelayConfig } from './config'
import { TokenBucket } from './limits'

/** Paths whose values are replaced by "[Redacted]": tokens and keys never reach a log. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  // The raw bytes of a request that failed to parse hold its headers, Authorization and Cookie included.
  'err.rawPacket',
  '*.err.rawPacket',
]

/** Probes answered many times a minute: not worth a log line each. */
const QUIET_PATHS = ['/healthz', '/readyz', '/metrics']

/**
 * The relay's logger: the host app's hapi-pino logger when it has one,
 * otherwise hapi-pino registered here (JSON lines on stdout), or a silent
 * logger with `logger: false`.
 */
export async function setupLogging(server: Server, config: RelayConfig): Promise<Logger> {
  if (config.logger === false) return pino({ enabled: false })
  if (server.decorations.server.includes('logger')) return server.logger
  const options = { level: config.logger.level, redact: REDACT }
  const logger = config.logger.stream === undefined ? pino(options) : pino(options, config.logger.stream)
  await server.register({
    plugin: hapiPino,
    // hapi logs a request that fails to parse at error level; `watchClientErrors` logs it instead, lower and less often.
    options: {
      instance: logger,
      ignorePaths: QUIET_PATHS,
      // hapi-pino reads `{ log, request }` here; its type declaration says object[].
      ignoredEventTags: { log: ['client'] } as unknown as object[],
    },
  })
  return server.logger
}

/** How long a connection answered for a parse error may stay open before it is destroyed, in ms. */
const CLIENT_ERROR_GRACE = 1000 // 1 second

/**
 * Requests that fail to parse (malformed, oversized headers, too slow) are
 * the client's mistake: logged at info, at most one line a second (burst 5)
 * with the count of lines left out, and never with their raw bytes, which
 * hold the request's Authorization and Cookie headers. Runs before hapi's
 * own handler, so that one (and a host app's logger) sees no raw bytes
 * either. Such a connection is destroyed after a short grace, so a client
 * that never closes its side cannot keep it half-open.
 */
export function watchClientErrors(listener: HttpServer, logger: Logger): void {
  const bucket = new TokenBucket(1, 5)
  let omitted = 0
  listener.prependListener('clientError', (error: Error & { rawPacket?: unknown; code?: string }, socket: Socket) => {
    delete error.rawPacket
    const timer = setTimeout(() => socket.destroy(), CLIENT_ERROR_GRACE)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
    if (bucket.take() > 0) {
      omitted++
      return
    }
    logger.info({ code: error.code, address: socket.remoteAddress, omitted }, 'bad request from client')
    omitted = 0
  })
}
