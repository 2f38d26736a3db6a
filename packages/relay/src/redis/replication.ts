import type { Cluster, Redis } from 'ioredis'
import type { Store } from '../store/types'
import { StoreUnavailableError } from '../store/types'
import { guarded } from './guard'
import { keySlot, tagOf } from './slot'

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
  readonly #target: () => BarrierTarget
  readonly #replicas: number
  #current: Promise<void> | null = null
  #next: Promise<void> | null = null

  /**
   * `redis` and `key`: the connection and the key written before each WAIT; or, as a function, where to
   * run each round (on a cluster: the connection to one master and a key in its slots).
   */
  constructor(redis: Redis | (() => BarrierTarget), replicas: number, key = '') {
    this.#target = typeof redis === 'function' ? redis : () => ({ redis, key })
    this.#replicas = replicas
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
      const { redis, key } = this.#target()
      const [, acked] = await Promise.all([guarded(redis.incr(key)), guarded(redis.wait(this.#replicas, WAIT_TIMEOUT))])
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

/** Where a barrier round runs: the connection and the key it writes before WAIT. */
export interface BarrierTarget {
  redis: Redis
  key: string
}

/**
 * The barrier on a Redis Cluster: one `ReplicaBarrier` per master, whose
 * rounds run on that master's own connection of `waiter` (a cluster of its
 * own, since WAIT blocks a connection), writing a key in one of the master's
 * slots. A write is confirmed by the master its key's slot maps to in
 * `routes` (the cluster that made the write); if the slot has moved since, the
 * master answers MOVED and the write is reported `unavailable`, to be resent.
 */
export class ClusterBarrier {
  readonly #routes: Cluster
  readonly #waiter: Cluster
  readonly #replicas: number
  readonly #prefix: string
  readonly #lanes = new Map<string, ReplicaBarrier>()

  constructor(routes: Cluster, waiter: Cluster, replicas: number, prefix: string) {
    this.#routes = routes
    this.#waiter = waiter
    this.#replicas = replicas
    this.#prefix = prefix
  }

  /** Resolves once the writes to `keys` (null: to any key) made before the call are on their master's replicas. */
  async sync(keys: string[] | null): Promise<void> {
    const masters = new Set<string>()
    if (keys === null) {
      for (const node of this.#routes.nodes('master')) masters.add(`${node.options.host}:${node.options.port}`)
    } else {
      for (const key of keys) {
        const master = this.#routes.slots[keySlot(key)]?.[0]
        if (master === undefined) throw new StoreUnavailableError(`Redis Cluster has no master for ${key}`)
        masters.add(master)
      }
    }
    await Promise.all([...masters].map((master) => this.#lane(master).sync()))
  }

  #lane(master: string): ReplicaBarrier {
    let lane = this.#lanes.get(master)
    if (lane === undefined) {
      lane = new ReplicaBarrier(() => this.#target(master), this.#replicas)
      this.#lanes.set(master, lane)
    }
    return lane
  }

  #target(master: string): BarrierTarget {
    const redis = this.#waiter.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === master)
    const slot = this.#routes.slots.findIndex((nodes) => nodes?.[0] === master)
    if (redis === undefined || slot === -1) {
      throw new StoreUnavailableError(`Redis Cluster master ${master} is gone`)
    }
    return { redis, key: `${this.#prefix}replicated:{${tagOf(slot)}}` }
  }
}

/** The store's writes that a client is told about, each followed by a barrier before it resolves. */
const CONFIRMED = ['append', 'updateConversation', 'addBan', 'removeBan', 'pushEvent', 'eraseUser'] as const

/** On a cluster: the barrier, and the keys each confirmed call writes (null: keys on every master). */
export interface ClusterWrites {
  barrier: ClusterBarrier
  written(name: (typeof CONFIRMED)[number] | 'find', args: unknown[]): string[] | null
}

/**
 * Makes `store` resolve its writes only once the replicas have them (see
 * `ReplicaBarrier`); `find`, which answers an idempotent resend with the
 * stored original, waits too, since that original may not be replicated yet.
 */
export function confirmWrites<S extends Store>(store: S, barrier: ReplicaBarrier | ClusterWrites): S {
  for (const name of [...CONFIRMED, 'find'] as const) {
    const call = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>
    const confirmed = async (...args: unknown[]): Promise<unknown> => {
      const result = await call(...args)
      // find: nothing found is nothing to confirm.
      if (name !== 'find' || result !== undefined) {
        await (barrier instanceof ReplicaBarrier ? barrier.sync() : barrier.barrier.sync(barrier.written(name, args)))
      }
      return result
    }
    Object.assign(store, { [name]: confirmed })
  }
  return store
}
