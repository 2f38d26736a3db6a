import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * One Redis connection's script calls: how many EVALSHAs are unanswered, and,
 * while the server is found without its scripts, the calls held back.
 */
interface Lane {
  unanswered: number
  /** Set from a NOSCRIPT answer until every EVALSHA sent before it is answered: calls made meanwhile wait here. */
  held: (() => void)[] | null
}

const lanes = new WeakMap<Redis, Lane>()

function laneOf(redis: Redis): Lane {
  let lane = lanes.get(redis)
  if (lane === undefined) {
    lane = { unanswered: 0, held: null }
    lanes.set(redis, lane)
  }
  return lane
}

const isNoScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith('NOSCRIPT')

/**
 * A Lua script sent by SHA once Redis knows it: EVALSHA first, EVAL when the
 * server answers NOSCRIPT (it restarted, or SCRIPT FLUSH ran).
 *
 * Calls reach Redis in the order they are made, a retry too, because the
 * relay pipelines a connection's appends and their offsets must follow the
 * order they were sent in: after a NOSCRIPT, a new call could otherwise run
 * (its EVALSHA finding the script a retry's EVAL just loaded) before the EVAL
 * retries of calls made earlier. So from a NOSCRIPT answer until every EVALSHA
 * sent before it is answered (each failed one re-sent as EVAL, in answer
 * order), new calls on that connection are held, then sent in order. In
 * normal running nothing waits: the command is written in the same tick.
 */
export class LuaScript {
  readonly #sha: string

  constructor(readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  /** Runs the script with `keys` as KEYS and `args` as ARGV. */
  run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    const lane = laneOf(redis)
    const held = lane.held
    if (held === null) return this.#send(redis, lane, keys, args)
    return new Promise((resolve, reject) => {
      held.push(() => this.#send(redis, lane, keys, args).then(resolve, reject))
    })
  }

  #send(redis: Redis, lane: Lane, keys: string[], args: (string | number)[]): Promise<unknown> {
    lane.unanswered++
    return redis.evalsha(this.#sha, keys.length, ...keys, ...args).then(
      (reply) => {
        answered(lane)
        return reply
      },
      (error: unknown) => {
        if (!isNoScript(error)) {
          answered(lane)
          throw error
        }
        lane.held ??= []
        // Written now, before any held call: the answers of earlier EVALSHAs came (and were re-sent) first.
        const retry = redis.eval(this.source, keys.length, ...keys, ...args)
        answered(lane)
        return retry
      },
    )
  }
}

/** One EVALSHA was answered; the last one of a NOSCRIPT spell releases the held calls, in order. */
function answered(lane: Lane): void {
  lane.unanswered--
  if (lane.unanswered > 0 || lane.held === null) return
  const held = lane.held
  lane.held = null
  for (const send of held) send()
}
