import type { Broker } from './broker/types'
import { ConfigError, type RelayConfig, type RelayOptions } from './config'
import { type BeforePublish, type HookFailure, httpHook, PublishGate } from './hooks'
import type { ApiRoutes } from './http'
import { moderationRoutes } from './http-moderation'
import type { Metrics } from './metrics'
import { type Kick, Moderation } from './moderation'
import { Privacy } from './privacy'
import type { Rooms } from './rooms'
import { defaultNumber } from './settings'
import type { Store } from './store/types'
import { Webhooks } from './webhooks'

/** What the plugin hands in. */
export interface IntegrationsContext {
  store: Store
  broker: Broker
  metrics: Metrics
  logger: {
    error(object: object, message: string): void
    warn(object: object | string, message?: string): void
  }
  kick: Kick
}

/** Moderation, the publish gate, webhooks and the routes, built from the options. */
export interface Integrations {
  moderation: Moderation
  gate: PublishGate
  webhooks: Webhooks | undefined
  /** Erasure and export; set once started. */
  readonly privacy: Privacy | undefined
  routes: (api: ApiRoutes) => void
  /** After the registry started (the broker has its handler). */
  start(rooms: Rooms): Promise<void>
  stop(): Promise<void>
}

/**
 * Validates the hook and webhook options (a bad one throws `ConfigError`) and
 * builds what the plugin wires into the registry and the HTTP API.
 */
export function setupIntegrations(options: RelayOptions, config: RelayConfig, ctx: IntegrationsContext): Integrations {
  const { store, broker, metrics, logger } = ctx
  const timeout = options.hook?.timeout ?? defaultNumber('hook.timeout')
  const failure: HookFailure = options.hook?.failure ?? 'reject'
  if (failure !== 'reject' && failure !== 'accept') throw new ConfigError('hook.failure', 'must be reject or accept')
  const url = options.hook?.url
  if (url !== undefined && !/^https?:\/\/./.test(String(url))) {
    throw new ConfigError('hook.url', 'must be an http:// or https:// URL')
  }
  if (options.beforePublish !== undefined && typeof options.beforePublish !== 'function') {
    throw new ConfigError('beforePublish', 'must be a function')
  }
  if (options.beforePublish !== undefined && url !== undefined) {
    throw new ConfigError('hook.url', 'set beforePublish or hook.url, not both')
  }
  const hook: BeforePublish | undefined =
    url !== undefined ? httpHook(url, timeout) : options.beforePublish && withTimeout(options.beforePublish, timeout)

  const webhook = options.webhook
  let webhooks: Webhooks | undefined
  if (webhook?.url !== undefined || webhook?.secret !== undefined) {
    if (webhook.url === undefined || !/^https?:\/\/./.test(webhook.url)) {
      throw new ConfigError('webhook.url', 'must be an http:// or https:// URL when webhook.secret is set')
    }
    if (typeof webhook.secret !== 'string' || webhook.secret.length < 16) {
      throw new ConfigError('webhook.secret', 'must be at least 16 characters when webhook.url is set')
    }
    webhooks = new Webhooks({
      store,
      url: webhook.url,
      secret: webhook.secret,
      maxAge: webhook.maxAge ?? defaultNumber('webhook.maxAge'),
      metrics,
      logger,
    })
  }

  const moderation = new Moderation({ store, broker, kick: ctx.kick, logger })
  const gate = new PublishGate({
    store,
    moderation,
    beforePublish: hook,
    hookFailure: failure,
    maxText: config.limits.maxText,
    stored: webhooks && ((result) => (webhooks as Webhooks).messageCreated(result.message, result.epoch)),
    changed: webhooks && ((result) => (webhooks as Webhooks).messageChanged(result.update, result.epoch)),
    logger,
  })
  let privacy: Privacy | undefined
  const retention = retentionSweep(store, config.retentionDays, logger)
  return {
    moderation,
    gate,
    webhooks,
    get privacy() {
      return privacy
    },
    routes: (api) => {
      if (privacy === undefined) throw new Error('integrations not started')
      moderationRoutes({ moderation, privacy, store })(api)
    },
    async start(rooms) {
      privacy = new Privacy({ store, rooms, moderation, webhooks, logger })
      await moderation.start()
      webhooks?.start()
      retention.start()
    },
    async stop() {
      retention.stop()
      await webhooks?.stop()
    },
  }
}

/** A plugin hook that takes longer than the timeout counts as failed. */
function withTimeout(hook: BeforePublish, timeout: number): BeforePublish {
  return (context) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`beforePublish took more than ${timeout} ms`)), timeout)
      Promise.resolve()
        .then(() => hook(context))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer))
    })
}

const DAY = 86_400_000 // ms
/** How often memory and Redis drop messages past `retentionDays`. */
const SWEEP_INTERVAL = 60_000 // 1 minute

/**
 * `retentionDays` for stores that do not sweep by themselves (memory, Redis):
 * every minute, messages older than that are removed. Every Redis node runs
 * it; the removal is idempotent, so they need no coordination.
 */
function retentionSweep(store: Store, days: number | undefined, logger: IntegrationsContext['logger']) {
  let timer: NodeJS.Timeout | undefined
  const sweep = () => {
    store.expireBefore?.(Date.now() - (days as number) * DAY).catch((error: unknown) => {
      logger.error({ err: error }, 'retention sweep failed')
    })
  }
  return {
    start() {
      if (days === undefined || store.expireBefore === undefined) return
      sweep()
      timer = setInterval(sweep, SWEEP_INTERVAL)
      timer.unref()
    },
    stop() {
      clearInterval(timer)
    },
  }
}
