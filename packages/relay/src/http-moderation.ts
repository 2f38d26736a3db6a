import { Readable } from 'node:stream'
import { checkRoom } from './decoder'
import { ClientError } from './errors'
import type { ApiRoutes } from './http'
import { API_READ_ONLY } from './http'
import { checkBanRequest, type Moderation } from './moderation'
import type { Privacy } from './privacy'
import type { Store } from './store/types'
import { userIdProblem } from './text'

/** What the moderation routes need. */
export interface ModerationRoutesOptions {
  moderation: Moderation
  privacy: Privacy
  store: Store
  now?: () => number
}

/**
 * The HTTP API of issue 15 (docs/moderation.md, docs/privacy.md,
 * docs/webhooks.md), behind the API key like every /v1 route: bans and mutes,
 * the webhook dead-letter list, erasure of a user and export of a room.
 */
export function moderationRoutes(options: ModerationRoutesOptions): (api: ApiRoutes) => void {
  const now = options.now ?? Date.now
  return ({ server, guarded, json, writes }) => {
    const writable = () => {
      if (!writes) throw new ClientError('forbidden', API_READ_ONLY)
    }

    server.route({
      method: 'POST',
      path: '/v1/bans',
      options: json,
      handler: guarded(async (request, h) => {
        writable()
        const ban = await options.moderation.ban(checkBanRequest(request.payload, now()))
        return h.response(ban).code(201)
      }),
    })

    server.route({
      method: 'GET',
      path: '/v1/bans',
      handler: guarded(async () => ({ bans: await options.moderation.list() })),
    })

    server.route({
      method: 'DELETE',
      path: '/v1/bans/{id}',
      handler: guarded(async (request) => {
        writable()
        const ban = await options.moderation.lift(String(request.params.id))
        if (ban === undefined) throw new ClientError('not_found', 'no such ban')
        return { ban }
      }),
    })

    server.route({
      method: 'GET',
      path: '/v1/webhooks/dead',
      handler: guarded(async () => ({ events: await options.store.deadEvents(1000) })),
    })

    server.route({
      method: 'DELETE',
      path: '/v1/users/{id}',
      handler: guarded(async (request) => {
        writable()
        const user = String(request.params.id)
        const problem = userIdProblem(user)
        if (problem !== null) throw new ClientError('bad_request', `user id ${problem}`)
        return { erased: await options.privacy.erase(user) }
      }),
    })

    server.route({
      method: 'GET',
      path: '/v1/rooms/{room}/export',
      handler: guarded(async (request, h) => {
        const room = checkRoom(request.params.room)
        const lines = async function* () {
          for await (const message of options.privacy.export(room)) yield `${JSON.stringify(message)}\n`
        }
        return h.response(Readable.from(lines(), { objectMode: false })).type('application/x-ndjson')
      }),
    })
  }
}
