import { randomUUID } from 'node:crypto'
import type { Member } from '@confab/sdk/protocol'
import type { Cluster, Redis } from 'ioredis'
import type { MemberPage, Presence, PresenceGoneHandler } from '../presence/types'
import { StoreUnavailableError } from '../store/types'
import { guarded, storeError } from './guard'
import { decode, encode, RedisKeys } from './keys'
import { ADD_LUA, FORGET_LUA, HEARTBEAT_LUA, PAGE_LUA, REMOVE_LUA, SWEEP_ROOM_LUA } from './presence-lua'
import { LuaScript } from './script'

/** Options of Redis presence. */
export interface RedisPresenceOptions {
  /** Key names (default prefix 'confab:'); cluster names (`new RedisKeys(prefix, true)`) with a `Cluster`. */
  keys?: RedisKeys
  /** This node's id, [A-Za-z0-9_.-] (default: a random UUID per process). */
  nodeId?: string
  /** How often this node refreshes its liveness key, in ms (default 10,000). */
  heartbeatInterval?: number
  /** How long the liveness key lives without a refresh, in ms (default 30,000). */
  nodeTtl?: number
  /** How often this node looks for dead nodes to sweep, in ms (default 5,000). */
  sweepInterval?: number
  /** Where failures that reach no caller go (default: console.error). */
  onError?: (error: unknown) => void
}

const add = new LuaScript(ADD_LUA)
const remove = new LuaScript(REMOVE_LUA)
const heartbeat = new LuaScript(HEARTBEAT_LUA)
const sweepRoom = new LuaScript(SWEEP_ROOM_LUA)
const forget = new LuaScript(FORGET_LUA)
const page = new LuaScript(PAGE_LUA)

/**
 * Presence across nodes: each node records its own members and keeps a
 * liveness key alive with a heartbeat. When a node stops heartbeating (SIGKILL,
 * partition) its key expires, and the next sweep on any live node removes the
 * dead node's members and reports the users who left to `watch`: exactly one
 * node reports each leave, so the registry must broadcast it through the broker.
 * A dead node is noticed within `nodeTtl + sweepInterval` (35 s by default).
 *
 * On a Redis Cluster (cluster key names) each script touches one room's slot
 * and the node-wide keys are changed beside it: the node's room set before a
 * member is added (so a sweep always finds the room) and at once when its
 * last one leaves, liveness checked just before a room is swept.
 */
export class RedisPresence implements Presence {
  /** This node's id in Redis. */
  readonly nodeId: string
  readonly #redis: Redis
  readonly #keys: RedisKeys
  /** '1' on a cluster: the scripts leave the node-wide keys to this class (see presence-lua.ts). */
  readonly #split: '1' | ''
  readonly #ttl: number
  readonly #onError: (error: unknown) => void
  /** What this node added, to re-register after its entries were swept or lost. */
  readonly #mine = new Map<string, Map<string, Member>>()
  /** Removals that failed while Redis was unreachable, retried on the next heartbeat. */
  readonly #pending = new Map<string, Map<string, Member>>()
  readonly #timers: NodeJS.Timeout[] = []
  #onGone: PresenceGoneHandler = () => {}
  #sweeping = false

  constructor(redis: Redis | Cluster, options: RedisPresenceOptions = {}) {
    this.nodeId = options.nodeId ?? randomUUID()
    if (!/^[A-Za-z0-9_.-]+$/.test(this.nodeId)) throw new Error(`presence nodeId must match [A-Za-z0-9_.-]+`)
    // One Redis and a cluster answer the same commands; cluster key names say which it is.
    this.#redis = redis as Redis
    this.#keys = options.keys ?? new RedisKeys()
    this.#split = this.#keys.cluster ? '1' : ''
    this.#ttl = options.nodeTtl ?? 30_000 // 30 seconds
    this.#onError = options.onError ?? ((error) => console.error('confab presence:', error))
    const beat = options.heartbeatInterval ?? 10_000 // 10 seconds
    const sweep = options.sweepInterval ?? 5_000 // 5 seconds
    if (beat >= this.#ttl) throw new Error('presence heartbeatInterval must be shorter than nodeTtl')
    this.#timers.push(setInterval(() => void this.heartbeat(), beat).unref())
    this.#timers.push(setInterval(() => void this.sweep(), sweep).unref())
  }

  /** Registers this node as alive; the backend awaits it before the relay adds anyone. */
  async start(): Promise<void> {
    await guarded(this.#beat())
  }

  async add(room: string, member: Member): Promise<boolean> {
    const fresh = await guarded(this.#add(room, member))
    // Back before a queued removal went through: the entry stays, nobody saw a leave.
    this.#pending.get(room)?.delete(member.id)
    let members = this.#mine.get(room)
    if (!members) {
      members = new Map()
      this.#mine.set(room, members)
    }
    members.set(member.id, member)
    return fresh
  }

  /**
   * While Redis is unreachable the removal is queued and resolves false; once
   * it goes through, a user who left the room entirely is reported to `watch`.
   */
  async remove(room: string, member: Member): Promise<boolean> {
    const members = this.#mine.get(room)
    if (!members?.delete(member.id)) return false
    if (members.size === 0) this.#mine.delete(room)
    try {
      return await guarded(this.#remove(room, member))
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      let pending = this.#pending.get(room)
      if (!pending) {
        pending = new Map()
        this.#pending.set(room, pending)
      }
      pending.set(member.id, member)
      return false
    }
  }

  async list(room: string): Promise<Member[]> {
    const entries = await guarded(this.#redis.hgetall(this.#keys.members(room)))
    const nodes = [...new Set(Object.keys(entries).map(nodeOf))].filter((node) => node !== this.nodeId)
    const alive = new Set([this.nodeId])
    if (nodes.length > 0) {
      const flags = await guarded(this.#alive(nodes))
      for (const [i, node] of nodes.entries()) if (flags[i] !== null) alive.add(node)
    }
    const users = new Map<string, Member>()
    for (const [field, json] of Object.entries(entries)) {
      if (!alive.has(nodeOf(field))) continue
      const member = JSON.parse(json) as Member
      if (!users.has(member.id)) users.set(member.id, member)
    }
    return [...users.values()]
  }

  count(room: string): Promise<number> {
    return guarded(this.#redis.zcard(this.#keys.memberIndex(room)))
  }

  async page(room: string, after: string | undefined, limit: number): Promise<MemberPage> {
    const keys = this.#keys
    const flat = (await guarded(
      page.run(this.#redis, [keys.memberIndex(room), keys.memberInfo(room)], [after ?? '', limit]),
    )) as string[]
    const members: Member[] = []
    for (let i = 0; i < flat.length && members.length < limit; i += 2) {
      const json = flat[i + 1] as string
      // An index entry without info predates the info hash (a node of an older version added it).
      members.push(json === '' ? { id: flat[i] as string, name: '' } : (JSON.parse(json) as Member))
    }
    const more = flat.length > limit * 2
    return { members, cursor: more ? (members[members.length - 1]?.id ?? null) : null }
  }

  watch(onGone: PresenceGoneHandler): void {
    this.#onGone = onGone
  }

  /** Stops heartbeating and drops the liveness key, so other nodes sweep anything left at once. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer)
    this.#mine.clear()
    this.#pending.clear()
    this.#onGone = () => {}
    try {
      await guarded(this.#redis.del(this.#keys.alive(this.nodeId)))
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error // unreachable: the TTL retires the key instead
    }
  }

  /** Refreshes liveness; re-registers this node's members if the key had expired; retries queued removals. */
  async heartbeat(): Promise<void> {
    try {
      const existed = await this.#beat()
      if (!existed) {
        for (const [room, members] of this.#mine) for (const member of members.values()) await this.#add(room, member)
      }
      for (const [room, members] of this.#pending) {
        for (const member of [...members.values()]) {
          const gone = await this.#remove(room, member)
          members.delete(member.id)
          if (gone) this.#onGone(room, [member])
        }
        if (members.size === 0) this.#pending.delete(room)
      }
    } catch (error) {
      this.#report(error)
    }
  }

  /** Removes the members of every node whose liveness key expired, reporting who left. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return
    this.#sweeping = true
    try {
      const nodes = (await this.#redis.smembers(this.#keys.nodes())).filter((node) => node !== this.nodeId)
      if (nodes.length === 0) return
      const flags = await this.#alive(nodes)
      for (const [i, node] of nodes.entries()) if (flags[i] === null) await this.#sweepNode(node)
    } catch (error) {
      this.#report(error)
    } finally {
      this.#sweeping = false
    }
  }

  /** The liveness keys of `nodes` (null: expired); on a cluster one GET each, their slots differ. */
  #alive(nodes: string[]): Promise<(string | null)[]> {
    const keys = nodes.map((node) => this.#keys.alive(node))
    if (this.#split === '') return this.#redis.mget(keys)
    return Promise.all(keys.map((key) => this.#redis.get(key)))
  }

  async #sweepNode(node: string): Promise<void> {
    const keys = this.#keys
    const split = this.#split === '1'
    for (const encoded of await this.#redis.smembers(keys.nodeRooms(node))) {
      const room = decode(encoded)
      // On a cluster the script cannot see the node's keys: check it is still dead just before.
      if (split && (await this.#redis.exists(keys.alive(node))) === 1) return
      const gone = (await sweepRoom.run(
        this.#redis,
        [
          keys.members(room),
          keys.memberNodes(room),
          split ? keys.members(room) : keys.alive(node),
          split ? keys.members(room) : keys.nodeRooms(node),
          keys.memberIndex(room),
          keys.memberInfo(room),
        ],
        [node, encoded, this.#split],
      )) as string[]
      if (split) await this.#redis.srem(keys.nodeRooms(node), encoded)
      if (gone.length > 0)
        this.#onGone(
          room,
          gone.map((json) => JSON.parse(json) as Member),
        )
    }
    if (!split) {
      await forget.run(this.#redis, [keys.alive(node), keys.nodeRooms(node), keys.nodes()], [node])
    } else if ((await this.#redis.exists(keys.alive(node), keys.nodeRooms(node))) === 0) {
      // Came back meanwhile? Its next heartbeat adds it to the set again.
      await this.#redis.srem(keys.nodes(), node)
    }
  }

  async #beat(): Promise<boolean> {
    const keys = this.#keys
    const alive = keys.alive(this.nodeId)
    const beat = heartbeat.run(
      this.#redis,
      [alive, this.#split === '1' ? alive : keys.nodes()],
      [this.nodeId, this.#ttl, this.#split],
    )
    const [existed] = await Promise.all([
      beat,
      this.#split === '1' ? this.#redis.sadd(keys.nodes(), this.nodeId) : undefined,
    ])
    return existed === 1
  }

  async #add(room: string, member: Member): Promise<boolean> {
    const keys = this.#keys
    // On a cluster the room joins the node's set first, so a sweep after a crash finds every entry.
    if (this.#split === '1') await this.#redis.sadd(keys.nodeRooms(this.nodeId), encode(room))
    const fresh = await add.run(
      this.#redis,
      [
        keys.members(room),
        keys.memberNodes(room),
        this.#split === '1' ? keys.members(room) : keys.nodeRooms(this.nodeId),
        keys.memberIndex(room),
        keys.memberInfo(room),
      ],
      [this.nodeId, member.id, JSON.stringify(member), encode(room), this.#split],
    )
    return fresh === 1
  }

  async #remove(room: string, member: Member): Promise<boolean> {
    const keys = this.#keys
    const last = this.#mine.has(room) ? '0' : '1'
    // On a cluster sent in the same tick as the script would be, so a later add's SADD comes after it.
    const left =
      this.#split === '1' && last === '1' ? this.#redis.srem(keys.nodeRooms(this.nodeId), encode(room)) : null
    const gone = remove.run(
      this.#redis,
      [
        keys.members(room),
        keys.memberNodes(room),
        this.#split === '1' ? keys.members(room) : keys.nodeRooms(this.nodeId),
        keys.memberIndex(room),
        keys.memberInfo(room),
      ],
      [this.nodeId, member.id, encode(room), last, this.#split],
    )
    const [answer] = await Promise.all([gone, left])
    return answer === 1
  }

  #report(error: unknown): void {
    if (storeError(error) instanceof StoreUnavailableError) return // the connection's own 'error' events say this
    this.#onError(error)
  }
}

/** The node id of a members-hash field `node/user`. */
function nodeOf(field: string): string {
  return field.slice(0, field.indexOf('/'))
}
