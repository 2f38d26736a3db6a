import type { Redis } from 'ioredis'
import type { Store } from '../store/types'
import { StoreUnavailableError } from '../store/types'
import { guarded } from './guard'

/**
 * How long a write may wait for its replicas before the caller gets
 * `unavailable` (the SDK then resends, idempotently, and the resend waits again).
 */
const WAIT_TIMEOUT = 1000 // 1 second

/**
 * Waits until `replicas` replicas hold every write Redis had acknowledged
 * before the call. Redis replicates asynchronously, so a master killed right
 * after a write can take it along; an ack given only after WAIT confirms the
 * replicas means a Sentinel failover promotes a replica that has the message.
 *
 * WAIT blocks the connection it runs on and counts only writes made on that
 * connection, so it runs on a connection of its own right after a small write
 * there (INCR of `key`, pipelined with it), whose replication offset covers
 * every write Redis made before it. Calls that arrive while a round is in flight share the next
 * round: one WAIT covers any number of writes.
 */
export class ReplicaBarrier {
  readonly #redis: Redis
  readonly #replicas: number
  readonly #key: string
  #current: Promise<void> | null = null
  #next: Promise<void> | null = null

  constructor(redis: Redis, replicas: number, key: string) {
    this.#redis = redis
    this.#replicas = replicas
    this.#key = key
  }

  /** Resolves once every write acknowledged before this call is on the replicas; rejects as `unavailable` otherwise. */
  sync(): Promise<void> {
    // A round already on the wire may have sent its INCR before the caller's write finished: take the next one.
    if (this.#current === null) {
      this.#current = this.#round()
      return this.#current
    }
    this.#next ??= this.#current.then(
      () => this.#promote(),
      () => this.#promote(),
    )
    return this.#next
  }

  #promote(): Promise<void> {
    this.#current = this.#next
    this.#next = null
    return this.#round()
  }

  async #round(): Promise<void> {
    try {
      const [, acked] = await Promise.all([
        guarded(this.#redis.incr(this.#key)),
        guarded(this.#redis.wait(this.#replicas, WAIT_TIMEOUT)),
      ])
      if (acked < this.#replicas) {
        throw new StoreUnavailableError(
          `Redis write confirmed by ${acked} of ${this.#replicas} replicas within ${WAIT_TIMEOUT} ms`,
        )
      }
    } finally {
      if (this.#next === null) this.#current = null
    }
  }
}

/** The store's writes that a client is told about, each followed by a barrier before it resolves. */
const CONFIRMED = ['append', 'updateConversation', 'addBan', 'removeBan', 'pushEvent', 'eraseUser'] as const

/**
 * Makes `store` resolve its writes only once the replicas have them (see
 * `ReplicaBarrier`); `find`, which answers an idempotent resend with the
 * stored original, waits too, since that original may not be replicated yet.
 */
export function confirmWrites<S extends Store>(store: S, barrier: ReplicaBarrier): S {
  for (const name of [...CONFIRMED, 'find'] as const) {
    const call = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>
    const confirmed = async (...args: unknown[]): Promise<unknown> => {
      const result = await call(...args)
      // find: nothing found is nothing to confirm.
      if (name !== 'find' || result !== undefined) await barrier.sync()
      return result
    }
    Object.assign(store, { [name]: confirmed })
  }
  return store
}
