// A Sentinel-managed Redis for tests that kill the master (sentinel.test.ts and
// the soak): one master, two replicas and three Sentinels (quorum 2), all real
// redis-server processes on free ports of 127.0.0.1 with their own directories.
// Every wait is on a Sentinel event or a line of output, with a timeout whose
// error carries the recent Sentinel events. The shared Redis on 6379 is never touched.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from '../storage/redis-server'
import { killHard, running } from './child'

/** The master name the Sentinels watch. */
export const MASTER_NAME = 'confab-test'
/**
 * How long a master may be silent before a Sentinel thinks it down: the floor of every failover.
 * Not 1 s: a Sentinel gives a master it has just switched to that long to answer its first PING,
 * and on a loaded machine a miss there starts a second failover, away from the replica just promoted.
 */
const DOWN_AFTER = 2000 // ms
/** How often a wait re-checks its condition when no event came. */
const RECHECK = 250 // ms

/** One redis-server process (a data node or a Sentinel), restartable on its port. */
class RedisProcess {
  #child: ChildProcess | null = null
  /** What the process printed, for failure messages and for waiting on a line. */
  output = ''
  readonly #lines = new Set<{ pattern: RegExp; resolve: () => void }>()

  constructor(
    readonly port: number,
    readonly dir: string,
    /** Called on every chunk of output. */
    readonly onOutput: () => void = () => {},
  ) {}

  /** Starts `redis-server ...args` and resolves once `ready` appears in its output. */
  async start(args: string[], ready: RegExp): Promise<void> {
    this.output = ''
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    const take = (chunk: Buffer) => {
      this.output += chunk.toString()
      this.onOutput()
      for (const waiter of this.#lines) {
        if (waiter.pattern.test(this.output)) {
          this.#lines.delete(waiter)
          waiter.resolve()
        }
      }
    }
    child.stdout?.on('data', take)
    child.stderr?.on('data', take)
    const exited = once(child, 'exit').then(([code, signal]) => {
      throw new Error(`redis-server on ${this.port} exited (${code ?? signal}):\n${this.output}`)
    })
    await Promise.race([this.line(ready, 10_000), exited])
    exited.catch(() => {}) // later exits are the test's doing
  }

  /** Resolves once the output (so far or to come) matches `pattern`. */
  line(pattern: RegExp, timeout: number): Promise<void> {
    if (pattern.test(this.output)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#lines.delete(waiter)
        reject(new Error(`redis-server on ${this.port}: no ${pattern} in ${timeout} ms:\n${this.output.slice(-2000)}`))
      }, timeout)
      const waiter = {
        pattern,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      this.#lines.add(waiter)
    })
  }

  get running(): boolean {
    return running(this.#child)
  }

  kill(): Promise<void> {
    return killHard(this.#child)
  }
}

/** A Sentinel event: its channel (`+switch-master`, `+sdown`, …) and payload. */
interface SentinelEvent {
  channel: string
  message: string
  at: number
}

/** Times of a failover, in ms from the master's SIGKILL. */
export interface Promotion {
  /** To `+switch-master`: a replica promoted. */
  promotedAfter: number
  /** To `+slave-reconf-done` (the surviving replica follows the new master), if seen by then. */
  reconfiguredAfter: number | null
}

/** A failover after which the old master rejoined as a replica. */
export interface Healing extends Promotion {
  /** To both replicas healthy again, as the Sentinels and the new master see them. */
  healedAfter: number
}

/** Master, two replicas, three Sentinels. */
export class SentinelSet {
  readonly #root = mkdtempSync(join(tmpdir(), 'confab-sentinel-'))
  readonly #data: RedisProcess[] = []
  readonly #sentinels: RedisProcess[] = []
  /** Connections to each Sentinel: one subscribed to every event, one for queries. */
  readonly #watchers: Redis[] = []
  readonly #queries: Redis[] = []
  readonly #waiters = new Set<() => void>()
  /** Every event any Sentinel published since the set started. */
  readonly events: SentinelEvent[] = []

  private constructor() {}

  static async start(): Promise<SentinelSet> {
    const set = new SentinelSet()
    try {
      await set.#start()
    } catch (error) {
      await set.stop()
      throw error
    }
    return set
  }

  /** `host:port` of each Sentinel, for REDIS_SENTINELS. */
  get sentinels(): string[] {
    return this.#sentinels.map((s) => `127.0.0.1:${s.port}`)
  }

  /** `--redis-sentinels` and `--redis-sentinel-name` for a relay command line. */
  get args(): string[] {
    return ['--redis-sentinels', this.sentinels.join(','), '--redis-sentinel-name', MASTER_NAME]
  }

  async #start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(this.#root, `data-${i}-`))
      this.#data.push(new RedisProcess(await freePort(), dir, () => this.#wake()))
    }
    const [master, ...replicas] = this.#data as [RedisProcess, RedisProcess, RedisProcess]
    await this.#startData(master, null)
    await Promise.all(replicas.map((replica) => this.#startData(replica, master.port)))
    for (let i = 0; i < 3; i++) {
      const sentinel = new RedisProcess(await freePort(), mkdtempSync(join(this.#root, `sentinel-${i}-`)))
      const config = join(sentinel.dir, 'sentinel.conf')
      writeFileSync(
        config,
        [
          `port ${sentinel.port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          'daemonize no',
          `dir ${sentinel.dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER}`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 2`,
          '',
        ].join('\n'),
      )
      await sentinel.start([config, '--sentinel'], /\+monitor master/)
      this.#sentinels.push(sentinel)
      const watcher = new Redis({ host: '127.0.0.1', port: sentinel.port, lazyConnect: true })
      const query = new Redis({ host: '127.0.0.1', port: sentinel.port, lazyConnect: true })
      watcher.on('error', () => {}) // a query below reports what matters
      query.on('error', () => {})
      await Promise.all([watcher.connect(), query.connect()])
      watcher.on('pmessage', (_pattern: string, channel: string, message: string) => {
        this.events.push({ channel, message, at: Date.now() })
        this.#wake()
      })
      await watcher.psubscribe('*')
      this.#watchers.push(watcher)
      this.#queries.push(query)
    }
    // Ready once every Sentinel knows both replicas and the two other Sentinels (hello messages every 2 s).
    await this.#until(() => this.#discovered(), 20_000, 'Sentinels to discover each other and the replicas')
  }

  /** Starts a data node, as a replica of `of` unless null; resolves once it serves (and, for a replica, is in sync). */
  async #startData(node: RedisProcess, of: number | null): Promise<void> {
    const args = ['--port', String(node.port), '--bind', '127.0.0.1', '--dir', node.dir, '--save', '']
    args.push('--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no')
    // As docs/scaling.md recommends: a master cut off from every replica refuses writes.
    args.push('--min-replicas-to-write', '1', '--min-replicas-max-lag', '10')
    // A replica that needs a full sync (after a second failover, say) gets it at once, not after 5 s.
    args.push('--repl-diskless-sync-delay', '0')
    if (of !== null) args.push('--replicaof', '127.0.0.1', String(of))
    await node.start(args, /Ready to accept connections/)
    if (of !== null) await node.line(/MASTER <-> REPLICA sync: Finished with success/, 10_000)
  }

  /**
   * True when every Sentinel knows the two other Sentinels and two replicas it does not
   * think down, and the master has both replicas online (streaming).
   */
  async #discovered(): Promise<boolean> {
    const views = await Promise.all(
      this.#queries.map(async (query) => {
        const [sentinels, replicas] = (await Promise.all([
          query.call('SENTINEL', 'SENTINELS', MASTER_NAME),
          query.call('SENTINEL', 'REPLICAS', MASTER_NAME),
        ])) as [string[][], string[][]]
        const up = replicas.filter(
          (fields) => !/s_down|o_down|disconnected/.test(fields[fields.indexOf('flags') + 1] ?? ''),
        )
        return sentinels.length === 2 && up.length === 2
      }),
    )
    if (!views.every(Boolean)) return false
    const master = new Redis({
      host: '127.0.0.1',
      port: await this.masterPort(),
      lazyConnect: true,
      retryStrategy: () => null,
    })
    master.on('error', () => {})
    try {
      await master.connect()
      const info = await master.info('replication')
      return (info.match(/^slave\d+:.*state=online/gm) ?? []).length === 2
    } catch {
      return false
    } finally {
      master.disconnect()
    }
  }

  #wake(): void {
    for (const wake of this.#waiters) wake()
  }

  /**
   * Re-checks `ready` on every Sentinel event and line of data-node output (and once now), and
   * every RECHECK ms besides, until it holds: some changes (a Sentinel clearing a replica's
   * `disconnected` flag, INFO turning a replica `online`) come with no event at all.
   */
  async #until(ready: () => Promise<boolean>, timeout: number, what: string): Promise<void> {
    if (await ready()) return
    await new Promise<void>((resolve, reject) => {
      // A wake during a check runs one more check after it, so no change goes unseen.
      let checking = false
      let again = false
      const wake = (): void => {
        if (checking) {
          again = true
          return
        }
        checking = true
        again = false
        ready()
          .catch(() => false)
          .then((ok) => {
            checking = false
            if (ok) {
              clearTimeout(timer)
              clearInterval(recheck)
              this.#waiters.delete(wake)
              resolve()
            } else if (again) wake()
          })
      }
      const recheck = setInterval(wake, RECHECK)
      const timer = setTimeout(() => {
        clearInterval(recheck)
        this.#waiters.delete(wake)
        const recent = this.events.slice(-20).map((e) => `${e.channel} ${e.message}`)
        reject(
          new Error(`timed out after ${timeout} ms waiting for ${what}; last Sentinel events:\n${recent.join('\n')}`),
        )
      }, timeout)
      this.#waiters.add(wake)
    })
  }

  /** The port of the master the Sentinels name now. */
  async masterPort(): Promise<number> {
    const query = this.#queries[0] as Redis
    const [, port] = (await query.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string]
    return Number(port)
  }

  /**
   * SIGKILLs the master and resolves once the Sentinels have promoted a replica
   * (`+switch-master`), with the time that took. Unless `rejoin` is false, then starts
   * the old master again as a replica of the new one and waits until the Sentinels see
   * both replicas healthy, so the next failover finds the same set.
   */
  failover(options?: { rejoin?: true }): Promise<Healing>
  failover(options: { rejoin: false }): Promise<Promotion>
  async failover({ rejoin = true }: { rejoin?: boolean } = {}): Promise<Promotion | Healing> {
    const port = await this.masterPort()
    const old = this.#data.find((node) => node.port === port)
    if (!old) throw new Error(`the Sentinels name port ${port}, which is none of the data nodes`)
    const from = this.events.length
    const killedAt = Date.now()
    await old.kill()
    let switched: SentinelEvent | undefined
    await this.#until(
      async () => {
        switched = this.events.slice(from).find((e) => e.channel === '+switch-master')
        return switched !== undefined
      },
      30_000,
      '+switch-master',
    )
    const promotedAfter = (switched as SentinelEvent).at - killedAt
    // The surviving replica, told to follow the new master: until it does, a write cannot be confirmed by a replica.
    const reconfiguredAfter = (): number | null => {
      const reconfigured = this.events.slice(from).find((e) => e.channel === '+slave-reconf-done')
      return reconfigured ? reconfigured.at - killedAt : null
    }
    if (!rejoin) return { promotedAfter, reconfiguredAfter: reconfiguredAfter() }
    await this.#startData(old, await this.masterPort())
    await this.#until(() => this.#discovered(), 30_000, 'both replicas healthy again after the failover')
    return { promotedAfter, reconfiguredAfter: reconfiguredAfter(), healedAfter: Date.now() - killedAt }
  }

  /** Each running data node's role and replication state, then the last Sentinel events: for failure messages. */
  async diagnostics(): Promise<string> {
    const roles = await Promise.all(
      this.#data
        .filter((node) => node.running)
        .map(async (node) => {
          const client = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, retryStrategy: () => null })
          client.on('error', () => {})
          try {
            await client.connect()
            const info = await client.info('replication')
            const fields = info
              .split('\r\n')
              .filter((line) => /^(role|master_port|master_link_status|connected_slaves|slave\d)/.test(line))
            return `${node.port}: ${fields.join(' ')}`
          } catch (error) {
            return `${node.port}: ${(error as Error).message}`
          } finally {
            client.disconnect()
          }
        }),
    )
    const start = this.events[0]?.at ?? 0
    const all = this.events.map((e) => `+${e.at - start} ms ${e.channel} ${e.message}`)
    return `data nodes:\n${roles.join('\n')}\nSentinel events since the start (every Sentinel's, so most come three times):\n${all.join('\n')}`
  }

  async stop(): Promise<void> {
    for (const redis of [...this.#watchers, ...this.#queries]) redis.disconnect()
    await Promise.all([...this.#sentinels, ...this.#data].map((p) => p.kill()))
    rmSync(this.#root, { recursive: true, force: true })
  }
}
