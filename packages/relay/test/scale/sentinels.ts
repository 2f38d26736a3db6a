// A Sentinel-managed Redis for failover tests, all on 127.0.0.1 and free ports:
// one master, its replicas and three `redis-server --sentinel` processes.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { vi } from 'vitest'
import { freePort, RedisServer } from '../storage/redis-server'

/** The master name the Sentinels watch. */
export const MASTER_NAME = 'confab-test'

/**
 * Durable and safe data nodes: AOF fsynced on every write (as RedisServer),
 * and a master refuses writes while no replica is connected and recent, so an
 * old master cut off from its replicas cannot take writes that a failover then drops.
 */
const DATA_NODE = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '5']

/** One Sentinel process with its own config file (Sentinel rewrites it). */
class SentinelServer {
  #child: ChildProcess | null = null
  readonly #dir = mkdtempSync(join(tmpdir(), 'confab-sentinel-'))

  private constructor(readonly port: number) {}

  static async start(masterPort: number, downAfter: number): Promise<SentinelServer> {
    const sentinel = new SentinelServer(await freePort())
    const config = join(sentinel.#dir, 'sentinel.conf')
    writeFileSync(
      config,
      [
        `port ${sentinel.port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        'daemonize no',
        `dir ${sentinel.#dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfter}`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    )
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: ['ignore', 'pipe', 'inherit'] })
    sentinel.#child = child
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sentinel not up in 10 s:\n${output}`)), 10_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('+monitor master')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`sentinel exited with ${code}:\n${output}`))
      })
    })
    child.stdout?.resume()
    return sentinel
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/** A master, `replicas` replicas and three Sentinels (quorum 2), ready for a failover when `start` resolves. */
export class SentinelGroup {
  private constructor(
    readonly master: RedisServer,
    readonly replicas: RedisServer[],
    readonly sentinels: SentinelServer[],
  ) {}

  /** `downAfter`: ms of silence before the Sentinels count the master as down. */
  static async start(replicas = 2, downAfter = 1000): Promise<SentinelGroup> {
    const master = await RedisServer.start(DATA_NODE)
    const copies = await Promise.all(
      Array.from({ length: replicas }, () =>
        RedisServer.start([...DATA_NODE, '--replicaof', '127.0.0.1', String(master.port)]),
      ),
    )
    const sentinels: SentinelServer[] = []
    for (let i = 0; i < 3; i++) sentinels.push(await SentinelServer.start(master.port, downAfter))
    const group = new SentinelGroup(master, copies, sentinels)
    // Ready means: every replica in sync, and every Sentinel knows the replicas and the two other Sentinels.
    const admin = new Redis(master.port, '127.0.0.1', { lazyConnect: true })
    try {
      await vi.waitFor(
        async () => {
          const info = await admin.info('replication')
          const online = info.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line))
          if (online.length !== replicas) throw new Error(`${online.length} of ${replicas} replicas online`)
        },
        { timeout: 15_000, interval: 50 },
      )
      for (const sentinel of sentinels) {
        const client = new Redis(sentinel.port, '127.0.0.1')
        try {
          await vi.waitFor(
            async () => {
              const others = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[]
              const known = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[]
              if (others.length !== 2 || known.length !== replicas) throw new Error('Sentinels still discovering')
            },
            { timeout: 15_000, interval: 100 },
          )
        } finally {
          client.disconnect()
        }
      }
    } catch (error) {
      await group.stop()
      throw error
    } finally {
      admin.disconnect()
    }
    return group
  }

  /** Each surviving data node's role and replication state, for failure messages. */
  async roles(): Promise<string[]> {
    return Promise.all(
      [this.master, ...this.replicas].map(async (server) => {
        const client = new Redis(server.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null })
        try {
          await client.connect()
          const info = await client.info('replication')
          return `${server.port}: ${info
            .split('\r\n')
            .filter((line) => /^(role|master_port|master_link_status|connected_slaves|slave\d)/.test(line))
            .join(' ')}`
        } catch (error) {
          return `${server.port}: ${(error as Error).message}`
        } finally {
          client.disconnect()
        }
      }),
    )
  }

  /** `--redis-sentinels` and `--redis-sentinel-name` for a relay command line. */
  get args(): string[] {
    const list = this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')
    return ['--redis-sentinels', list, '--redis-sentinel-name', MASTER_NAME]
  }

  /** The Sentinels as the `createRedisBackend` target takes them. */
  get target(): { sentinels: { host: string; port: number }[]; name: string } {
    return { sentinels: this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: MASTER_NAME }
  }

  /** A client of the first Sentinel, for its events (`+switch-master`) and questions. */
  sentinelClient(): Redis {
    return new Redis(this.sentinels[0]?.port ?? 0, '127.0.0.1')
  }

  async stop(): Promise<void> {
    await Promise.all([
      ...this.sentinels.map((s) => s.stop()),
      this.master.stop(),
      ...this.replicas.map((r) => r.stop()),
    ])
  }
}
