import {
  type AckFrame,
  CLOSE,
  type ClientFrame,
  CONVERSATION_PREFIX,
  type ConversationsFrame,
  type DeleteFrame,
  type EditFrame,
  type HelloFrame,
  type HistoryFrame,
  type JoinFrame,
  type Limits,
  type Member,
  type MembersFrame,
  type ProfileFrame,
  type PublishFrame,
  type ReactFrame,
  type ReadFrame,
  type RelayFrame,
  type UpdateConversationFrame,
  type WelcomeFrame,
} from '@confab/sdk/protocol'
import type { Logger } from 'pino'
import { type Authenticate, mayEnter } from './auth'
import type { AuthUser, RelayConfig } from './config'
import type { ConversationHub } from './conversations'
import { ClientError, type ErrorContext, isExpected } from './errors'
import { ABUSE, GatePolicy, RateGate, TokenBucket } from './limits'
import type { Metrics } from './metrics'
import type { Turn } from './pipeline'
import { hasRoom, type RoomNames, roomCount, roomList, withoutRoom, withRoom } from './room-set'
import type { ChangeRequest, Rooms, Subscriber } from './rooms'
import {
  type ConversationPatch,
  conversationId,
  conversationRoom,
  decodeCursor,
  isConversationRoom,
} from './store/conversations'
import { cleanName, userIdProblem } from './text'
import type { SharedFrame } from './writer'

/** What every connection shares. */
export interface ConnectionContext {
  config: RelayConfig
  rooms: Rooms
  authenticate: Authenticate
  metrics: Metrics
  logger: Logger
  /** Announced in `welcome`. */
  limits: Limits
  /** Conversations: the index, live updates to operators, the operator count to visitors. */
  conversations: ConversationHub
}

/** Frames paced by the `frameRate` gate (cheap to send, not free to serve). */
const PACED = new Set([
  'join',
  'leave',
  'typing',
  'history',
  'members',
  'conversation',
  'profile',
  'conversations',
  'update-conversation',
  'read',
])

/** The `frameRate` gate's settings, made once per relay's limits and shared by every session's gate. */
const pacing = new WeakMap<RelayConfig['limits'], GatePolicy>()

function pacingOf(limits: RelayConfig['limits']): GatePolicy {
  let policy = pacing.get(limits)
  if (policy?.rate !== limits.frameRate || policy.burst !== limits.frameBurst || policy.abuse !== limits.rateAbuse) {
    policy = new GatePolicy(limits.frameRate, limits.frameBurst, limits.rateAbuse)
    pacing.set(limits, policy)
  }
  return policy
}

/**
 * When this module loaded, in ms. A session keeps the time of its first paced frame as ms since then:
 * a small integer is stored in the field itself, where a Date.now() would need a heap number (16 bytes)
 * for every socket; past 24 days of uptime it needs one again, which changes nothing else.
 */
const EPOCH = Date.now()

/** The socket side of a session: where its answers go. */
export interface SessionSocket extends Subscriber {
  /** Id for logs and support, sent in `welcome`. */
  readonly session: string
  /** Writes one relay frame to this client. */
  reply(frame: RelayFrame): void
  /** Answers a refusal (not counted as a mistake). */
  refuse(error: ClientError, context?: ErrorContext): void
  /** Answers a client mistake, counted towards closing with 4009. */
  mistake(error: ClientError, context?: ErrorContext): void
  close(code: number, reason: string): void
}

/** Where a connection is in the protocol. */
export type SessionState = 'hello' | 'authenticating' | 'open' | 'closed'

/** History page size when a `history` frame gives no limit. */
const DEFAULT_PAGE = 50

/** The user of a connection before `hello`: one shared object. */
const NOBODY: AuthUser = Object.freeze({ id: '', name: '' })

/**
 * One client's protocol state: the hello handshake, who the user is, the
 * rooms it is in and its rate limits; it handles each decoded frame. The
 * socket, its writes and the order frames are read in are its subclass
 * `Connection`'s: one object per client, as every idle socket pays for each
 * object it has (a header, and the fields that point from one to the other).
 */
export abstract class Session implements SessionSocket {
  /** What every connection shares. */
  protected readonly ctx: ConnectionContext
  #user: AuthUser = NOBODY
  #state: SessionState = 'hello'
  // Created when first needed: most sockets join one room, publish rarely and never err,
  // and an idle socket should cost little more than the WebSocket itself.
  #rooms: RoomNames = null
  #publishes: TokenBucket | null = null
  /**
   * join, leave, typing and history: cheap to send, not free to serve or fan out. Until a second
   * such frame, only the time of the first (ms since `EPOCH`): most sockets send one (their join) and stay idle.
   */
  #others: RateGate | number | null = null
  #refusedInARow = 0

  constructor(ctx: ConnectionContext) {
    this.ctx = ctx
  }

  abstract readonly session: string
  abstract reply(frame: RelayFrame): void
  abstract refuse(error: ClientError, context?: ErrorContext): void
  abstract mistake(error: ClientError, context?: ErrorContext): void
  abstract close(code: number, reason: string): void
  abstract send(data: string): void
  abstract deliver(frame: SharedFrame): void
  abstract resync(): void

  /** The connection's user (empty until `hello` succeeds). */
  get user(): AuthUser {
    return this.#user
  }

  get state(): SessionState {
    return this.#state
  }

  /** Ends the session once: leaves every room. False when it had ended already. */
  end(): boolean {
    if (this.#state === 'closed') return false
    this.#state = 'closed'
    if (this.#rooms !== null) {
      for (const room of roomList(this.#rooms)) this.ctx.rooms.leave(this, room)
      this.#rooms = null
    }
    this.ctx.conversations.remove(this)
    return true
  }

  /** Handles one valid frame; a refusal it throws is answered by the caller. A publish may come with its `turn` (pipeline.ts). */
  async handle(frame: ClientFrame, turn?: Turn): Promise<void> {
    if (PACED.has(frame.type)) {
      const wait = this.#pace()
      if (wait === ABUSE) {
        this.close(CLOSE.RATE_ABUSE, 'sending too fast')
        return
      }
      if (wait > 0) throw new ClientError('rate_limited', 'sending too fast', wait)
    }
    switch (frame.type) {
      case 'hello':
        return this.#hello(frame)
      case 'join':
        return this.#join(frame)
      case 'leave':
        this.#rooms = withoutRoom(this.#rooms, frame.room)
        this.ctx.rooms.leave(this, frame.room)
        this.reply(
          frame.ref === undefined
            ? { type: 'left', room: frame.room }
            : { type: 'left', ref: frame.ref, room: frame.room },
        )
        return
      case 'publish':
        return this.#publish(frame, turn)
      case 'typing':
        if (!this.ctx.rooms.typing(this, frame.room, frame.active !== false)) {
          throw new ClientError('bad_request', 'join the room first')
        }
        return
      case 'history':
        return this.#history(frame)
      case 'members':
        return this.#members(frame)
      case 'ping':
        this.reply(frame.ref === undefined ? { type: 'pong' } : { type: 'pong', ref: frame.ref })
        return
      case 'conversation':
        return this.#conversation(frame.ref)
      case 'profile':
        return this.#profile(frame)
      case 'conversations':
        return this.#list(frame)
      case 'update-conversation':
        return this.#update(frame)
      case 'read':
        return this.#read(frame)
      case 'edit':
      case 'delete':
      case 'react':
        return this.#change(frame)
    }
  }

  /** A token from the `frameRate` gate: 0 when granted, else the ms to wait or `ABUSE`. */
  #pace(): number {
    const policy = pacingOf(this.ctx.config.limits)
    if (this.#others === null && policy.burst >= 1) {
      // Math.trunc answers a small integer as such (a plain subtraction of two heap numbers may box it).
      this.#others = Math.trunc(policy.now() - EPOCH)
      return 0
    }
    if (typeof this.#others === 'number') this.#others = new RateGate(policy, this.#others + EPOCH)
    this.#others ??= new RateGate(policy)
    return this.#others.take()
  }

  get #operator(): boolean {
    return this.#user.role === 'operator'
  }

  /** A visitor's own conversation (null before it has an entry), then the operator count, which it hears from now on. */
  async #conversation(ref: string): Promise<void> {
    if (this.#operator) throw new ClientError('forbidden', 'operators have no conversation of their own')
    const hub = this.ctx.conversations
    const conversation = await hub.own(this.#user.id)
    const room = conversationRoom(this.#user.id)
    // Closed while the entry was read: the hub must not keep a dead connection.
    if (this.#state === 'closed') return
    this.reply({ type: 'conversation', ref, room, conversation })
    hub.addVisitor(this)
    this.reply({ type: 'operators', online: await hub.online() })
  }

  async #profile(frame: ProfileFrame): Promise<void> {
    if (this.#operator) throw new ClientError('forbidden', 'operators have no conversation of their own')
    const visitor = { id: this.#user.id, name: this.#user.name }
    const patch: ConversationPatch = { visitor }
    if (frame.name !== undefined) {
      const name = cleanName(frame.name, this.ctx.config.limits.maxName)
      if (name === '') throw new ClientError('bad_request', 'name is empty')
      patch.visitorName = name
    }
    if (frame.email !== undefined) patch.email = frame.email
    const hub = this.ctx.conversations
    // Read first only to tell the webhook a creation from a change: a profile is rare.
    const existed = (await hub.own(this.#user.id)) !== null
    const conversation = await hub.store.updateConversation(conversationId(this.#user.id), patch)
    this.reply({ type: 'conversation', ref: frame.ref, room: conversationRoom(this.#user.id), conversation })
    if (conversation !== null) hub.changed(conversation, existed ? 'conversation.updated' : 'conversation.created')
  }

  #mustOperate(): void {
    if (!this.#operator) throw new ClientError('forbidden', 'only operators may do this')
  }

  async #list(frame: ConversationsFrame): Promise<void> {
    this.#mustOperate()
    if (frame.cursor !== undefined && decodeCursor(frame.cursor) === null) {
      throw new ClientError('bad_request', 'cursor is not one this relay gave')
    }
    const page = await this.ctx.conversations.store.conversations(frame)
    this.reply({ type: 'conversations', ref: frame.ref, ...page })
  }

  async #update(frame: UpdateConversationFrame): Promise<void> {
    this.#mustOperate()
    const patch: ConversationPatch = {}
    if (frame.status !== undefined) patch.status = frame.status
    if (frame.assignee === null) patch.assignee = null
    else if (frame.assignee !== undefined) patch.assignee = await this.#operatorNamed(frame.assignee)
    const conversation = await this.ctx.conversations.store.updateConversation(frame.id, patch)
    if (conversation === null) throw new ClientError('not_found', 'no such conversation')
    this.reply({ type: 'conversation', ref: frame.ref, room: conversation.room, conversation })
    this.ctx.conversations.changed(conversation, 'conversation.updated')
  }

  /** An assignee as the index shows it: this operator, or one online (by its name there), else its id. */
  async #operatorNamed(id: string): Promise<{ id: string; name: string }> {
    if (id === this.#user.id) return { id, name: this.#user.name }
    const online = (await this.ctx.conversations.operators()).find((member) => member.id === id)
    return { id, name: online?.name ?? id }
  }

  /**
   * Moves the reader's position (announced to the room, throttled); in a conversation, reading up to the
   * newest message also clears the reader's side of the unread counts.
   */
  async #read(frame: ReadFrame): Promise<void> {
    if (!hasRoom(this.#rooms, frame.room)) throw new ClientError('bad_request', 'join the room first')
    await this.ctx.rooms.read(this.#user.id, frame.room, frame.offset)
    if (!isConversationRoom(frame.room)) return
    const store = this.ctx.conversations.store
    const side = this.#operator ? 'operators' : 'visitor'
    const id = frame.room.slice(CONVERSATION_PREFIX.length)
    const entry = await store.conversation(id)
    if (entry === null || entry.unread[side] === 0) return
    const { head } = await store.state(frame.room)
    if (frame.offset < head) return
    const conversation = await store.updateConversation(id, { read: side })
    if (conversation !== null) this.ctx.conversations.changed(conversation)
  }

  async #hello(frame: HelloFrame): Promise<void> {
    if (this.#state !== 'hello') {
      this.mistake(new ClientError('bad_request', 'hello was already sent'))
      return
    }
    this.#state = 'authenticating'
    let identity: Awaited<ReturnType<Authenticate>>
    try {
      identity = await this.ctx.authenticate(frame)
      // The id is copied into every message and presence entry: held to the HTTP API's rule for `from.id`.
      const problem = userIdProblem(identity.user.id)
      if (problem !== null) throw new ClientError('unauthorized', `user id (the token's "sub") ${problem}`)
    } catch (error) {
      if (!isExpected(error)) {
        this.ctx.logger.error({ err: error, session: this.session }, 'authentication failed')
      }
      const refusal = error instanceof ClientError ? error : new ClientError('unauthorized', 'authentication failed')
      this.refuse(refusal)
      this.close(CLOSE.UNAUTHORIZED, refusal.code)
      return
    }
    // The socket may have closed while the token was being checked.
    if ((this.#state as SessionState) === 'closed') return
    this.#user = identity.user
    this.#state = 'open'
    const welcome: WelcomeFrame = {
      type: 'welcome',
      v: 1,
      session: this.session,
      user:
        identity.user.role === 'operator'
          ? { id: identity.user.id, name: identity.user.name, role: 'operator' }
          : { id: identity.user.id, name: identity.user.name },
      heartbeat: this.ctx.config.heartbeat,
      limits: this.ctx.limits,
    }
    if (identity.resume !== undefined) welcome.resume = identity.resume
    this.reply(welcome)
    if (identity.user.role === 'operator') this.ctx.conversations.addOperator(this)
    this.ctx.logger.debug({ session: this.session, user: identity.user.id }, 'hello')
  }

  async #join(frame: JoinFrame): Promise<void> {
    if (!mayEnter(this.#user, frame.room)) throw new ClientError('forbidden', 'not allowed in this room')
    if (hasRoom(this.#rooms, frame.room)) throw new ClientError('bad_request', 'already in this room')
    if (roomCount(this.#rooms) >= this.ctx.config.limits.maxRooms) {
      throw new ClientError('limit_exceeded', `at most ${this.ctx.config.limits.maxRooms} rooms per connection`)
    }
    this.#rooms = withRoom(this.#rooms, frame.room)
    try {
      await this.ctx.rooms.join(this, frame.room, {
        ref: frame.ref,
        since: frame.since,
        history: frame.history,
      })
    } catch (error) {
      this.#rooms = withoutRoom(this.#rooms, frame.room)
      throw error
    }
    // Closed while joining: the registry must not keep a dead subscriber.
    if (this.#state === 'closed') this.ctx.rooms.leave(this, frame.room)
  }

  /**
   * What a publish, edit, delete and reaction pass first: the room joined and a token from the publish
   * bucket. False when the socket was closed for rate abuse.
   */
  #mayPublish(room: string): boolean {
    if (!hasRoom(this.#rooms, room)) throw new ClientError('bad_request', 'join the room first')
    const { limits } = this.ctx.config
    this.#publishes ??= new TokenBucket(limits.publishRate, limits.publishBurst)
    const wait = this.#publishes.take()
    if (wait > 0) {
      if (++this.#refusedInARow >= limits.rateAbuse) {
        this.close(CLOSE.RATE_ABUSE, 'publishing too fast')
        return false
      }
      throw new ClientError('rate_limited', 'publishing too fast', wait)
    }
    this.#refusedInARow = 0
    return true
  }

  /** The user as its messages and changes name it. */
  get #member(): Member {
    return this.#operator
      ? { id: this.#user.id, name: this.#user.name, role: 'operator' }
      : { id: this.#user.id, name: this.#user.name }
  }

  async #publish(frame: PublishFrame, turn: Turn | undefined): Promise<void> {
    if (!this.#mayPublish(frame.room)) return
    await this.ctx.rooms.publish(
      {
        room: frame.room,
        id: frame.id,
        from: this.#member,
        text: frame.text,
        meta: frame.meta,
        role: this.ctx.config.auth === undefined ? 'guest' : 'user',
      },
      ({ message }) => {
        const ack: AckFrame = {
          type: 'ack',
          ref: frame.ref,
          room: message.room,
          id: message.id,
          offset: message.offset,
          ts: message.ts,
        }
        this.reply(ack)
      },
      turn,
    )
  }

  /** An edit, delete or reaction: answered with an `ack` of the change carrying the message's new state. */
  async #change(frame: EditFrame | DeleteFrame | ReactFrame): Promise<void> {
    if (!this.#mayPublish(frame.room)) return
    const request: ChangeRequest = {
      room: frame.room,
      id: frame.id,
      from: this.#member,
      action: frame.type,
      target: frame.offset,
      role: this.ctx.config.auth === undefined ? 'guest' : 'user',
    }
    if (frame.type === 'edit') {
      request.text = frame.text
      if (frame.meta !== undefined) request.meta = frame.meta
    } else if (frame.type === 'react') {
      request.emoji = frame.emoji
      if (frame.on !== undefined) request.on = frame.on
    }
    await this.ctx.rooms.change(request, ({ update }) => {
      const ack: AckFrame = {
        type: 'ack',
        ref: frame.ref,
        room: update.room,
        id: update.id,
        offset: update.offset,
        ts: update.ts,
      }
      if (update.message !== null) ack.message = update.message
      this.reply(ack)
    })
  }

  /** A page of a room's members: only for a room this connection is in. */
  async #members(frame: MembersFrame): Promise<void> {
    if (!this.ctx.rooms.has(this, frame.room)) throw new ClientError('bad_request', 'join the room first')
    const page = await this.ctx.rooms.memberPage(frame.room, frame.cursor, frame.limit ?? DEFAULT_PAGE)
    this.reply({ type: 'members', ref: frame.ref, room: frame.room, ...page })
  }

  async #history(frame: HistoryFrame): Promise<void> {
    if (!mayEnter(this.#user, frame.room)) throw new ClientError('forbidden', 'not allowed in this room')
    const page = await this.ctx.rooms.history(frame.room, frame.before, frame.limit ?? DEFAULT_PAGE, this.#user.id)
    this.reply({ type: 'history', ref: frame.ref, room: frame.room, ...page })
  }
}
