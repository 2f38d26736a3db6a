import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Limits, Member, Meta, Update } from '@confab/sdk/protocol'
import type { Plugin, ResponseToolkit } from '@hapi/hapi'
import { checkAuthKeys, createAuthenticator, deriveOperatorKey } from './auth'
import { openBackend } from './backend'
import { sharedUpdate } from './changes'
import { type RelayConfig, type RelayOptions, resolveConfig } from './config'
import { ConversationHub } from './conversations'
import { checkMeta, checkRoom, checkText, MAX_ID } from './decoder'
import { demoRoutes } from './demo'
import { ClientError } from './errors'
import { Gateway } from './gateway'
import { API_ACCESS_TEXT, API_CLOSED, type ApiAccess, apiAccess, registerApi, registerClosedApi } from './http'
import { type ConversationApiOptions, conversationAccess, registerConversationApi } from './http-conversations'
import { setupIntegrations } from './integrations'
import { localeRoutes } from './locales'
import { setupLogging, watchClientErrors } from './logging'
import { Metrics } from './metrics'
import { Rooms } from './rooms'
import { getPath, SETTINGS } from './settings'
import { conversationId } from './store/conversations'
import { ERASED_NAME } from './store/types'

/** The relay's version, from its package.json. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

/** The `limits` of `welcome`: every setting of the table with an `announce` name, as resolved. */
export function announcedLimits(config: RelayConfig): Limits {
  const resolved = { ...config, history: { limit: config.historyLimit } }
  const entries = SETTINGS.filter((s) => s.announce !== undefined).map((s) => [s.announce, getPath(resolved, s.path)])
  return Object.fromEntries(entries) as Limits
}

/** A snapshot of one relay node. */
export interface RelayStats {
  /** Open WebSocket connections on this node. */
  connections: number
  /** Rooms with local subscribers. */
  rooms: number
  /** True once shutdown began. */
  draining: boolean
}

/** What the plugin exposes as `server.plugins.confab`. */
export interface ConfabApi {
  /** Current numbers of this node. */
  stats(): RelayStats
  /** The relay's Prometheus metrics (for an app that serves its own /metrics). */
  readonly metrics: Metrics
  /** Who may use the HTTP API (see docs/relay.md, "HTTP API"). */
  readonly api: ApiAccess
  /** The key that signs people in to the inbox as operators (the CLI prints the inbox link with it). */
  readonly operatorKey: string
  /**
   * Edits any message, as `PATCH /v1/rooms/{room}/messages/{offset}` does (no edit window; `beforePublish`
   * runs; members get an `update`). Resolves with the change; rejects with a `ClientError` (`not_found`,
   * `bad_request`, `too_large`, `unavailable`…). `from` defaults to `{ id: 'system', name: 'System' }`.
   */
  edit(room: string, offset: number, text: string, options?: ChangeOptions & { meta?: Meta }): Promise<Update>
  /** Deletes any message, as `DELETE /v1/rooms/{room}/messages/{offset}` does; resolves with the change. */
  delete(room: string, offset: number, options?: ChangeOptions): Promise<Update>
}

/** Who makes a change through the plugin's `edit` and `delete`, and its idempotency key (default a random UUID). */
export interface ChangeOptions {
  from?: Member
  id?: string
}

/** Who the server's own changes are from when it names nobody (as in the HTTP API). */
const SYSTEM: Member = { id: 'system', name: 'System' }

function changeTarget(room: string, offset: number, options: ChangeOptions) {
  const id = options.id ?? randomUUID()
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID) {
    throw new ClientError('bad_request', 'id must be a string of 1 to 64 characters')
  }
  if (!Number.isSafeInteger(offset) || offset < 1)
    throw new ClientError('bad_request', 'offset must be a positive integer')
  return { room: checkRoom(room), target: offset, id, from: options.from ?? SYSTEM, role: 'api' as const }
}

/**
 * The relay as a hapi plugin: `await server.register({ plugin: confab, options })`.
 * Validates options (a bad one throws `ConfigError`), opens storage, serves
 * the WebSocket endpoint and the HTTP routes, and drains on `server.stop()`.
 */
export const confab: Plugin<RelayOptions> = {
  name: 'confab',
  version: VERSION,
  async register(server, options) {
    const config = resolveConfig(options)
    // Every setup mistake is found before the data file or Redis is opened.
    checkAuthKeys(config.auth)
    const logger = await setupLogging(server, config)
    const backend = await openBackend(config, options, logger)
    const { store, broker, presence } = backend
    const metrics = new Metrics()
    // Set once the rooms exist: a ban read at startup has no connection to close.
    let gateway: Gateway | undefined
    // Moderation, hooks, webhooks and privacy (issue 15): built in integrations.ts.
    const integrations = setupIntegrations(options, config, {
      store,
      broker,
      metrics,
      logger,
      // A room ban closes the user's connections in that room; a relay-wide one every connection of theirs.
      kick: (user, room, code, reason) =>
        room === undefined ? gateway?.kick(user, code, reason) : rooms.kick(user, room, code, reason),
    })
    const { webhooks } = integrations
    const conversations = new ConversationHub({
      store,
      broker,
      presence,
      logger,
      webhook: webhooks && ((type, conversation) => webhooks.conversationEvent(type, conversation)),
    })
    const rooms: Rooms = new Rooms({
      guard: integrations.gate,
      control: (event) => integrations.moderation.changed(event.ban),
      store,
      broker: conversations.wrap(broker),
      presence,
      onConversation: (conversation) => conversations.changed(conversation),
      metrics,
      logger,
      historyLimit: config.historyLimit,
      typingTimeout: config.typingTimeout,
      editWindow: config.editWindow * 1000,
      maxReactions: config.maxReactions,
      largeAt: config.largeRoom,
      // Half the send-queue bound: a page can never alone get its reader cut as slow.
      pageBytes: Math.floor(config.limits.maxBufferedBytes / 2),
    })
    await rooms.start()
    await integrations.start(rooms)
    await conversations.start()
    // Erasing a visitor also clears their conversation's entry (their messages in it are tombstoned with the rest).
    integrations.privacy?.addEraser(async (user) => {
      const entry = await store.updateConversation(conversationId(user), { visitorName: ERASED_NAME, erase: true })
      if (entry !== null) conversations.changed(entry, 'conversation.updated')
    })
    const { limits } = config
    const announced = announcedLimits(config)
    const resumeSecret = config.resumeSecret ?? backend.resumeSecret
    // Stable wherever the resume secret is (SQLite file, Redis), so the printed inbox link survives restarts.
    const operatorKey = config.operatorKey ?? deriveOperatorKey(resumeSecret)
    const authenticate = createAuthenticator(config.auth, { maxName: limits.maxName, resumeSecret, operatorKey })
    gateway = new Gateway({ config, rooms, authenticate, metrics, logger, limits: announced, conversations })
    gateway.attach(server.listener)
    watchClientErrors(server.listener, logger)

    server.route({ method: 'GET', path: '/healthz', handler: () => ({ status: 'ok' }) })
    server.route({
      method: 'GET',
      path: '/readyz',
      handler: (_request, h: ResponseToolkit) => {
        if (gateway.draining) return h.response({ status: 'draining' }).code(503)
        if (!store.ready || !broker.ready) return h.response({ status: 'storage unavailable' }).code(503)
        return { status: 'ready' }
      },
    })
    server.route({
      method: 'GET',
      path: '/metrics',
      handler: async (_request, h: ResponseToolkit) =>
        h.response(await metrics.registry.metrics()).type(metrics.registry.contentType),
    })
    await server.register({ plugin: demoRoutes, options: { page: config.demo, widget: config.widget } })
    if (config.widget) await server.register(localeRoutes)
    // The interface the server listens on: the relay's own, or the host app's (hapi's default is every interface).
    const host = server.settings.host
    const access = apiAccess({ apiKey: config.apiKey, auth: config.auth, host })
    const conversationApi: ConversationApiOptions = {
      hub: conversations,
      metrics,
      logger,
      origins: config.origins,
      apiKey: config.apiKey,
      operatorKey,
      maxName: limits.maxName,
      verifyToken: config.auth === undefined ? undefined : async (token) => (await authenticate({ token })).user,
    }
    // Always on: the conversations API needs the API key or an operator credential, never nothing.
    registerConversationApi(server, conversationApi)
    if (access === 'off') {
      logger.warn(API_CLOSED)
      registerClosedApi(server, metrics)
    } else {
      if (access === 'read-only') logger.warn(`HTTP API ${API_ACCESS_TEXT[access]}`)
      registerApi(server, {
        origins: config.origins,
        writes: access !== 'read-only',
        rooms,
        metrics,
        apiKey: config.apiKey,
        maxText: limits.maxText,
        maxName: limits.maxName,
        historyLimit: config.historyLimit,
        logger,
        conversationAccess: conversationAccess(conversationApi),
        extend: integrations.routes,
      })
    }

    server.ext('onPreStop', async () => {
      logger.info({ connections: gateway.size }, 'draining')
      await gateway.drain(config.shutdownTimeout)
    })
    server.ext('onPostStop', async () => {
      await integrations.stop()
      conversations.stop()
      rooms.stop()
      await backend.close()
      metrics.registry.clear()
    })

    const api: ConfabApi = {
      stats: () => ({ connections: gateway.size, rooms: rooms.size, draining: gateway.draining }),
      metrics,
      api: access,
      operatorKey,
      async edit(room, offset, text, options = {}) {
        const change = changeTarget(room, offset, options)
        const meta = checkMeta(options.meta)
        const { update } = await rooms.change(
          { ...change, action: 'edit', text: checkText(text, limits.maxText), meta },
          () => {},
        )
        return sharedUpdate(update)
      },
      async delete(room, offset, options = {}) {
        const { update } = await rooms.change({ ...changeTarget(room, offset, options), action: 'delete' }, () => {})
        return sharedUpdate(update)
      },
    }
    server.expose(api)
  },
}
