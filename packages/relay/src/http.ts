import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { CONVERSATION_PREFIX, type ErrorCode, type Member } from '@confab/sdk/protocol'
import type { Request, ResponseObject, ResponseToolkit, RouteOptions, Server } from '@hapi/hapi'
import { cleanName } from './auth'
import { sharedUpdate } from './changes'
import { checkMeta, checkRoom, checkText, isObject, MAX_ID } from './decoder'
import { asClientError, ClientError, isExpected } from './errors'
import type { Metrics } from './metrics'
import { originAllowed } from './origin'
import type { ChangeRequest, Rooms } from './rooms'
import { userIdProblem } from './text'

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
  /** Allowed browser origins (`Origin` header) of API requests. */
  origins: string[] | '*'
  /** False: POST is refused (no key, and the relay listens beyond loopback). */
  writes: boolean
  /** The check for `conv:` rooms, which need the API key or an operator credential whatever the access (http-conversations.ts). */
  conversationAccess?: (request: Request) => Promise<unknown>
  /** More /v1 routes behind the same key and origin check (http-moderation.ts). */
  extend?: (routes: ApiRoutes) => void
}

/** What `extend` gets to add routes with. */
export interface ApiRoutes {
  server: Server
  /** Wraps a handler in the key and origin check and the JSON error answer. */
  guarded(
    work: (request: Request, h: ResponseToolkit) => Promise<ResponseObject | object>,
  ): (request: Request, h: ResponseToolkit) => Promise<ResponseObject | object>
  /** Route options of a JSON body of at most 64 KiB. */
  json: RouteOptions
  /** False: changes are refused (read-only API). */
  writes: boolean
}

/** Who may use the HTTP API: with the key; open (no key, loopback only); read-only (no key, beyond loopback); off. */
export type ApiAccess = 'key' | 'open' | 'read-only' | 'off'

/** True for an interface only this machine reaches. */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false
  return (
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === '::ffff:127.0.0.1'
  )
}

/**
 * The safe default for the HTTP API. With a key it needs the key. Without
 * one it is off when clients need a token (an open API could post as any
 * user the tokens protect), open when the relay listens on loopback only
 * (development), and read-only otherwise: no one on the network may post
 * without a key.
 */
export function apiAccess(options: { apiKey: string | undefined; auth: unknown; host: string | undefined }): ApiAccess {
  if (options.apiKey !== undefined) return 'key'
  if (options.auth !== undefined) return 'off'
  return isLoopback(options.host) ? 'open' : 'read-only'
}

/** One line for the startup banner and the log, per access. */
export const API_ACCESS_TEXT: Record<ApiAccess, string> = {
  key: 'needs the API key (Authorization: Bearer KEY)',
  open: 'open without a key (the relay listens on loopback only)',
  'read-only': 'read-only: posting needs an API key when listening beyond loopback (apiKey, CONFAB_API_KEY)',
  off: 'off: clients need a token but no API key is set (apiKey, CONFAB_API_KEY)',
}

/** Why a POST is refused without a key on a relay that listens beyond loopback. */
export const API_READ_ONLY =
  'posting through the HTTP API needs an API key when the relay listens beyond loopback (apiKey, CONFAB_API_KEY)'

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

/** A message's offset in a path: a positive integer. */
function pathOffset(value: unknown): number {
  if (typeof value !== 'string' || !/^[1-9]\d{0,14}$/.test(value)) {
    throw new ClientError('bad_request', 'offset must be a positive integer')
  }
  return Number(value)
}

/** Most read positions `GET /v1/rooms/{room}/reads` returns (a store keeps at most 10,000 per room). */
const MAX_READS = 10_000
/** Members in one HTTP page, and the most a room may have for an unpaged list. */
const MAX_MEMBERS_HTTP = 1000

function sender(value: unknown, maxName: number): Member {
  if (value === undefined) return SYSTEM
  if (!isObject(value) || typeof value.id !== 'string')
    throw new ClientError('bad_request', 'from must be { id, name }')
  // The same rule as a token's user id: an API sender must not look blank or carry terminal escapes either.
  const problem = userIdProblem(value.id)
  if (problem !== null) throw new ClientError('bad_request', `from.id ${problem}`)
  const name = cleanName(typeof value.name === 'string' ? value.name : value.id, maxName)
  return { id: value.id, name: name || value.id }
}

/** Why the API is off when clients need a token and no API key is set; logged once at start and answered to every /v1 request. */
export const API_CLOSED = 'the HTTP API is off: clients need a token but no API key is set (apiKey, CONFAB_API_KEY)'

/** The JSON error answer of the API, with the status of its code. */
export function failure(h: ResponseToolkit, metrics: Metrics, refusal: ClientError, status?: number): ResponseObject {
  metrics.error(refusal.code)
  const body: Record<string, unknown> = { code: refusal.code, message: refusal.message }
  if (refusal.retryAfter !== undefined) body.retryAfter = refusal.retryAfter
  return h.response(body).code(status ?? STATUS[refusal.code])
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
    // A browser page of another site: refused unless its origin is allowed (forms and fetches alike).
    const origin: unknown = request.headers.origin
    if (!originAllowed(options.origins, typeof origin === 'string' ? origin : undefined)) {
      throw new ClientError('forbidden', 'origin not allowed')
    }
    if (key === null) return
    // The scheme is case-insensitive (RFC 7235), the key is not.
    const given = /^bearer +(.*)$/i.exec(String(request.headers.authorization ?? ''))?.[1] ?? ''
    // Compare digests: equal length, constant time, no hint of the key's length.
    if (!timingSafeEqual(digest(given), key)) throw new ClientError('unauthorized', 'a valid API key is required')
  }

  /** A conversation room is private: it needs the API key or an operator credential, even on an open API. */
  const isPrivate = (request: Request): boolean =>
    typeof request.params.room === 'string' && request.params.room.startsWith(CONVERSATION_PREFIX)

  const guarded =
    (work: (request: Request, h: ResponseToolkit) => Promise<ResponseObject | object>) =>
    async (request: Request, h: ResponseToolkit) => {
      try {
        if (isPrivate(request)) {
          if (options.conversationAccess === undefined) throw new ClientError('forbidden', 'not allowed in this room')
          await options.conversationAccess(request)
        } else authorize(request)
        return await work(request, h)
      } catch (error) {
        return fail(h, error).takeover()
      }
    }

  const payloadFailure = (_request: Request, h: ResponseToolkit, error?: Error) => {
    const status = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode
    if (status === 415) {
      // Only JSON: an HTML form on another site can post urlencoded, multipart or text/plain, never JSON.
      const refusal = new ClientError('bad_request', 'Content-Type must be application/json')
      return failure(h, metrics, refusal, 415).takeover()
    }
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
    options: { payload: { maxBytes: 65_536, parse: true, allow: 'application/json', failAction: payloadFailure } },
    handler: guarded(async (request, h) => {
      if (!options.writes && !isPrivate(request)) throw new ClientError('forbidden', API_READ_ONLY)
      const room = checkRoom(request.params.room)
      const body: unknown = request.payload
      if (!isObject(body)) throw new ClientError('bad_request', 'body must be a JSON object')
      const text = checkText(body.text, options.maxText)
      const from = sender(body.from, options.maxName)
      const id = bodyId(body)
      const result = await rooms.publish({ room, id, from, text, role: 'api' }, () => {})
      return h.response({ message: result.message }).code(result.duplicate ? 200 : 201)
    }),
  })

  /** An optional idempotency key of a body. */
  const bodyId = (body: Record<string, unknown>): string => {
    if (body.id !== undefined && (typeof body.id !== 'string' || body.id === '' || body.id.length > MAX_ID)) {
      throw new ClientError('bad_request', 'id must be a string of 1 to 64 characters')
    }
    return typeof body.id === 'string' ? body.id : randomUUID()
  }

  /** The API is the site's trusted server: it edits and deletes any message, without an edit window. */
  const change = async (request: ChangeRequest, h: ResponseToolkit) => {
    const result = await rooms.change(request, () => {})
    return h.response({ update: sharedUpdate(result.update) }).code(200)
  }

  server.route({
    method: 'PATCH',
    path: '/v1/rooms/{room}/messages/{offset}',
    options: { payload: { maxBytes: 65_536, parse: true, allow: 'application/json', failAction: payloadFailure } },
    handler: guarded(async (request, h) => {
      if (!options.writes && !isPrivate(request)) throw new ClientError('forbidden', API_READ_ONLY)
      const room = checkRoom(request.params.room)
      const target = pathOffset(request.params.offset)
      const body: unknown = request.payload
      if (!isObject(body)) throw new ClientError('bad_request', 'body must be a JSON object')
      const text = checkText(body.text, options.maxText)
      const meta = checkMeta(body.meta)
      const id = bodyId(body)
      return change({ room, id, from: SYSTEM, action: 'edit', target, text, meta, role: 'api' }, h)
    }),
  })

  server.route({
    method: 'DELETE',
    path: '/v1/rooms/{room}/messages/{offset}',
    handler: guarded(async (request, h) => {
      if (!options.writes && !isPrivate(request)) throw new ClientError('forbidden', API_READ_ONLY)
      const room = checkRoom(request.params.room)
      const target = pathOffset(request.params.offset)
      return change({ room, id: randomUUID(), from: SYSTEM, action: 'delete', target, role: 'api' }, h)
    }),
  })

  server.route({
    method: 'GET',
    path: '/v1/rooms/{room}/reads',
    handler: guarded(async (request) => {
      const room = checkRoom(request.params.room)
      const limit = Math.min(queryInt(request.query.limit, 'limit') ?? 100, MAX_READS)
      return { items: await rooms.reads(room, limit) }
    }),
  })

  server.route({
    method: 'GET',
    path: '/v1/rooms/{room}/members',
    handler: guarded(async (request) => {
      const room = checkRoom(request.params.room)
      const limit = queryInt(request.query.limit, 'limit')
      if (limit !== undefined && (limit < 1 || limit > MAX_MEMBERS_HTTP)) {
        throw new ClientError('bad_request', `limit must be 1 to ${MAX_MEMBERS_HTTP}`)
      }
      const cursor = request.query.cursor
      if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 256)) {
        throw new ClientError('bad_request', 'cursor must be 1 to 256 characters, as a page returned it')
      }
      const count = await rooms.memberCount(room)
      // Unpaged, as before paging existed, while the whole list fits one page; a large room is paged by user id.
      if (limit === undefined && cursor === undefined && count <= MAX_MEMBERS_HTTP) {
        return { members: await rooms.members(room), count, cursor: null }
      }
      return { ...(await rooms.memberPage(room, cursor, limit ?? MAX_MEMBERS_HTTP)), count }
    }),
  })

  const json = { payload: { maxBytes: 65_536, parse: true, allow: 'application/json', failAction: payloadFailure } }
  options.extend?.({ server, guarded, json, writes: options.writes })

  server.route({
    method: '*',
    path: '/v1/{rest*}',
    handler: guarded(async () => {
      throw new ClientError('not_found', 'no such API route')
    }),
  })
}
