// The Lua script runner's order after NOSCRIPT, with a Redis stand-in whose answers the test releases
// one by one: pipelined appends must reach Redis in the order they were made, retries included.
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { LuaScript } from '../../src/redis/script'

/** Records what is written, in order, and answers each command only when the test says. */
class ScriptlessRedis {
  readonly written: string[] = []
  readonly #waiting: Array<{ command: string; resolve: (v: unknown) => void; reject: (e: Error) => void }> = []
  /** Whether the server holds the script: false after a restart or SCRIPT FLUSH; an EVAL loads it. */
  loaded = false

  evalsha(_sha: string, _n: number, ...args: (string | number)[]): Promise<unknown> {
    return this.#write(`evalsha ${args.at(-1)}`)
  }

  eval(_source: string, _n: number, ...args: (string | number)[]): Promise<unknown> {
    return this.#write(`eval ${args.at(-1)}`)
  }

  #write(command: string): Promise<unknown> {
    this.written.push(command)
    return new Promise((resolve, reject) => this.#waiting.push({ command, resolve, reject }))
  }

  /** Redis runs the oldest unanswered command and answers it (a connection answers in order). */
  async answerNext(): Promise<void> {
    const next = this.#waiting.shift()
    if (next === undefined) throw new Error('nothing to answer')
    if (next.command.startsWith('eval ')) this.loaded = true
    if (next.command.startsWith('evalsha') && !this.loaded) next.reject(new Error('NOSCRIPT No matching script.'))
    else next.resolve(next.command.split(' ')[1])
    // Let the runner's continuations write what they write in answer.
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('LuaScript after NOSCRIPT', () => {
  it('keeps calls in the order they were made: one made while retries are pending waits for them', async () => {
    const redis = new ScriptlessRedis()
    const script = new LuaScript('return ARGV[1]')
    const run = (name: string) => script.run(redis as unknown as Redis, ['k'], [name])
    const replies = [run('a'), run('b')]
    await redis.answerNext() // a: NOSCRIPT, re-sent as EVAL (which loads the script)
    replies.push(run('c')) // made after a's EVAL went out, before b's NOSCRIPT came back
    await redis.answerNext() // b: NOSCRIPT, re-sent as EVAL
    while (redis.written.length < 5) await redis.answerNext()
    expect(redis.written).toEqual(['evalsha a', 'evalsha b', 'eval a', 'eval b', 'evalsha c'])
    for (let i = 0; i < 3; i++) await redis.answerNext()
    expect(await Promise.all(replies)).toEqual(['a', 'b', 'c'])
  })

  it('writes every call at once while the script is known', async () => {
    const redis = new ScriptlessRedis()
    redis.loaded = true
    const script = new LuaScript('return ARGV[1]')
    const replies = ['a', 'b', 'c'].map((name) => script.run(redis as unknown as Redis, ['k'], [name]))
    expect(redis.written).toEqual(['evalsha a', 'evalsha b', 'evalsha c'])
    for (let i = 0; i < 3; i++) await redis.answerNext()
    expect(await Promise.all(replies)).toEqual(['a', 'b', 'c'])
  })
})
