// Placeholder until the Redis backend lands (issue 5); replaced wholesale there.
import type { Broker } from './broker/types'
import type { Presence } from './presence/types'
import type { Store } from './store/types'

/** Store, broker and presence over one Redis deployment. */
export interface RedisBackend {
  store: Store
  broker: Broker
  presence: Presence
  close(): Promise<void>
}

/** Options the relay passes to the Redis backend. */
export interface RedisBackendOptions {
  /** Messages retained per room. */
  historyLimit: number
  /** Idempotency window in ms. */
  idempotencyWindow: number
}

export async function createRedisBackend(url: string, _options: RedisBackendOptions): Promise<RedisBackend> {
  throw new Error(`Redis backend not available yet (${new URL(url).protocol})`)
}
