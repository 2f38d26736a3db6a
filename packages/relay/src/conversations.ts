// Conversations on the relay side: who may list and change the index, the
// live `conversation` frames to operators on every node, and the relay-wide
// count of online operators sent to visitors (docs/conversations.md).
import type { Conversation, Member } from '@confab/sdk/protocol'
import type { Broker, BrokerEvent, BrokerHandler } from './broker/types'
import type { Presence } from './presence/types'
import type { Subscriber } from './room'
import { conversationId } from './store/conversations'
import type { Store } from './store/types'
import type { ConversationEvent } from './webhooks'

/**
 * The broker channel and presence key of everything relay-wide about conversations. Not a valid room
 * name (ROOM_PATTERN has no `#`), so no client can join, read or publish to it.
 */
export const OPERATORS = '#operators'

/** Where the hub logs what it cannot deliver. */
export interface HubLogger {
  error(object: object, message: string): void
}

/** What the hub needs. */
export interface HubOptions {
  store: Store
  broker: Broker
  presence: Presence
  logger: HubLogger
  /** Queues a webhook event (set when webhooks are on); a rejection is logged. */
  webhook?: ((type: ConversationEvent, conversation: Conversation) => Promise<void>) | undefined
}

/**
 * One per relay node. Operators' connections register here to receive index
 * updates; visitors who asked for their conversation register to receive the
 * operator count. Both travel between nodes on the broker channel `#operators`,
 * which `wrap` keeps out of the room registry.
 */
export class ConversationHub {
  readonly #o: HubOptions
  /** Operator connections on this node, and how many each operator user has (presence counts users). */
  readonly #operators = new Set<Subscriber>()
  readonly #operatorUsers = new Map<string, number>()
  /** Visitor connections that asked for their conversation: they hear the operator count. */
  readonly #visitors = new Set<Subscriber>()
  /** The count last sent to visitors; undefined before the first count. */
  #online: number | undefined
  #recount: NodeJS.Immediate | null = null
  #stopped = false

  constructor(options: HubOptions) {
    this.#o = options
  }

  /** The store holding the index. */
  get store(): Store {
    return this.#o.store
  }

  /**
   * The broker the room registry should use: the same broker, whose events on `#operators` reach this
   * hub instead of the registry (which would drop them: no room has that name).
   */
  wrap(broker: Broker): Broker {
    return {
      start: (handler: BrokerHandler) =>
        broker.start((room, event) => (room === OPERATORS ? this.#onEvent(event) : handler(room, event))),
      subscribe: (room) => broker.subscribe(room),
      unsubscribe: (room) => broker.unsubscribe(room),
      publish: (room, event) => broker.publish(room, event),
      get ready() {
        return broker.ready
      },
      close: () => broker.close(),
    }
  }

  /** Subscribes to the relay-wide channel; call after the registry started the broker. */
  async start(): Promise<void> {
    await this.#o.broker.subscribe(OPERATORS)
  }

  stop(): void {
    this.#stopped = true
    if (this.#recount !== null) clearImmediate(this.#recount)
    this.#recount = null
  }

  /** An operator connection signed in: it gets index updates, and its user counts as online. */
  addOperator(sub: Subscriber): void {
    if (this.#operators.has(sub)) return
    this.#operators.add(sub)
    const count = this.#operatorUsers.get(sub.user.id) ?? 0
    this.#operatorUsers.set(sub.user.id, count + 1)
    if (count > 0) return
    this.#o.presence.add(OPERATORS, sub.user).then(
      (fresh) => {
        if (fresh) this.#publish({ type: 'presence', joins: [sub.user], leaves: [] })
      },
      (error: unknown) => this.#o.logger.error({ err: error }, 'operator presence add failed'),
    )
  }

  /** A visitor connection asked for its conversation: it hears the operator count from now on. */
  addVisitor(sub: Subscriber): void {
    this.#visitors.add(sub)
  }

  /** The connection closed. */
  remove(sub: Subscriber): void {
    this.#visitors.delete(sub)
    if (!this.#operators.delete(sub)) return
    const count = (this.#operatorUsers.get(sub.user.id) ?? 1) - 1
    if (count > 0) {
      this.#operatorUsers.set(sub.user.id, count)
      return
    }
    this.#operatorUsers.delete(sub.user.id)
    this.#o.presence.remove(OPERATORS, sub.user).then(
      (gone) => {
        if (gone) this.#publish({ type: 'presence', joins: [], leaves: [sub.user] })
      },
      (error: unknown) => this.#o.logger.error({ err: error }, 'operator presence remove failed'),
    )
  }

  /** Operators online on any node, once per user. */
  async online(): Promise<number> {
    return (await this.#o.presence.list(OPERATORS)).length
  }

  /** Operators online, as members (names for assignments). */
  operators(): Promise<Member[]> {
    return this.#o.presence.list(OPERATORS)
  }

  /**
   * An entry was created or changed: every operator connection on every node hears it. `event` is the
   * webhook it is worth, if any: creation, or a change of status, assignee, name or email (not the
   * activity, preview and unread counts a message or a read moves: `message.created` tells those). A
   * conversation created by its first message is queued with that message, in integrations.ts.
   */
  changed(conversation: Conversation, event?: ConversationEvent): void {
    this.#publish({ type: 'conversation', conversation })
    if (event === undefined || this.#o.webhook === undefined) return
    this.#o.webhook(event, conversation).catch((error: unknown) => {
      this.#o.logger.error({ err: error, room: conversation.room }, 'webhook queueing failed')
    })
  }

  /** The entry of a visitor's own conversation, or null before its first message or profile. */
  own(visitorId: string): Promise<Conversation | null> {
    return this.#o.store.conversation(conversationId(visitorId))
  }

  #publish(event: BrokerEvent): void {
    this.#o.broker.publish(OPERATORS, event).catch((error: unknown) => {
      this.#o.logger.error({ err: error }, 'broker publish failed')
    })
  }

  #onEvent(event: BrokerEvent): void {
    if (event.type === 'conversation') {
      const frame = JSON.stringify({ type: 'conversation', conversation: event.conversation })
      for (const sub of this.#operators) sub.send(frame)
    } else if (event.type === 'presence') {
      this.#scheduleRecount()
    }
  }

  /** Coalesced per event-loop turn: a burst of sign-ins is one count and one frame per visitor. */
  #scheduleRecount(): void {
    if (this.#recount !== null || this.#stopped) return
    this.#recount = setImmediate(() => {
      this.#recount = null
      this.online().then(
        (online) => {
          if (online === this.#online) return
          this.#online = online
          if (this.#visitors.size === 0) return
          const frame = JSON.stringify({ type: 'operators', online })
          for (const sub of this.#visitors) sub.send(frame)
        },
        (error: unknown) => this.#o.logger.error({ err: error }, 'operator count failed'),
      )
    })
  }
}
