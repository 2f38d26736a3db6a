import { randomUUID } from 'node:crypto'
import { CLOSE } from '@confab/sdk/protocol'
import type { Broker } from './broker/types'
import { checkRoom, isObject } from './decoder'
import { ClientError } from './errors'
import type { Ban, Store } from './store/types'
import { userIdProblem } from './text'

/**
 * The broker channel of moderation changes. Not a valid room name (`#` is not
 * allowed), so no client can join or publish to it.
 */
export const CONTROL_ROOM = '#confab:control'

/** What a ban asks for, as `POST /v1/bans` takes it. */
export interface BanRequest {
  user: string
  room?: string
  mute?: boolean
  /** Unix ms. */
  until?: number
  reason?: string
}

/** Longest ban reason kept. */
const MAX_REASON = 500

/** How long a node trusts its copy of the ban list without a change notice: bounds a lost notice's effect. */
const CACHE_TTL = 5000

/** Checks a ban request body; a bad field throws `bad_request` naming it. */
export function checkBanRequest(body: unknown, now: number): BanRequest {
  if (!isObject(body)) throw new ClientError('bad_request', 'body must be a JSON object')
  const problem = typeof body.user === 'string' ? userIdProblem(body.user) : 'must be a string'
  if (problem !== null) throw new ClientError('bad_request', `user ${problem}`)
  const request: BanRequest = { user: body.user as string }
  if (body.room !== undefined) request.room = checkRoom(body.room)
  if (body.mute !== undefined) {
    if (typeof body.mute !== 'boolean') throw new ClientError('bad_request', 'mute must be true or false')
    request.mute = body.mute
  }
  if (body.until !== undefined) {
    if (typeof body.until !== 'number' || !Number.isSafeInteger(body.until) || body.until <= now) {
      throw new ClientError('bad_request', 'until must be a future time in unix milliseconds')
    }
    request.until = body.until
  }
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || body.reason.length > MAX_REASON) {
      throw new ClientError('bad_request', `reason must be a string of at most ${MAX_REASON} characters`)
    }
    request.reason = body.reason
  }
  return request
}

/** Where moderation closes a banned user's sockets on this node. */
export type Kick = (user: string, room: string | undefined, code: number, reason: string) => void

/** Options of `Moderation`. */
export interface ModerationOptions {
  store: Store
  broker: Broker
  /** Closes this node's connections of a user (in a room, or all). */
  kick: Kick
  logger: { error(object: object, message: string): void }
  now?: () => number
}

/**
 * Bans and mutes, kept in the store (shared by every node on Redis) and
 * checked at join and publish. Each node caches the list and drops its copy
 * when any node announces a change on the broker's control channel, so a ban
 * holds everywhere within a broker round trip; the copy also expires after a
 * few seconds in case a notice was lost. On a ban every node closes the
 * user's local connections with 4003.
 *
 * The functions take plain data, not an HTTP request: the conversations'
 * operators call `ban`, `lift` and `list` the same way the HTTP API does.
 */
export class Moderation {
  readonly #o: ModerationOptions
  readonly #now: () => number
  #cache: Promise<Ban[]> | null = null
  #loadedAt = 0

  constructor(options: ModerationOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** Subscribes to the control channel; the registry hands its events to `changed`. */
  async start(): Promise<void> {
    await this.#o.broker.subscribe(CONTROL_ROOM)
  }

  /** A node announced a change: forget the cached list, and close the connections a new ban covers. */
  changed(ban: Ban | undefined): void {
    this.#cache = null
    if (ban !== undefined && !ban.mute) {
      this.#o.kick(ban.user, ban.room, CLOSE.FORBIDDEN, ban.room === undefined ? 'banned' : `banned from ${ban.room}`)
    }
  }

  /** Stores a ban or mute and tells every node. */
  async ban(request: BanRequest): Promise<Ban> {
    const ban: Ban = { id: randomUUID(), user: request.user, mute: request.mute ?? false, createdAt: this.#now() }
    if (request.room !== undefined) ban.room = request.room
    if (request.until !== undefined) ban.until = request.until
    if (request.reason !== undefined) ban.reason = request.reason
    await this.#o.store.addBan(ban)
    await this.#announce(ban)
    return ban
  }

  /** Lifts a ban by id; undefined when there is none. */
  async lift(id: string): Promise<Ban | undefined> {
    const ban = await this.#o.store.removeBan(id)
    if (ban !== undefined) await this.#announce(undefined)
    return ban
  }

  /** Every ban and mute in force. */
  list(): Promise<Ban[]> {
    return this.#o.store.bans(this.#now())
  }

  /** Lifts every ban and mute of a user (erasure); returns how many. */
  async liftAll(user: string): Promise<number> {
    const bans = (await this.list()).filter((ban) => ban.user === user)
    for (const ban of bans) await this.#o.store.removeBan(ban.id)
    if (bans.length > 0) await this.#announce(undefined)
    return bans.length
  }

  /** Throws `forbidden` when the user is banned from the room or the relay. */
  async checkJoin(user: string, room: string): Promise<void> {
    const ban = (await this.#bans()).find((b) => !b.mute && covers(b, user, room, this.#now()))
    if (ban) throw new ClientError('forbidden', ban.room === undefined ? 'banned' : 'banned from this room')
  }

  /** Throws `forbidden` when the user is banned or muted in the room. */
  async checkPublish(user: string, room: string): Promise<void> {
    const ban = (await this.#bans()).find((b) => covers(b, user, room, this.#now()))
    if (ban) throw new ClientError('forbidden', ban.mute ? 'muted' : 'banned')
  }

  async #announce(ban: Ban | undefined): Promise<void> {
    this.#cache = null
    try {
      await this.#o.broker.publish(CONTROL_ROOM, { type: 'control', ban })
    } catch (error) {
      // Stored: other nodes see it when their cached copy expires.
      this.#o.logger.error({ err: error }, 'ban notice failed')
    }
  }

  #bans(): Promise<Ban[]> {
    const now = this.#now()
    if (this.#cache === null || now - this.#loadedAt > CACHE_TTL) {
      this.#loadedAt = now
      const loading = this.#o.store.bans(now)
      this.#cache = loading
      // A failed read is not cached: the next check asks the store again.
      loading.catch(() => {
        if (this.#cache === loading) this.#cache = null
      })
    }
    return this.#cache
  }
}

function covers(ban: Ban, user: string, room: string, now: number): boolean {
  return (
    ban.user === user && (ban.room === undefined || ban.room === room) && (ban.until === undefined || ban.until > now)
  )
}
