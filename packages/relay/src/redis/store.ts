import { randomUUID } from 'node:crypto'
import type { Action, Conversation, Member, Message, Meta, ReadPosition } from '@confab/sdk/protocol'
import type { Cluster, Redis } from 'ioredis'
import {
  type ConversationPage,
  type ConversationPatch,
  type ConversationQuery,
  clip,
  conversationId,
  decodeCursor,
  isAfter,
  matches,
  newConversation,
  pageSize,
  toPage,
} from '../store/conversations'
import {
  type Change,
  deleted,
  furthestFirst,
  notFound,
  notYours,
  READS_SHOWN,
  toChange,
  tooLate,
  tooManyReactions,
  view,
} from '../store/lifecycle'
import {
  type AppendResult,
  type Ban,
  type ChangeDraft,
  ChangeRefusedError,
  type ChangeResult,
  type DeadEvent,
  type Draft,
  type Entry,
  ERASED_NAME,
  type QueuedEvent,
  type ReadState,
  type RoomState,
  type Store,
} from '../store/types'
import { guarded } from './guard'
import { decode, encode, RedisKeys, scopedId } from './keys'
import { LuaScript } from './script'
import {
  AFTER_LUA,
  APPEND_LUA,
  BEFORE_LUA,
  CHANGE_LUA,
  ERASE_LUA,
  EXPIRE_LUA,
  FINISH_EVENT_LUA,
  LEASE_LUA,
  MARK_READ_LUA,
  PUSH_EVENT_LUA,
  READ_STATE_LUA,
  READS_LUA,
  STATE_LUA,
  UPDATE_CONVERSATION_LUA,
} from './store-lua'

/** Options of the Redis store. */
export interface RedisStoreOptions {
  /** Log entries (messages and changes) retained per room: the stream is trimmed to exactly this many (default 1,000). */
  historyLimit?: number
  /** How long a client id is remembered after its message was stored, in ms (default 600,000 = 10 minutes); ids of retained messages are remembered regardless. */
  idempotencyWindow?: number
  /** Key names (default prefix 'confab:'); cluster names (`new RedisKeys(prefix, true)`) with a `Cluster`. */
  keys?: RedisKeys
  /**
   * The deployment's epoch for rooms never written to, read once at start (required on a Redis Cluster,
   * where the scripts cannot reach that key: it is in another slot).
   */
  untouchedEpoch?: string
}

/** What a stream entry's `d` field holds: the draft without the room (the key names it). */
interface StoredDraft {
  id: string
  from: Member
  text: string
  meta?: Meta
}

/** What a change entry's `d` field holds. */
interface StoredChange {
  id: string
  from: Member
  action: Action
  target: number
  emoji?: string
}

/** A changed message's state (see store-lua.ts): text and meta as JSON, reactions as [emoji, user ids] pairs. */
interface StoredState {
  t?: string
  m?: string
  e?: number
  d?: 1
  r?: [string, string[]][]
}

const appendScript = new LuaScript(APPEND_LUA)
const changeScript = new LuaScript(CHANGE_LUA)
const afterScript = new LuaScript(AFTER_LUA)
const beforeScript = new LuaScript(BEFORE_LUA)
const markReadScript = new LuaScript(MARK_READ_LUA)
const readStateScript = new LuaScript(READ_STATE_LUA)
const readsScript = new LuaScript(READS_LUA)
const stateScript = new LuaScript(STATE_LUA)
const pushEventScript = new LuaScript(PUSH_EVENT_LUA)
const finishEventScript = new LuaScript(FINISH_EVENT_LUA)
const leaseScript = new LuaScript(LEASE_LUA)
const eraseScript = new LuaScript(ERASE_LUA)
const expireScript = new LuaScript(EXPIRE_LUA)
const updateConversationScript = new LuaScript(UPDATE_CONVERSATION_LUA)

/** Index entries read per round trip while a filtered listing fills its page. */
const SCAN_BATCH = 200

/**
 * History, offsets and idempotency in Redis, shared by every relay node: one
 * stream per room whose entry ids are the offsets, appended by a Lua script
 * that also assigns the offset and records the client id, so two nodes never
 * hand out the same offset and a resend through any node finds the original.
 * The connection is the caller's (see `createRedisBackend`); it must have the
 * offline queue off so calls fail fast with `StoreUnavailableError` while Redis is down.
 */
export class RedisStore implements Store {
  readonly #redis: Redis
  /** The same connection when it is a Redis Cluster, else null. */
  readonly #cluster: Cluster | null
  readonly #keys: RedisKeys
  readonly #limit: number
  readonly #window: number
  /** The untouched-room epoch passed to the scripts ('' : they read it themselves). */
  readonly #epoch: string

  /**
   * On a Redis Cluster, every script touches the keys of one room (one slot); the conversation index
   * and the untouched-room epoch, which are elsewhere, are handled outside the scripts (docs/scaling.md).
   */
  constructor(redis: Redis | Cluster, options: RedisStoreOptions = {}) {
    this.#keys = options.keys ?? new RedisKeys()
    // One Redis and a cluster answer the same commands; the few calls that differ go through #cluster.
    this.#redis = redis as Redis
    this.#cluster = this.#keys.cluster ? (redis as Cluster) : null
    if (this.#cluster !== null && !options.untouchedEpoch) throw new Error('a cluster store needs untouchedEpoch')
    this.#epoch = options.untouchedEpoch ?? ''
    this.#limit = options.historyLimit ?? 1000
    this.#window = options.idempotencyWindow ?? 600_000 // 10 minutes
  }

  /** The key the scripts get for the untouched-room epoch: on a cluster one of the room's (never read). */
  #untouched(room: string): string {
    return this.#cluster === null ? this.#keys.untouchedEpoch() : this.#keys.meta(room)
  }

  get ready(): boolean {
    return this.#redis.status === 'ready'
  }

  async append(draft: Draft): Promise<AppendResult> {
    const stored: StoredDraft = { id: draft.id, from: draft.from, text: draft.text, meta: draft.meta }
    const json = JSON.stringify(stored)
    const { room } = draft
    const keys = this.#keys
    const conv = draft.conversation
    const convKey = conv ? keys.conversation(conversationId(conv.visitor.id)) : undefined
    // On a cluster the index is in another slot: updated after the script (see #index).
    const convKeys = convKey === undefined ? [] : this.#cluster ? [convKey] : [convKey, keys.conversations()]
    const convArgs = conv
      ? [conv.by, JSON.stringify(newConversation(conv.visitor, 0)), clip(draft.text), conv.visitor.name]
      : ['', '', '', '']
    const reply = await guarded(
      appendScript.run(
        this.#redis,
        [
          keys.meta(room),
          keys.stream(room),
          keys.id(room, draft.from.id, draft.id),
          keys.ids(room),
          this.#untouched(room),
          keys.state(room),
          keys.reads(room),
          keys.readMoves(room),
          ...convKeys,
        ],
        [
          scopedId(draft.from.id, draft.id),
          json,
          this.#limit,
          this.#window,
          randomUUID(),
          ...convArgs,
          draft.from.id,
          this.#epoch,
        ],
      ),
    )
    const [duplicate, offset, ts, original, epoch, entry, state] = reply as [
      number,
      number,
      number,
      string,
      string,
      string?,
      (string | null)?,
    ]
    // A duplicate whose entry was trimmed away is answered from the resent draft: same id, same offset.
    const body = duplicate === 1 && original !== '' ? (JSON.parse(original) as StoredDraft) : stored
    const message = withState(toMessage(draft.room, offset, ts, body), state ?? null)
    const result: AppendResult = { message, duplicate: duplicate === 1, epoch }
    if (entry) result.conversation = fromJson(entry)
    if (this.#cluster !== null && convKey !== undefined) {
      // A resend after a failure between the script and the index finds the message stored: repair the index.
      const current = entry || (await guarded(this.#redis.hget(convKey, 'e')))
      if (current) await this.#index(fromJson(current))
    }
    return result
  }

  /**
   * On a cluster: puts the entry in the index at its latest activity. Idempotent, and never moves an entry
   * back (GT), so two nodes' updates may land in either order.
   */
  async #index(entry: Conversation): Promise<void> {
    await guarded(this.#redis.zadd(this.#keys.conversations(), 'GT', entry.lastActivityAt, entry.id))
  }

  async state(room: string): Promise<RoomState> {
    const reply = await guarded(
      stateScript.run(
        this.#redis,
        [this.#keys.meta(room), this.#keys.stream(room), this.#untouched(room)],
        [randomUUID(), this.#epoch],
      ),
    )
    const [epoch, head, length] = reply as [string, number, number]
    return { epoch, head, first: head - length + 1 }
  }

  async change(draft: ChangeDraft): Promise<ChangeResult> {
    const { room } = draft
    const keys = this.#keys
    const stored: StoredChange = {
      id: draft.id,
      from: draft.from,
      action: draft.action,
      target: draft.target,
      ...(draft.action === 'react' ? { emoji: draft.emoji ?? '' } : {}),
    }
    const reply = (await guarded(
      changeScript.run(
        this.#redis,
        [
          keys.meta(room),
          keys.stream(room),
          keys.id(room, draft.from.id, draft.id),
          keys.ids(room),
          this.#untouched(room),
          keys.state(room),
        ],
        [
          scopedId(draft.from.id, draft.id),
          JSON.stringify(stored),
          this.#limit,
          this.#window,
          randomUUID(),
          Math.floor(draft.target),
          draft.action,
          `${encode(draft.from.id)}.`,
          draft.ownOnly ? '1' : '0',
          draft.editWindow,
          draft.maxReactions,
          draft.emoji ?? '',
          draft.on === undefined ? '' : draft.on ? '1' : '0',
          JSON.stringify(draft.text ?? ''),
          draft.meta === undefined ? '' : JSON.stringify(draft.meta),
          draft.from.id,
          this.#epoch,
        ],
      ),
    )) as unknown[]
    if (reply[0] === -1) {
      const reason = reply[2] as string
      if (reason === 'owner') throw new ChangeRefusedError('forbidden', notYours(draft.target))
      if (reason === 'window') throw new ChangeRefusedError('forbidden', tooLate(draft.target))
      if (reason === 'reactions') throw new ChangeRefusedError('limit_exceeded', tooManyReactions(draft.maxReactions))
      throw new ChangeRefusedError('not_found', notFound(draft.target))
    }
    const [duplicate, offset, ts, epoch, fields, target, targetFields, targetState] = reply as [
      number,
      number,
      number,
      string,
      string[] | null,
      number,
      string[] | null,
      string | null,
    ]
    // A duplicate whose entry was trimmed away is answered from the resent draft: same id, same offset.
    const change = fields ? toChangeOf(room, offset, fields) : toChange(draft, offset, ts, draft.on)
    const message = targetFields && toMessageOf(room, target, targetFields, targetState, draft.from.id)
    return { update: { ...change, message }, duplicate: duplicate === 1, epoch }
  }

  async after(room: string, after: number, limit: number, viewer?: string): Promise<Entry[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    const keys = this.#keys
    const reply = (await guarded(
      afterScript.run(this.#redis, [keys.stream(room), keys.state(room)], [Math.max(0, Math.floor(after)) + 1, count]),
    )) as [string, string[], string | null, string[] | null, string | null][]
    return reply.map(([id, fields, state, targetFields, targetState]) => {
      const offset = Number.parseInt(id, 10)
      if (!isChangeEntry(fields)) return toMessageOf(room, offset, fields, state, viewer)
      const change = toChangeOf(room, offset, fields)
      const message = targetFields && toMessageOf(room, change.target, targetFields, targetState, viewer)
      return { ...change, message }
    })
  }

  async before(room: string, before: number, limit: number, viewer?: string): Promise<Message[]> {
    const count = clampCount(limit)
    if (count === 0 || before <= 1) return []
    return this.#before(room, Number.isSafeInteger(before) ? `(${before}-0` : '+', count, viewer)
  }

  async #before(room: string, end: string, count: number, viewer?: string): Promise<Message[]> {
    const keys = this.#keys
    const reply = (await guarded(
      beforeScript.run(this.#redis, [keys.stream(room), keys.state(room)], [end, count]),
    )) as [string, string[], string | null][]
    return reply
      .reverse()
      .map(([id, fields, state]) => toMessageOf(room, Number.parseInt(id, 10), fields, state, viewer))
  }

  /**
   * The room's newest retained log entry, a message or a change, if any (the broker re-delivers it after
   * a resubscribe, so a change missed at the end of the log is noticed as well as a message).
   */
  async latest(room: string): Promise<Entry | undefined> {
    const { head } = await this.state(room)
    return head === 0 ? undefined : (await this.after(room, head - 1, 1))[0]
  }

  async markRead(room: string, user: string, offset: number): Promise<number> {
    const keys = this.#keys
    const reply = await guarded(
      markReadScript.run(
        this.#redis,
        [keys.meta(room), keys.reads(room), keys.readMoves(room)],
        [user, Number.isFinite(offset) ? Math.floor(offset) : 0],
      ),
    )
    return Number(reply)
  }

  async readState(room: string, user: string): Promise<ReadState> {
    const keys = this.#keys
    const [read, unread, flat] = (await guarded(
      readStateScript.run(
        this.#redis,
        [keys.stream(room), keys.state(room), keys.reads(room)],
        [user, `${encode(user)}.`, READS_SHOWN + 1],
      ),
    )) as [number, number, string[]]
    const reads = positions(flat)
      .filter((position) => position.user !== user)
      .slice(0, READS_SHOWN)
    return { read: Number(read), unread: Number(unread), reads }
  }

  async reads(room: string, limit: number): Promise<ReadPosition[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    const flat = (await guarded(readsScript.run(this.#redis, [this.#keys.reads(room)], [count]))) as string[]
    return positions(flat)
  }

  async find(room: string, sender: string, id: string): Promise<Entry | undefined> {
    const keys = this.#keys
    const seen =
      (await guarded(this.#redis.get(keys.id(room, sender, id)))) ??
      (await guarded(this.#redis.hget(keys.ids(room), scopedId(sender, id))))
    const match = seen === null ? null : /^(\d+):(\d+)$/.exec(seen)
    if (!match) return undefined
    const offset = Number(match[1])
    const [entry] = await this.after(room, offset - 1, 1)
    return entry?.offset === offset
      ? entry
      : toMessage(room, offset, Number(match[2]), { id, from: { id: sender, name: '' }, text: '' })
  }

  async addBan(ban: Ban): Promise<void> {
    await guarded(this.#redis.hset(this.#keys.bans(), ban.id, JSON.stringify(ban)))
  }

  async removeBan(id: string): Promise<Ban | undefined> {
    const key = this.#keys.bans()
    const [[, json], [, removed]] = (await guarded(this.#redis.multi().hget(key, id).hdel(key, id).exec())) as [
      [unknown, string | null],
      [unknown, number],
    ]
    return removed === 1 && json !== null ? (JSON.parse(json) as Ban) : undefined
  }

  async bans(now: number): Promise<Ban[]> {
    const all = await guarded(this.#redis.hgetall(this.#keys.bans()))
    const bans: Ban[] = []
    const expired: string[] = []
    for (const [id, json] of Object.entries(all)) {
      const ban = JSON.parse(json) as Ban
      if (ban.until !== undefined && ban.until <= now) expired.push(id)
      else bans.push(ban)
    }
    if (expired.length > 0) await guarded(this.#redis.hdel(this.#keys.bans(), ...expired))
    return bans.sort((a, b) => a.createdAt - b.createdAt)
  }

  async pushEvent(event: QueuedEvent): Promise<void> {
    const keys = this.#keys
    await guarded(
      pushEventScript.run(this.#redis, [keys.webhookEvents(), keys.webhookOrder()], [event.id, JSON.stringify(event)]),
    )
  }

  async peekEvents(limit: number): Promise<QueuedEvent[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    const ids = await guarded(this.#redis.lrange(this.#keys.webhookOrder(), 0, count - 1))
    if (ids.length === 0) return []
    const events = await guarded(this.#redis.hmget(this.#keys.webhookEvents(), ...ids))
    return events.flatMap((json) => (json === null ? [] : [JSON.parse(json) as QueuedEvent]))
  }

  async retryEvent(id: string, attempts: number, next: number): Promise<void> {
    const key = this.#keys.webhookEvents()
    const json = await guarded(this.#redis.hget(key, id))
    if (json === null) return
    await guarded(this.#redis.hset(key, id, JSON.stringify({ ...(JSON.parse(json) as QueuedEvent), attempts, next })))
  }

  async finishEvent(id: string, reason?: string): Promise<void> {
    const keys = this.#keys
    let dead = ''
    if (reason !== undefined) {
      const json = await guarded(this.#redis.hget(keys.webhookEvents(), id))
      if (json !== null) dead = JSON.stringify({ ...(JSON.parse(json) as QueuedEvent), reason, diedAt: Date.now() })
    }
    await guarded(
      finishEventScript.run(this.#redis, [keys.webhookEvents(), keys.webhookOrder(), keys.webhookDead()], [id, dead]),
    )
  }

  async deadEvents(limit: number): Promise<DeadEvent[]> {
    const count = clampCount(limit)
    if (count === 0) return []
    const list = await guarded(this.#redis.lrange(this.#keys.webhookDead(), 0, count - 1))
    return list.map((json) => JSON.parse(json) as DeadEvent)
  }

  async lease(owner: string, ttl: number): Promise<boolean> {
    const reply = await guarded(leaseScript.run(this.#redis, [this.#keys.webhookLease()], [owner, ttl]))
    return reply === 1
  }

  async eraseUser(user: string): Promise<{ room: string; offset: number }[]> {
    const erased: { room: string; offset: number }[] = []
    for await (const [room, stream] of this.#streams()) {
      const keys = this.#keys
      const offsets = (await guarded(
        eraseScript.run(
          this.#redis,
          [stream, keys.state(room), keys.reads(room), keys.readMoves(room)],
          [`${encode(user)}.`, ERASED_NAME, user],
        ),
      )) as number[]
      for (const offset of offsets) erased.push({ room, offset })
    }
    return erased
  }

  async expireBefore(before: number): Promise<number> {
    let removed = 0
    for await (const [room, stream] of this.#streams()) {
      const keys = this.#keys
      removed += (await guarded(
        expireScript.run(
          this.#redis,
          [keys.meta(room), stream, keys.ids(room), keys.state(room)],
          [Math.floor(before)],
        ),
      )) as number
    }
    return removed
  }

  /** Every room with a stream, as [room, stream key]; on a cluster, those of every master. */
  async *#streams(): AsyncGenerator<[string, string]> {
    const pattern = this.#keys.streams()
    const start = this.#keys.prefix.length + 'room:{'.length
    for (const redis of this.#cluster === null ? [this.#redis] : this.#cluster.nodes('master')) {
      let cursor = '0'
      do {
        const [next, streams] = await guarded(redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000))
        cursor = next
        for (const stream of streams) yield [decode(stream.slice(start, stream.lastIndexOf('}'))), stream]
      } while (cursor !== '0')
    }
  }

  async conversation(id: string): Promise<Conversation | null> {
    const entry = await guarded(this.#redis.hget(this.#keys.conversation(id), 'e'))
    return entry === null ? null : fromJson(entry)
  }

  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation | null> {
    const { visitor, ...changes } = patch
    // The script compares and stores; the clipping to the preview's length is done here, as for an append.
    if (changes.preview !== undefined) changes.preview = { ...changes.preview, text: clip(changes.preview.text) }
    const fresh = visitor === undefined ? '' : JSON.stringify(newConversation(visitor, 0))
    const entry = this.#keys.conversation(id)
    const reply = await guarded(
      updateConversationScript.run(
        this.#redis,
        this.#cluster === null ? [entry, this.#keys.conversations()] : [entry],
        [JSON.stringify(changes), fresh, Date.now()],
      ),
    )
    if (reply === '') return null
    const conversation = fromJson(reply as string)
    if (this.#cluster !== null) await this.#index(conversation)
    return conversation
  }

  /** Walks the index newest first from the cursor, reading entries in batches until the page (and one more) is filled. */
  async conversations(query: ConversationQuery): Promise<ConversationPage> {
    const mark = query.cursor === undefined ? null : decodeCursor(query.cursor)
    const limit = pageSize(query.limit)
    const items: Conversation[] = []
    const index = this.#keys.conversations()
    const max = mark === null ? '+inf' : String(mark.at)
    let skip = 0
    while (items.length <= limit) {
      const ids = await guarded(this.#redis.zrevrangebyscore(index, max, '-inf', 'LIMIT', skip, SCAN_BATCH))
      if (ids.length === 0) break
      skip += ids.length
      const entries = await this.#entries(ids)
      for (const entry of entries) {
        if (entry === null) continue
        const conversation = fromJson(entry)
        if (isAfter(conversation, mark) && matches(conversation, query)) items.push(conversation)
        if (items.length > limit) break
      }
      if (ids.length < SCAN_BATCH) break
    }
    return toPage(items, limit)
  }

  /** The index entries of `ids`, in one round trip (on a cluster, one per entry, concurrently: their slots differ). */
  async #entries(ids: string[]): Promise<(string | null)[]> {
    const keys = ids.map((id) => this.#keys.conversation(id))
    if (this.#cluster !== null) return guarded(Promise.all(keys.map((key) => this.#redis.hget(key, 'e'))))
    const pipeline = this.#redis.pipeline()
    for (const key of keys) pipeline.hget(key, 'e')
    const replies = (await guarded(pipeline.exec())) ?? []
    return replies.map(([error, entry]) => {
      if (error) throw error
      return typeof entry === 'string' ? entry : null
    })
  }

  /** The connection belongs to the backend, which quits it; nothing is held here. */
  async close(): Promise<void> {}
}

/** An entry as Lua's cjson wrote it: an empty email would never be stored, an absent one stays absent. */
function fromJson(json: string): Conversation {
  return JSON.parse(json) as Conversation
}

/** A COUNT Redis accepts: a non-negative integer, capped so `Infinity` means "all". */
function clampCount(limit: number): number {
  if (!(limit > 0)) return 0
  return Math.min(Math.floor(limit), 1_000_000)
}

function toMessage(room: string, offset: number, ts: number, body: StoredDraft): Message {
  return {
    room,
    offset,
    id: body.id,
    from: body.from,
    text: body.text,
    ...(body.meta === undefined ? {} : { meta: body.meta }),
    ts,
  }
}

/** True for the fields of a change entry (`c` after `d`, `t`, `i`). */
function isChangeEntry(fields: string[]): boolean {
  return fields[6] === 'c'
}

/** A message entry's fields and state as the Message `viewer` reads. */
function toMessageOf(room: string, offset: number, fields: string[], state: string | null, viewer?: string): Message {
  const [d, body, t, ts] = fields
  if (d !== 'd' || t !== 't' || body === undefined)
    throw new Error(`stream entry ${offset} of room ${JSON.stringify(room)} has no draft`)
  return withState(toMessage(room, offset, Number(ts), JSON.parse(body) as StoredDraft), state, viewer)
}

/** The message as stored in the stream, brought to its current state. */
function withState(message: Message, state: string | null, viewer?: string): Message {
  if (state === null) return message
  const current = JSON.parse(state) as StoredState
  if (current.d) return deleted(message)
  const { meta: original, ...rest } = message
  const meta = current.m === undefined ? original : (JSON.parse(current.m) as Meta)
  const changed: Message = {
    ...rest,
    text: current.t === undefined ? message.text : (JSON.parse(current.t) as string),
    ...(meta === undefined ? {} : { meta }),
    ...(current.e === undefined ? {} : { editedAt: current.e }),
  }
  return view(changed, current.r && Object.fromEntries(current.r), viewer)
}

/** A change entry's fields as the change (its target's state is added by the caller). */
function toChangeOf(room: string, offset: number, fields: string[]): Change {
  const body = JSON.parse(fields[1] as string) as StoredChange
  return {
    room,
    offset,
    id: body.id,
    ts: Number(fields[3]),
    from: body.from,
    action: body.action,
    target: Number(fields[7]),
    ...(body.action === 'react' ? { emoji: body.emoji ?? '', on: fields[9] === '1' } : {}),
  }
}

/** `[user, offset, ...]` as positions, furthest first. */
function positions(flat: string[]): ReadPosition[] {
  const out: ReadPosition[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ user: flat[i] as string, offset: Number(flat[i + 1]) })
  return out.sort(furthestFirst)
}
