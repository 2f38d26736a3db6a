import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * A Lua script sent by SHA once Redis knows it: EVALSHA first, EVAL when the
 * server answers NOSCRIPT (it restarted, or SCRIPT FLUSH ran).
 */
export class LuaScript {
  readonly #sha: string

  constructor(readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  /** Runs the script with `keys` as KEYS and `args` as ARGV. */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}
