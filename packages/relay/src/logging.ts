import type { Server } from '@hapi/hapi'
import hapiPino from 'hapi-pino'
import { type Logger, pino } from 'pino'
import type { RelayConfig } from './config'

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
  await server.register({ plugin: hapiPino, options: { instance: logger, ignorePaths: QUIET_PATHS } })
  return server.logger
}
