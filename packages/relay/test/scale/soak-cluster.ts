// The cluster soak (`npm run soak`, and a short profile in `npm test`): two
// relay processes behind the test balancer, on a Sentinel-managed Redis
// (master, two replicas, three Sentinels), with real SDK clients publishing
// and listening through phases of connection churn, a reconnect storm, a node
// SIGKILL and a Redis master SIGKILL, cycle after cycle until the time is up.
// It returns what it measured and what it found; soak-cluster.test.ts judges.
import { type Client, ConfabError, connect, type Message, type Room } from '@confab/sdk'
import WebSocket from 'ws'
import { Balancer } from '../../../../test/support/balancer'
import { ResumingListener } from './resuming-listener'
import { SentinelSet } from './sentinel-set'
import { type ErrorLine, type NodeSample, SoakNode } from './soak-node'
import { formatPhase } from './soak-report'
import { type ListenerTally, SoakTally, type SoakVerdict } from './soak-tally'

/** What to run: sizes are per cluster; times in seconds or milliseconds as named. */
export interface SoakProfile {
  /** Total time of the phases (the drain at the end comes on top). */
  seconds: number
  /** SDK clients connected at any time, publishers included. */
  clients: number
  rooms: number
  publishersPerRoom: number
  /** Milliseconds between two sends of one publisher (the relay allows 10 per second). */
  publishEvery: number
  /** Milliseconds between two churn steps in a churn phase. */
  churnEvery: number
  /** Listeners that leave, and new ones that join, per churn step. */
  churnBatch: number
  /** Share of the SDK clients whose sockets a reconnect storm cuts at once. */
  stormShare: number
  /** Seconds of one cycle of phases; a longer soak runs several cycles. */
  cycle: number
  /** Where progress lines go. */
  log: (line: string) => void
}

/** Roughly 75 s of phases: what `npm test` runs. */
export const SHORT: Omit<SoakProfile, 'log'> = {
  seconds: 75,
  clients: 60,
  rooms: 4,
  publishersPerRoom: 2,
  publishEvery: 250,
  churnEvery: 1000,
  churnBatch: 3,
  stormShare: 0.8,
  cycle: 300,
}

/**
 * The profile for SOAK_MINUTES (default: the short one), SOAK_CLIENTS, SOAK_ROOMS and
 * SOAK_CYCLE_SECONDS (a cycle of phases lasts about this long; default 300).
 */
export function profileFromEnv(env: NodeJS.ProcessEnv, log: (line: string) => void): SoakProfile {
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`${name} must be a number from ${min} to ${max}, got "${raw}"`)
    }
    return value
  }
  const seconds = Math.round(number('SOAK_MINUTES', SHORT.seconds / 60, 0.5, 24 * 60) * 60)
  const long = seconds > SHORT.seconds
  return {
    ...SHORT,
    seconds,
    clients: Math.round(number('SOAK_CLIENTS', long ? 150 : SHORT.clients, 10, 500)),
    rooms: Math.round(number('SOAK_ROOMS', long ? 6 : SHORT.rooms, 1, 50)),
    cycle: number('SOAK_CYCLE_SECONDS', SHORT.cycle, 20, 24 * 3600),
    log,
  }
}

/** Each phase's share of a cycle. */
const SHARES = { steady: 0.2, churn: 0.2, storm: 0.15, 'node kill': 0.2, 'redis failover': 0.25 } as const
type PhaseName = keyof typeof SHARES | 'drain'
/** How long recovery from a storm, a kill or a failover may take before the soak fails. */
const RECOVERY = 30_000 // ms
/** How long the drain may take to settle every send and deliver every acked message. */
const DRAIN = 60_000 // ms

export interface PhaseReport {
  phase: PhaseName
  cycle: number
  seconds: number
  acked: number
  delivered: number
  /** Send-to-ack milliseconds of the phase's acks: median, 99th percentile, max. */
  ackLatency: { p50: number; p99: number; max: number }
  /** The longest time in the phase without any ack, in milliseconds. */
  ackPause: number
  /** Clients that dropped and came back in the phase, with their times from the event, in ms. */
  reconnects: {
    count: number
    p50: number
    max: number
    /** Of those times, the SDK's backoff before its first new socket: median. */
    backoffP50: number
    /** Sockets the clients made to get back: the most any one needed. */
    attemptsMax: number
  } | null
  /**
   * Redis failover, in ms from the master's SIGKILL: to +switch-master (a replica promoted), to the
   * other replica following it (+slave-reconf-done), to both replicas back in sync (the old master
   * restarted as a replica), and to the first ack of a publish.
   */
  failover: { promoted: number; reconfigured: number | null; healed: number; firstAck: number | null } | null
  /** Each node at the end of the phase. */
  nodes: Record<string, NodeSample & { runs: number }>
  /** Open SDK clients at the end of the phase. */
  clients: number
  /** `unavailable` answers the relays gave in the phase (publishes and joins while Redis was away). */
  unavailable: number
}

export interface SoakResult {
  profile: Omit<SoakProfile, 'log'>
  phases: PhaseReport[]
  verdicts: SoakVerdict[]
  /** Every listener holds every acked message of its room. */
  complete: boolean
  behind: string[]
  ackMismatches: number
  /** Sends rejected for anything but `timeout` (which the soak retries with the message's id), by code. */
  rejected: Record<string, number>
  timeouts: number
  /** Sends neither acked nor rejected a minute after publishing stopped. */
  unsettled: number
  /** The end of each node's output, for failure messages. */
  tails: Record<string, string>
  wire: Array<ResumingListener['stats'] & { room: string }>
  errors: ErrorLine[]
  warnings: number
  /** Clients that joined over the run (the starting ones included). */
  joined: number
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number)

/** Waits for a condition re-checked whenever `notify()` is called, with a deadline instead of a sleep. */
class Gate {
  readonly #waiters = new Set<() => void>()

  notify(): void {
    for (const check of this.#waiters) check()
  }

  until(ready: () => boolean, timeout: number, what: () => string): Promise<void> {
    if (ready()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready()) return
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`timed out after ${timeout} ms waiting for ${what()}`))
      }, timeout)
      this.#waiters.add(check)
    })
  }
}

/** One SDK client in one room: its own guest, its own socket. */
interface Member {
  name: string
  room: string
  client: Client
  /** Its Room object (the SDK's handle on `room`). */
  handle: Room
  tally: ListenerTally
  publisher: boolean
  socket: WebSocket | null
  /** Time of the last drop (status `reconnecting`), until the client is open again. */
  droppedAt: number | null
  /** Sockets made so far, and the count at the last drop. */
  sockets: number
  socketsAtDrop: number
  /** When the first socket after the last drop was made. */
  retriedAt: number | null
  closed: boolean
}

export async function runSoak(profile: SoakProfile): Promise<SoakResult> {
  const { log } = profile
  const tally = new SoakTally()
  const gate = new Gate()
  tally.onChange = () => gate.notify()
  const members: Member[] = []
  const wires: ResumingListener[] = []
  const pending = new Set<Promise<void>>()
  const rejected: Record<string, number> = {}
  let timeouts = 0
  let joined = 0
  /** Reconnect times (ms from the event) of the current phase, and the event's time. */
  let event = 0
  let reconnects: number[] = []
  let backoffs: number[] = []
  let attempts: number[] = []
  /** Ack times and latencies of the current phase. */
  let ackTimes: number[] = []
  let latencies: number[] = []
  const timers = new Set<NodeJS.Timeout>()

  const started = Date.now()
  const say = (line: string) => log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`)

  say(`starting Redis (master, 2 replicas, 3 Sentinels) and two relays`)
  const redis = await SentinelSet.start()
  const nodes: SoakNode[] = []
  let balancer: Balancer | null = null
  try {
    nodes.push(await SoakNode.start('one', redis.sentinels), await SoakNode.start('two', redis.sentinels))
    balancer = await Balancer.start(nodes.map((node) => node.port))
    const url = `ws://127.0.0.1:${balancer.port}/ws`
    const rooms = Array.from({ length: profile.rooms }, (_, i) => `soak-${i + 1}`)

    const join = (room: string, publisher: boolean): Member => {
      const name = `${publisher ? 'pub' : 'sub'}-${++joined}`
      const member = {} as Member
      // The SDK makes one WebSocket per connection attempt: keep the current one, to cut it in a storm.
      class Tracked extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols)
          member.socket = this
          member.sockets = (member.sockets ?? 0) + 1
          if (member.droppedAt !== null && member.retriedAt === null) member.retriedAt = Date.now()
        }
      }
      const client = connect(url, { WebSocket: Tracked as never, name })
      const handle = client.join(room)
      const tallied = tally.listener(name, room)
      Object.assign(member, {
        name,
        room,
        client,
        handle,
        tally: tallied,
        publisher,
        socket: member.socket ?? null,
        droppedAt: null,
        retriedAt: null,
        socketsAtDrop: 0,
        closed: false,
      })
      client.on('status', (status) => {
        if (status === 'reconnecting' && member.droppedAt === null) {
          member.droppedAt = Date.now()
          member.socketsAtDrop = member.sockets
          member.retriedAt = null
        }
        if (status === 'open' && member.droppedAt !== null) {
          // Counted against the phase's event, when the drop came after it.
          if (event > 0 && member.droppedAt >= event) {
            reconnects.push(Date.now() - event)
            backoffs.push((member.retriedAt ?? Date.now()) - event)
            attempts.push(member.sockets - member.socketsAtDrop)
          }
          member.droppedAt = null
        }
        gate.notify()
      })
      handle.on('message', (message) => tallied.receive(message))
      handle.on('presence', () => {
        if (handle.position) tallied.joinedAt(handle.position.offset)
        gate.notify()
      })
      handle.on('reset', () => tallied.resets++)
      members.push(member)
      return member
    }

    const live = () => members.filter((m) => !m.closed)
    const allOpen = () => live().every((m) => m.client.status === 'open' && m.tally.start !== undefined)
    const openCount = () => live().filter((m) => m.client.status === 'open').length

    const publish = (member: Member): void => {
      let sent = 0
      const track = (send: Promise<Message>, text: string, at: number): Promise<void> =>
        send.then(
          (message) => {
            const now = Date.now()
            ackTimes.push(now)
            latencies.push(now - at)
            tally.ack(message)
          },
          (error: unknown) => {
            const code = error instanceof ConfabError ? error.code : String(error)
            // `timeout` means "not confirmed yet, still queued": wait for it under its id.
            if (code === 'timeout' && error instanceof ConfabError && error.id !== undefined) {
              timeouts++
              return track(member.handle.send(text, { id: error.id }), text, at)
            }
            rejected[code] = (rejected[code] ?? 0) + 1
          },
        )
      const timer = setInterval(() => {
        if (member.closed) return
        const text = `${member.name} #${++sent}`
        const done = track(member.handle.send(text), text, Date.now())
        pending.add(done)
        done.finally(() => pending.delete(done))
      }, profile.publishEvery)
      timers.add(timer)
    }

    // The starting population: publishers first, listeners spread over the rooms.
    for (const room of rooms) for (let p = 0; p < profile.publishersPerRoom; p++) join(room, true)
    for (let i = members.length; i < profile.clients; i++) join(rooms[i % rooms.length] as string, false)
    for (const room of rooms) {
      const wire = new ResumingListener(url, room, `wire-${room}`, (m) => listener.receive(m))
      const listener = tally.listener(`wire-${room}`, room)
      wire.onJoined = () => gate.notify()
      wires.push(wire)
    }
    await Promise.all(wires.map((wire) => wire.start()))
    await gate.until(allOpen, RECOVERY, () => `${profile.clients} clients to connect and join (${openCount()} open)`)
    for (const member of members) if (member.publisher) publish(member)
    say(`${members.length} SDK clients and ${wires.length} wire listeners in ${rooms.length} rooms; publishing`)

    const phases: PhaseReport[] = []
    let ackedBefore = 0
    let deliveredBefore = 0
    let phaseStart = Date.now()
    const beginPhase = () => {
      phaseStart = Date.now()
      event = 0
      reconnects = []
      backoffs = []
      attempts = []
      ackTimes = []
      latencies = []
      ackedBefore = tally.acks
      deliveredBefore = tally.deliveries
    }
    const endPhase = async (phase: PhaseName, cycle: number, failover: PhaseReport['failover']) => {
      const sorted = [...latencies].sort((a, b) => a - b)
      const times = [phaseStart, ...ackTimes, Date.now()]
      let ackPause = 0
      for (let i = 1; i < times.length; i++)
        ackPause = Math.max(ackPause, (times[i] as number) - (times[i - 1] as number))
      const samples: PhaseReport['nodes'] = {}
      let unavailable = 0
      for (const node of nodes) {
        if (!node.running) continue
        const sample = { ...(await node.sample()), runs: node.runs }
        samples[node.name] = sample
        // A restarted node counts from zero again.
        const before = phases.at(-1)?.nodes[node.name]
        unavailable += sample.unavailable - (before?.runs === sample.runs ? before.unavailable : 0)
      }
      const back = [...reconnects].sort((a, b) => a - b)
      const report: PhaseReport = {
        phase,
        cycle,
        seconds: Math.round((Date.now() - phaseStart) / 100) / 10,
        acked: tally.acks - ackedBefore,
        delivered: tally.deliveries - deliveredBefore,
        ackLatency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
        ackPause,
        reconnects:
          back.length === 0
            ? null
            : {
                count: back.length,
                p50: percentile(back, 50),
                max: back.at(-1) ?? 0,
                backoffP50: percentile(
                  [...backoffs].sort((a, b) => a - b),
                  50,
                ),
                attemptsMax: Math.max(...attempts),
              },
        failover,
        nodes: samples,
        clients: openCount(),
        unavailable,
      }
      phases.push(report)
      say(formatPhase(report))
    }
    /** The phase timer: the one wait of the soak that is a duration, not an event. */
    const hold = (until: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, until - Date.now()))
        timers.add(timer)
      })
    const recovered = (what: string) =>
      gate.until(allOpen, RECOVERY, () => `every client back after ${what} (${openCount()} of ${live().length} open)`)

    const cycles = Math.max(1, Math.round(profile.seconds / profile.cycle))
    const cycleSeconds = profile.seconds / cycles
    for (let cycle = 1; cycle <= cycles; cycle++) {
      for (const phase of Object.keys(SHARES) as Array<keyof typeof SHARES>) {
        beginPhase()
        const end = phaseStart + SHARES[phase] * cycleSeconds * 1000
        let failover: PhaseReport['failover'] = null
        let acksBefore = 0
        if (phase === 'churn') {
          // Listeners leave and new guests join, at a steady pace, until the phase ends.
          const step = () => {
            const leaving = live().filter((m) => !m.publisher)
            for (let i = 0; i < profile.churnBatch && leaving.length > 0; i++) {
              const [member] = leaving.splice(Math.floor(Math.random() * leaving.length), 1) as [Member]
              member.closed = true
              member.tally.live = false
              member.client.close()
              // Its tally stays for the verdicts; the client itself is let go.
              members.splice(members.indexOf(member), 1)
              join(rooms[Math.floor(Math.random() * rooms.length)] as string, false)
            }
          }
          const timer = setInterval(step, profile.churnEvery)
          timers.add(timer)
          await hold(end)
          clearInterval(timer)
          await recovered('churn')
        } else if (phase === 'storm') {
          const targets = live().filter(() => Math.random() < profile.stormShare)
          event = Date.now()
          for (const member of targets) member.socket?.terminate()
          await gate.until(
            () => allOpen() && reconnects.length >= targets.length,
            RECOVERY,
            () => `${targets.length} clients back after the storm (${reconnects.length} back)`,
          )
          say(`storm: ${targets.length} sockets cut at once, all back in ${Math.max(...reconnects)} ms`)
        } else if (phase === 'node kill') {
          // Node one is the one killed, every cycle: node two lives the whole soak, for the memory trend.
          const victim = nodes[0] as SoakNode
          const front = balancer
          const affected = front.connections().get(victim.port) ?? 0
          event = Date.now()
          await victim.kill('SIGKILL')
          // Every connection the balancer had to node one is cut, and every client is open again (on node two).
          await gate.until(
            () => (front.connections().get(victim.port) ?? 0) === 0 && allOpen(),
            RECOVERY,
            () => `every client back after the node kill (${openCount()} of ${live().length} open)`,
          )
          say(`node kill: ${affected} connections on node one, clients back within ${Math.max(0, ...reconnects)} ms`)
          await victim.restart()
        } else if (phase === 'redis failover') {
          event = Date.now()
          acksBefore = ackTimes.length
          const { promotedAfter, reconfiguredAfter, healedAfter } = await redis.failover()
          failover = { promoted: promotedAfter, reconfigured: reconfiguredAfter, healed: healedAfter, firstAck: null }
          say(
            `redis failover: replica promoted after ${promotedAfter} ms, the other replica following it after ${reconfiguredAfter} ms, old master back as a replica after ${healedAfter} ms`,
          )
        }
        await hold(end)
        if (failover) {
          // The first ack after the promotion (acks between the kill and the promotion were written before the kill).
          const promotedAt = event + failover.promoted
          const firstAck = ackTimes.slice(acksBefore).find((at) => at >= promotedAt)
          failover.firstAck = firstAck === undefined ? null : firstAck - event
        }
        await endPhase(phase, cycle, failover)
      }
    }

    // Drain: no new sends; every send settles and every live listener catches up.
    beginPhase()
    for (const timer of timers) clearInterval(timer)
    let late: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all([...pending]),
      new Promise<void>((resolve) => {
        late = setTimeout(resolve, DRAIN)
      }),
    ]).finally(() => clearTimeout(late))
    const unsettled = pending.size
    const complete = await gate
      .until(
        () => tally.complete(),
        DRAIN,
        () => tally.behind().slice(0, 5).join('; '),
      )
      .then(
        () => true,
        () => false,
      )
    await endPhase('drain', cycles, null)

    return {
      profile: (({ log: _, ...rest }) => rest)(profile),
      phases,
      verdicts: tally.verdicts(),
      complete,
      behind: tally.behind(),
      ackMismatches: tally.ackMismatches(),
      rejected,
      timeouts,
      wire: wires.map((wire) => ({ ...wire.stats, room: wire.room })),
      unsettled,
      tails: Object.fromEntries(nodes.map((node) => [node.name, node.tail])),
      errors: nodes.flatMap((node) => node.errors),
      warnings: nodes.reduce((n, node) => n + node.warnings, 0),
      joined,
    }
  } finally {
    for (const timer of timers) clearTimeout(timer)
    for (const member of members) member.client.close()
    for (const wire of wires) wire.stop()
    await balancer?.close()
    await Promise.all(nodes.map((node) => node.kill('SIGTERM')))
    await redis.stop()
  }
}
