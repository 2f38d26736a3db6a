// The conversations HTTP API and the credential check it shares with the rooms
// API for `conv:` rooms (docs/conversations.md, "HTTP API").
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Request, ResponseToolkit, Server } from '@hapi/hapi'
import { isOperatorKey } from './auth'
import type { AuthUser } from './config'
import type { ConversationHub } from './conversations'
import { isObject, MAX_ID } from './decoder'
import { asClientError, ClientError, isExpected } from './errors'
import { failure } from './http'
import type { Metrics } from './metrics'
import { originAllowed } from './origin'
import { type ConversationPatch, decodeCursor } from './store/conversations'
import { cleanName } from './text'

/** What the routes need. */
export interface ConversationApiOptions {
  hub: ConversationHub
  metrics: Metrics
  logger: { error(object: object, message: string): void }
  origins: string[] | '*'
  apiKey: string | undefined
  operatorKey: string
  /** Checks a token as `hello` would (JWT or the custom `verify`); undefined when the relay has no auth. */
  verifyToken: ((token: string) => Promise<AuthUser>) | undefined
  maxName: number
}

/** Who is asking. */
export type Caller = 'api-key' | 'operator'

const ID = /^[A-Za-z0-9_-]{22}$/

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/**
 * The check for every conversation route: the API key, the operator key or an operator's token.
 * 401 without a credential or with one that is not valid; 403 with a valid token of a visitor.
 */
export function conversationAccess(options: ConversationApiOptions): (request: Request) => Promise<Caller> {
  const apiKey = options.apiKey === undefined ? null : digest(options.apiKey)
  return async (request) => {
    const origin: unknown = request.headers.origin
    if (!originAllowed(options.origins, typeof origin === 'string' ? origin : undefined)) {
      throw new ClientError('forbidden', 'origin not allowed')
    }
    const given = /^bearer +(.*)$/i.exec(String(request.headers.authorization ?? ''))?.[1] ?? ''
    if (given === '')
      throw new ClientError('unauthorized', 'an API key, the operator key or an operator token is required')
    if (apiKey !== null && timingSafeEqual(digest(given), apiKey)) return 'api-key'
    if (isOperatorKey(given, options.operatorKey)) return 'operator'
    if (options.verifyToken !== undefined) {
      let user: AuthUser
      try {
        user = await options.verifyToken(given)
      } catch {
        throw new ClientError('unauthorized', 'invalid credentials')
      }
      if (user.role === 'operator') return 'operator'
      throw new ClientError('forbidden', 'only operators may use conversations')
    }
    throw new ClientError('unauthorized', 'invalid credentials')
  }
}

function status(value: unknown): 'open' | 'closed' | undefined {
  if (value === undefined || value === '') return undefined
  if (value !== 'open' && value !== 'closed') throw new ClientError('bad_request', 'status must be "open" or "closed"')
  return value
}

/** `GET /v1/conversations`, `GET` and `PATCH /v1/conversations/{id}`. */
export function registerConversationApi(server: Server, options: ConversationApiOptions): void {
  const { hub, metrics } = options
  const access = conversationAccess(options)

  const guarded =
    (work: (request: Request, h: ResponseToolkit) => Promise<object>) =>
    async (request: Request, h: ResponseToolkit) => {
      try {
        await access(request)
        return await work(request, h)
      } catch (error) {
        if (!isExpected(error)) options.logger.error({ err: error }, 'api request failed')
        return failure(h, metrics, asClientError(error)).takeover()
      }
    }

  const entry = (request: Request): string => {
    const id = request.params.id
    // An id that cannot exist is answered like one that does not: nothing is revealed either way.
    if (typeof id !== 'string' || !ID.test(id)) throw new ClientError('not_found', 'no such conversation')
    return id
  }

  server.route({
    method: 'GET',
    path: '/v1/conversations',
    handler: guarded(async (request) => {
      const { query } = request
      const limit = query.limit === undefined || query.limit === '' ? undefined : Number(query.limit)
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
        throw new ClientError('bad_request', 'limit must be an integer from 1 to 100')
      }
      const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? query.cursor : undefined
      if (cursor !== undefined && decodeCursor(cursor) === null) {
        throw new ClientError('bad_request', 'cursor is not one this relay gave')
      }
      const assignee = typeof query.assignee === 'string' && query.assignee !== '' ? query.assignee : undefined
      if (assignee !== undefined && assignee.length > MAX_ID)
        throw new ClientError('bad_request', 'assignee is too long')
      return hub.store.conversations({ status: status(query.status), assignee, cursor, limit })
    }),
  })

  server.route({
    method: 'GET',
    path: '/v1/conversations/{id}',
    handler: guarded(async (request) => {
      const found = await hub.store.conversation(entry(request))
      if (found === null) throw new ClientError('not_found', 'no such conversation')
      return found
    }),
  })

  server.route({
    method: 'PATCH',
    path: '/v1/conversations/{id}',
    options: {
      payload: {
        maxBytes: 65_536,
        parse: true,
        allow: 'application/json',
        failAction: (_request, h) =>
          failure(
            h,
            metrics,
            new ClientError('bad_request', 'body must be JSON (Content-Type: application/json)'),
          ).takeover(),
      },
    },
    handler: guarded(async (request) => {
      const id = entry(request)
      const body: unknown = request.payload
      if (!isObject(body)) throw new ClientError('bad_request', 'body must be a JSON object')
      const patch: ConversationPatch = {}
      const next = status(body.status)
      if (next !== undefined) patch.status = next
      if (body.assignee === null) patch.assignee = null
      else if (body.assignee !== undefined) {
        const a = body.assignee
        if (!isObject(a) || typeof a.id !== 'string' || a.id === '' || a.id.length > MAX_ID) {
          throw new ClientError('bad_request', 'assignee must be { id, name } or null')
        }
        const name = cleanName(typeof a.name === 'string' ? a.name : a.id, options.maxName) || a.id
        patch.assignee = { id: a.id, name }
      }
      const updated = await hub.store.updateConversation(id, patch)
      if (updated === null) throw new ClientError('not_found', 'no such conversation')
      hub.changed(updated, 'conversation.updated')
      return updated
    }),
  })
}
