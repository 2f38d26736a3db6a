import { CONVERSATION_PREFIX } from '@confab/sdk/protocol'

/**
 * Every Redis key and channel name Confab uses, in one place. User input
 * (room names, client message ids) is base64url-encoded before it becomes part
 * of a name, so no room can spell another room's key, reach outside the prefix,
 * or contain a glob character; the encoded room sits in a `{hash tag}` so a
 * room's keys would share a slot on a cluster.
 */
export class RedisKeys {
  /**
   * @param prefix Namespace of every key and channel (default 'confab:').
   * @param cluster Names for Redis Cluster (default false): a conversation's entry sits in its room's
   *   slot, a node's liveness and room set share a `{node}` tag, the webhook keys a `{webhooks}` tag,
   *   so that every script touches one slot. The plain names stay as they were for one Redis.
   */
  constructor(
    readonly prefix = 'confab:',
    readonly cluster = false,
  ) {}

  /** Hash `epoch`, `head`, `base`, `moves`: the room's identity, newest offset and read-move counter. */
  meta(room: string): string {
    return `${this.#room(room)}:meta`
  }

  /** Stream of the retained messages; entry id `offset-0`. */
  stream(room: string): string {
    return `${this.#room(room)}:log`
  }

  /** String `offset:ts` remembered for the idempotency window: one per sender and client id. */
  id(room: string, sender: string, clientId: string): string {
    return `${this.#room(room)}:id:${scopedId(sender, clientId)}`
  }

  /** Hash scoped id -> `offset:ts` of every retained message, trimmed with the stream. */
  ids(room: string): string {
    return `${this.#room(room)}:ids`
  }

  /** Hash offset -> current state JSON of each changed retained message (see store-lua.ts), trimmed with the stream. */
  state(room: string): string {
    return `${this.#room(room)}:state`
  }

  /** Sorted set user -> read position (score: the offset). */
  reads(room: string): string {
    return `${this.#room(room)}:reads`
  }

  /** Sorted set user -> order of the latest move of their position, for dropping the least recent. */
  readMoves(room: string): string {
    return `${this.#room(room)}:read-moves`
  }

  /** String: the epoch of every room never written to, made once per deployment. */
  untouchedEpoch(): string {
    return `${this.prefix}epoch`
  }

  /** Pub/sub channel of the room's events. */
  channel(room: string): string {
    return `${this.prefix}ch:{${this.#tag(room)}}`
  }

  /** Hash `node/user` -> member JSON: who is in the room through which node. */
  members(room: string): string {
    return `${this.#room(room)}:members`
  }

  /** Hash `user` -> number of nodes the user is in the room through. */
  memberNodes(room: string): string {
    return `${this.#room(room)}:member-nodes`
  }

  /** Sorted set of the user ids in the room on any node (all scores 0, ordered by id): the count and the pages. */
  memberIndex(room: string): string {
    return `${this.#room(room)}:member-index`
  }

  /** Hash `user` -> member JSON as the user's latest node added it, for the pages. */
  memberInfo(room: string): string {
    return `${this.#room(room)}:member-info`
  }

  /** String with a TTL, refreshed while the node lives. */
  alive(node: string): string {
    return `${this.#node(node)}:alive`
  }

  /** Set of encoded room names where the node has members, for the sweep after it dies. */
  nodeRooms(node: string): string {
    return `${this.#node(node)}:rooms`
  }

  /** String: the deployment's secret for guest `resume` strings, made by the first node, never expiring. */
  resumeSecret(): string {
    return `${this.prefix}resume-secret`
  }

  /** Set of node ids that registered presence. */
  nodes(): string {
    return `${this.prefix}nodes`
  }

  /** Hash ban id -> ban JSON (docs/moderation.md). */
  bans(): string {
    return `${this.prefix}bans`
  }

  /** Hash event id -> queued event JSON, and list of event ids in delivery order (docs/webhooks.md). */
  webhookEvents(): string {
    return `${this.#webhooks()}:events`
  }

  webhookOrder(): string {
    return `${this.#webhooks()}:order`
  }

  /** List of dead-lettered event JSON, newest first, capped. */
  webhookDead(): string {
    return `${this.#webhooks()}:dead`
  }

  /** String with a TTL: the node delivering webhooks. */
  webhookLease(): string {
    return `${this.#webhooks()}:lease`
  }

  /** The pattern of every room's stream, for erasure. */
  streams(): string {
    return `${this.prefix}room:*:log`
  }

  /** Hash with field `e`: one conversation's index entry as JSON (the id is base64url already). */
  conversation(id: string): string {
    // On a cluster, in the slot of the conversation's room (`conv:` + id), so an append updates it atomically.
    if (this.cluster) return `${this.#room(CONVERSATION_PREFIX + id)}:conv`
    return `${this.prefix}conv:${encode(id)}`
  }

  /** Sorted set of conversation ids by `lastActivityAt`: the index order. */
  conversations(): string {
    return `${this.prefix}conversations`
  }

  #node(node: string): string {
    return this.cluster ? `${this.prefix}node:{${node}}` : `${this.prefix}node:${node}`
  }

  #webhooks(): string {
    return this.cluster ? `${this.prefix}{webhooks}` : `${this.prefix}webhooks`
  }

  #room(room: string): string {
    return `${this.prefix}room:{${this.#tag(room)}}`
  }

  /**
   * The room's hash tag: its encoded name. An empty tag (the room '') hashes the whole key instead, which
   * would scatter the room over the slots of a cluster: there it is '=', which no encoded name contains.
   */
  #tag(room: string): string {
    const encoded = encode(room)
    return this.cluster && encoded === '' ? '=' : encoded
  }
}

/** A client id scoped to its sender: `sender.clientId`, both encoded, so no pair spells another. */
export function scopedId(sender: string, clientId: string): string {
  return `${encode(sender)}.${encode(clientId)}`
}

/** base64url of the UTF-8 bytes: only `A-Z a-z 0-9 - _`, so never a separator, brace or glob. */
export function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** Inverse of `encode`. */
export function decode(encoded: string): string {
  return Buffer.from(encoded, 'base64url').toString('utf8')
}
