import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import type { ErrorCode, Member } from '@confab/sdk/protocol'
import type { Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi'
import { cleanName } from './auth'
import { checkRoom, checkText, isObject, MAX_ID } from './decoder'
import { asClientError, ClientError, isExpected } from './errors'
import type { Metrics } from './metrics'
import type { Rooms } from './rooms'

/** HTTP status for each error code of the HTTP API. */
const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  limit_exceeded: 429,
  unavailable: 503,
  internal: 500,
}

/** Who a message posted through the API is from when the body names nobody. */
const SYSTEM: Member = { id: 'system', name: 'System' }

/** What the API routes need. */
export interface ApiOptions {
  rooms: Rooms
  metrics: Metrics
  /** Required as `Authorization: Bearer KEY` when set. */
  apiKey: string | undefined
  maxText: number
  maxName: number
  historyLimit: number
  logger: { error(object: object, message: string): void }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function queryInt(value: unknown, field: string): number | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new ClientError('bad_request', `${field} must be a non-negative integer`)
  }
  return Number(value)
}

function sender(value: unknown, maxName: number): Member {
  if (value === undefined) return SYSTEM
  if (!isObject(value) || typeof value.id !== 'string' || value.id === '' || value.id.length > MAX_ID) {
    throw new ClientError('bad_request', 'from must be { id, name } with an id of 1 to 64 characters')
  }
  const name = cleanName(typeof value.name === 'string' ? value.name : value.id, maxName)
  return { id: value.id, name: name || value.id }
}

/** Why the API is off when clients need a token and no API key is set; logged once at start and answered to every /v1 request. */
export const API_CLOSED = 'the HTTP API is off: clients need a token but no API key is set (apiKey, CONFAB_API_KEY)'

/** The JSON error answer of the API, with the status of its code. */
function failure(h: ResponseToolkit, metrics: Metrics, refusal: ClientError): ResponseObject {
  metrics.error(refusal.code)
  const body: Record<string, unknown> = { code: refusal.code, message: refusal.message }
  if (refusal.retryAfter !== undefined) body.retryAfter = refusal.retryAfter
  return h.response(body).code(STATUS[refusal.code])
}

/**
 * Instead of the API when auth is configured without an API key: an open API
 * would let anyone post as any user the tokens protect. Every /v1 request gets
 * 404 `not_found` saying why.
 */
export function registerClosedApi(server: Server, metrics: Metrics): void {
  server.route({
    method: '*',
    path: '/v1/{rest*}',
    handler: (_request, h) => failure(h, metrics, new ClientError('not_found', API_CLOSED)),
  })
}

/**
 * The HTTP API for backends: read a room's messages and members, post a
 * system or bot message that is stored and broadcast like any other.
 * Errors are JSON `{ code, message }` with the status of the code.
 */
export function registerApi(server: Server, options: ApiOptions): void {
  const { rooms, metrics } = options
  const key = options.apiKey === undefined ? null : digest(options.apiKey)

  const fail = (h: ResponseToolkit, error: unknown): ResponseObject => {
    if (!isExpected(error)) options.logger.error({ err: error }, 'api request failed')
    return failure(h, metrics, asClientError(error))
  }

  const authorize = (request: Request): void => {
    if (key === null) return
    const header = String(request.headers.authorization ?? '')
    const given = header.startsWith('Bearer ') ? header.slice(7) : ''
    // Compare digests: equal length, constant time, no hint of the key's length.
    if (!timingSafeEqual(digest(given), key)) throw new ClientError('unauthorized', 'a valid API key is required')
  }

  const guarded =
    (work: (request: Request, h: ResponseToolkit) => Promise<ResponseObject | object>) =>
    async (request: Request, h: ResponseToolkit) => {
      try {
        authorize(request)
        return await work(request, h)
      } catch (error) {
        return fail(h, error).takeover()
      }
    }

  const payloadFailure = (_request: Request, h: ResponseToolkit, error?: Error) => {
    const status = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode
    const refusal =
      status === 413
        ? new ClientError('too_large', 'body is larger than 64 KiB')
        : new ClientError('bad_request', 'body must be JSON')
    return fail(h, refusal).takeover()
  }

  server.route({
    method: 'GET',
    path: '/v1/rooms/{room}/messages',
    handler: guarded(async (request) => {
      const room = checkRoom(request.params.room)
      const before = queryInt(request.query.before, 'before')
      const limit = Math.min(queryInt(request.query.limit, 'limit') ?? 50, options.historyLimit)
      return rooms.history(room, before, limit)
    }),
  })

  server.route({
    method: 'POST',
    path: '/v1/rooms/{room}/messages',
    options: { payload: { maxBytes: 65_536, parse: true, failAction: payloadFailure } },
    handler: guarded(async (request, h) => {
      const room = checkRoom(request.params.room)
      const body: unknown = request.payload
      if (!isObject(body)) throw new ClientError('bad_request', 'body must be a JSON object')
      const text = checkText(body.text, options.maxText)
      const from = sender(body.from, options.maxName)
      if (body.id !== undefined && (typeof body.id !== 'string' || body.id === '' || body.id.length > MAX_ID)) {
        throw new ClientError('bad_request', 'id must be a string of 1 to 64 characters')
      }
      const id = typeof body.id === 'string' ? body.id : randomUUID()
      const result = await rooms.publish({ room, id, from, text }, () => {})
      return h.response({ message: result.message }).code(result.duplicate ? 200 : 201)
    }),
  })

  server.route({
    method: 'GET',
    path: '/v1/rooms/{room}/members',
    handler: guarded(async (request) => {
      const room = checkRoom(request.params.room)
      return { members: await rooms.members(room) }
    }),
  })

  server.route({
    method: '*',
    path: '/v1/{rest*}',
    handler: guarded(async () => {
      throw new ClientError('not_found', 'no such API route')
    }),
  })
}
