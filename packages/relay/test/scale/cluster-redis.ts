// A Redis Cluster for tests that kill a master: three masters with a replica
// each (plus, on request, a second replica for one master), all real
// redis-server processes on free ports of 127.0.0.1 with their own directories,
// created with `redis-cli --cluster create`. Every wait polls the nodes with a
// timeout whose error says what they answered. The shared Redis on 6379 is never touched.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { keySlot } from '../../src/redis/slot'
import { freePort } from '../storage/redis-server'
import { killHard, running } from './child'

const run = promisify(execFile)

/**
 * How long a master may be unreachable before the others fail it over: the floor of every failover.
 * Not 1 s: on a loaded machine a missed ping then starts a failover nobody asked for (the Sentinel test
 * saw second failovers at 1 s).
 */
export const NODE_TIMEOUT = 2000 // ms

/** Polls `check` every 50 ms until it returns a value, or fails after `timeout` ms with `what` and the last answer. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  timeout: number,
  what: string,
  last: () => string = () => '',
): Promise<T> {
  const end = Date.now() + timeout
  let failure = ''
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      failure = (error as Error).message
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}; ${failure} ${last()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** One cluster node: a redis-server process, killable and restartable on its port and directory. */
export class ClusterNode {
  #child: ChildProcess | null = null
  output = ''
  /** Connection for the harness's questions (CLUSTER INFO, ROLE); not the relays'. */
  readonly admin: Redis

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.admin = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 100,
    })
    this.admin.on('error', () => {}) // a killed node is expected to refuse
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.output = ''
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '']
    args.push('--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no')
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf')
    args.push('--cluster-node-timeout', String(NODE_TIMEOUT))
    // The other masters' slots keep serving while one master's are failed over (docs/scaling.md).
    args.push('--cluster-require-full-coverage', 'no')
    // The setting docs/scaling.md recommends: a master without a replica refuses writes.
    args.push('--min-replicas-to-write', '1', '--min-replicas-max-lag', '10')
    args.push('--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0')
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    const take = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000)
    }
    child.stdout?.on('data', take)
    child.stderr?.on('data', take)
    const exited = once(child, 'exit').then(([code, signal]) => {
      throw new Error(`redis-server on ${this.port} exited (${code ?? signal}):\n${this.output}`)
    })
    const ready = until(
      async () => (this.output.includes('Ready to accept connections') ? true : undefined),
      10_000,
      `redis-server on ${this.port} to start`,
      () => this.output.slice(-1000),
    )
    await Promise.race([ready, exited])
    exited.catch(() => {}) // later exits are the test's doing
    if (this.admin.status === 'wait') await this.admin.connect().catch(() => {})
  }

  get running(): boolean {
    return running(this.#child)
  }

  kill(): Promise<void> {
    return killHard(this.#child)
  }

  /** Sends `signal` (SIGSTOP, SIGCONT) to the process. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal)
  }

  /** `ROLE`'s first field: 'master' or 'slave'. */
  async role(): Promise<string> {
    const [role] = (await this.admin.call('ROLE')) as [string]
    return role
  }

  async info(section: string): Promise<string> {
    return (await this.admin.call(
      section === 'cluster' ? 'CLUSTER' : 'INFO',
      section === 'cluster' ? 'INFO' : section,
    )) as string
  }
}

/** Times of a failover, in ms from the master's SIGKILL. */
export interface ClusterFailover {
  /** To the replica answering ROLE as master. */
  promotedAfter: number
  /** To `cluster_state:ok` on every live node again, with the promoted master holding a replica. */
  healedAfter: number
}

/** Three masters with a replica each. */
export class RedisClusterSet {
  readonly #root = mkdtempSync(join(tmpdir(), 'confab-cluster-'))
  readonly nodes: ClusterNode[] = []

  private constructor() {}

  static async start(): Promise<RedisClusterSet> {
    const set = new RedisClusterSet()
    try {
      for (let i = 0; i < 6; i++) await set.#node()
      await Promise.all(set.nodes.map((node) => node.start()))
      await run('redis-cli', [
        '--cluster',
        'create',
        ...set.nodes.map((node) => node.address),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ])
      await set.settled(30_000)
    } catch (error) {
      await set.stop()
      throw error
    }
    return set
  }

  async #node(): Promise<ClusterNode> {
    const port = await freePort()
    const dir = join(this.#root, String(port))
    mkdirSync(dir)
    const node = new ClusterNode(port, dir)
    this.nodes.push(node)
    return node
  }

  /** `host:port` of every node, for REDIS_CLUSTER. */
  get addresses(): string[] {
    return this.nodes.map((node) => node.address)
  }

  /** The command-line arguments that point a relay at this cluster. */
  get args(): string[] {
    return ['--redis-cluster', this.addresses.join(',')]
  }

  get live(): ClusterNode[] {
    return this.nodes.filter((node) => node.running)
  }

  /** Resolves once every live node says `cluster_state:ok` and every master has a replica online. */
  async settled(timeout: number): Promise<void> {
    let last = ''
    await until(
      async () => {
        const states = await Promise.all(this.live.map((node) => node.info('cluster')))
        last = states.map((s) => /cluster_state:\w+/.exec(s)?.[0]).join(' ')
        if (!states.every((s) => s.includes('cluster_state:ok'))) return undefined
        for (const node of this.live) {
          if ((await node.role()) !== 'master') continue
          const replication = await node.info('replication')
          if (!/slave\d+:.*state=online/.test(replication)) {
            last = `master ${node.port} without an online replica`
            return undefined
          }
        }
        return true
      },
      timeout,
      'the cluster to settle',
      () => last,
    )
  }

  /** The live node that is master of `key`'s slot. */
  async masterOf(key: string): Promise<ClusterNode> {
    const slot = keySlot(key)
    const ranges = (await (this.live[0] as ClusterNode).admin.call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][]
    const range = ranges.find(([from, to]) => from <= slot && slot <= to)
    const node = this.nodes.find((n) => n.port === Number(range?.[2][1]))
    if (!node) throw new Error(`no master for slot ${slot} in ${JSON.stringify(ranges)}`)
    return node
  }

  /** Adds a new node as a second replica of `master` and waits until it is in sync. */
  async addReplica(master: ClusterNode): Promise<ClusterNode> {
    const node = await this.#node()
    await node.start()
    const id = String(await master.admin.call('CLUSTER', 'MYID'))
    await run('redis-cli', [
      '--cluster',
      'add-node',
      node.address,
      master.address,
      '--cluster-slave',
      '--cluster-master-id',
      id,
    ])
    await until(
      async () => ((await master.info('replication')).match(/state=online/g)?.length === 2 ? true : undefined),
      20_000,
      `a second replica of ${master.port} in sync`,
    )
    await this.settled(20_000)
    return node
  }

  /** SIGKILLs `master` and waits for one of its replicas to take over; the old master stays down. */
  async failover(master: ClusterNode, replicas: ClusterNode[]): Promise<ClusterFailover> {
    const killedAt = Date.now()
    await master.kill()
    await until(
      async () => {
        for (const replica of replicas) if ((await replica.role().catch(() => '')) === 'master') return true
        return undefined
      },
      30_000,
      `a replica of ${master.port} promoted`,
    )
    const promotedAfter = Date.now() - killedAt
    await this.settled(30_000)
    return { promotedAfter, healedAfter: Date.now() - killedAt }
  }

  /** The live replicas of `master`, from its INFO replication. */
  async replicasOf(master: ClusterNode): Promise<ClusterNode[]> {
    const replication = await master.info('replication')
    const ports = [...replication.matchAll(/slave\d+:ip=[^,]+,port=(\d+)/g)].map((m) => Number(m[1]))
    return this.nodes.filter((node) => ports.includes(node.port))
  }

  /** What each node says about the cluster, for failure messages. */
  async diagnostics(): Promise<string> {
    const lines: string[] = []
    for (const node of this.nodes) {
      if (!node.running) {
        lines.push(`${node.port}: down`)
        continue
      }
      const nodes = await node.admin.call('CLUSTER', 'NODES').catch((error: Error) => error.message)
      lines.push(`${node.port}:\n${String(nodes)}\n${node.output.slice(-1500)}`)
    }
    return lines.join('\n')
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) node.admin.disconnect()
    await Promise.all(this.nodes.map((node) => node.kill()))
    rmSync(this.#root, { recursive: true, force: true })
  }
}
