/**
 * Confab wire protocol v1: the one definition of every frame, shared by the
 * SDK and the relay so the two cannot drift. docs/protocol.md is the prose
 * reference for what is here.
 *
 * Transport: WebSocket at `/ws`, subprotocol `confab.v1`, one UTF-8 JSON
 * object per text frame, each with a `type`. Frames that expect an answer
 * carry a client-chosen `ref`, echoed in the answer.
 */

/** The WebSocket subprotocol a client offers and the relay selects. */
export const SUBPROTOCOL = 'confab.v1'

/** The path the relay listens on when a URL gives none. */
export const DEFAULT_PATH = '/ws'

/** Room names: 1 to 64 letters, digits, `_`, `-`, `.`, `:` or `@`. The relay refuses any other with `bad_request`. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/

/** Longest `ref` the relay accepts, in characters; it answers a longer one with `bad_request` and without the ref. */
export const MAX_REF = 64

/** A user as others see them. `id` is set by the relay, never by a client. */
export interface Member {
  id: string
  name: string
  /** Set by the relay for operators only (a guest can never get it); visitors omit it. */
  role?: 'operator'
}

/** Prefix of conversation rooms: private to one visitor and the operators. The relay names them. */
export const CONVERSATION_PREFIX = 'conv:'

/** A visitor's private conversation as the operators' index lists it (docs/conversations.md). */
export interface Conversation {
  /** 22 characters: the room name without `conv:`. */
  id: string
  /** `conv:` + id, usable in `join()` by operators and the owner, and in the rooms HTTP API. */
  room: string
  visitor: { id: string; name: string; email?: string }
  createdAt: number
  /** Time of the newest message, in ms. */
  lastActivityAt: number
  /** First 140 characters of the newest message's text. */
  preview: string
  status: 'open' | 'closed'
  assignee: { id: string; name: string } | null
  /** `visitor`: operator messages the visitor has not read; `operators`: visitor messages no operator has read. */
  unread: { visitor: number; operators: number }
}

/** Free-form, JSON-serializable data an app attaches to a message. */
export type Meta = Record<string, unknown>

/** A position in a room's history: `offset` within the history named by `epoch`. */
export interface Position {
  /** Changes when the room's history was lost (a memory store restarted). */
  epoch: string
  /** Offset of the last message seen; 0 means "nothing yet". */
  offset: number
}

/** A stored chat message. Every field but `id`, `text` and `meta` is set by the relay. */
export interface Message {
  room: string
  /** Strictly increasing by 1 per room, starting at 1, assigned by the store. */
  offset: number
  /** Client-made id (idempotency key), unique per room within the idempotency window. */
  id: string
  from: Member
  text: string
  meta?: Meta
  /** Time the relay stored it, in milliseconds since the Unix epoch. */
  ts: number
  /** Time of the latest edit, in ms; absent when never edited. */
  editedAt?: number
  /** A tombstone: the message was deleted. Its `text` is `''` and it has no `meta`; `offset`, `id`, `from` and `ts` stay. */
  deleted?: true
  /**
   * Reactions by emoji, absent when there are none. `mine` (the reader reacted with it) is set only where the relay
   * answers one user (`joined`, `history`, `ack`); an `update` frame, shared by every member, leaves it out.
   */
  reactions?: Record<string, Reaction>
}

/** One emoji's reactions on a message. */
export interface Reaction {
  count: number
  mine?: boolean
}

/** What a change event does to its target message. */
export type Action = 'edit' | 'delete' | 'react'

/**
 * A change to a message (edit, delete, reaction), appended to the room's log with its own offset, so that
 * resume, idempotency and "each offset once, in order" cover it as they cover messages.
 */
export interface Update {
  room: string
  /** This change's own offset in the room's log (not the target's). */
  offset: number
  /** The change's client-made id (idempotency key, scoped to its sender like a message's). */
  id: string
  /** Time the relay stored the change, in ms. */
  ts: number
  /** Who made the change (an operator, or `api` for the HTTP API, may delete another's message). */
  from: Member
  action: Action
  /** Offset of the message changed. */
  target: number
  /** `react` only: the emoji, and whether `from` has it on after this change. */
  emoji?: string
  on?: boolean
  /** The target's state now (without `mine`); null when it is no longer retained. */
  message: Message | null
}

/** One member's read position in a room: everything up to and including `offset` was read. */
export interface ReadPosition {
  user: string
  offset: number
}

/** Limits the relay enforces, announced in `welcome`. */
export interface Limits {
  /** Largest frame in bytes (default 65,536). */
  maxPayload: number
  /** Longest message text in UTF-16 code units (default 4,000). */
  maxText: number
  /** Rooms one connection may be in at once (default 128). */
  maxRooms: number
  /** Publishes per second per connection, sustained (default 10). */
  publishRate: number
  /** Publishes allowed in a burst above the rate (default 20). */
  publishBurst: number
  /**
   * Other frames a client may send (`join`, `leave`, `typing`, `history` together) per second per
   * connection, sustained (default 20). `ping` and `hello` are not counted. A client paces these frames
   * by it; one refused with `rate_limited` is retried after its `retryAfter` (ms).
   */
  frameRate: number
  /** Such frames allowed in a burst above `frameRate`, in frames (default 200). */
  frameBurst: number
  /** Messages a room retains (default 1,000). */
  historyLimit: number
}

// ---------------------------------------------------------------- client -> relay

/** First frame on every connection; nothing else is accepted before it. */
export interface HelloFrame {
  type: 'hello'
  /** Protocol version the client speaks; 1 when absent. */
  v?: 1
  /** JWT (or whatever the relay's `verify` accepts). Required when the relay has auth. */
  token?: string
  /** Display name; used only when the relay runs without auth. */
  name?: string
  /** The `resume` string of an earlier `welcome`: keeps the same guest identity. */
  resume?: string
  /** The relay's operator key: signs the connection in as an operator (guest-like identity with `role: 'operator'`). */
  key?: string
}

/** Enter a room. Answered by `joined` or `error`. */
export interface JoinFrame {
  type: 'join'
  ref: string
  room: string
  /** Last position seen; the relay replays everything after it or says `recovered: false`. */
  since?: Position
  /** Recent messages wanted when there is no `since` (default 0, capped by the history limit). */
  history?: number
}

/** Leave a room. Answered by `left`. */
export interface LeaveFrame {
  type: 'leave'
  ref?: string
  room: string
}

/** Send a message. Answered by `ack` (after it is stored) or `error`. */
export interface PublishFrame {
  type: 'publish'
  ref: string
  room: string
  /** Client-made id, reused verbatim when resending: the idempotency key. */
  id: string
  text: string
  meta?: Meta
}

/** Edit one of your messages. Answered by `ack` (the change's offset, the new state in `message`) or `error`. */
export interface EditFrame {
  type: 'edit'
  ref: string
  room: string
  /** Idempotency key of the change, reused verbatim when resending. */
  id: string
  /** The message to edit. */
  offset: number
  /** The new text, under the rules of a new message's. */
  text: string
  /** Replaces the message's meta when given. */
  meta?: Meta
}

/** Delete a message (your own; operators any). Answered by `ack` or `error`. */
export interface DeleteFrame {
  type: 'delete'
  ref: string
  room: string
  id: string
  offset: number
}

/** Toggle a reaction (or set it with `on`). Answered by `ack` or `error`. */
export interface ReactFrame {
  type: 'react'
  ref: string
  room: string
  id: string
  offset: number
  /** One emoji (a single grapheme); docs/protocol.md "Reactions" has the rule. */
  emoji: string
  /** true adds, false removes; absent toggles. */
  on?: boolean
}

/** The user is typing (`active` true, the default) or stopped. Never answered. */
export interface TypingFrame {
  type: 'typing'
  room: string
  active?: boolean
}

/** Page back through history. Answered by `history`. */
export interface HistoryFrame {
  type: 'history'
  ref: string
  room: string
  /** Messages strictly before this offset (default: after the newest). */
  before?: number
  /** How many at most (default 50, capped at the history limit). */
  limit?: number
}

/** A page of a joined room's members, ordered by user id. Answered by `members`. */
export interface MembersFrame {
  type: 'members'
  ref: string
  room: string
  /** The `cursor` of the previous page (default: the first page). */
  cursor?: string
  /** How many at most (default 50, at most 200). */
  limit?: number
}

/** App-level liveness probe; the relay answers `pong` at once. */
export interface PingFrame {
  type: 'ping'
  ref?: string
}

/** A visitor asks for its conversation. Answered by `conversation` (`conversation: null` before the first message), then `operators`. */
export interface ConversationRequestFrame {
  type: 'conversation'
  ref: string
}

/** A visitor stores its name and/or email on its conversation. Answered by `conversation`. */
export interface ProfileFrame {
  type: 'profile'
  ref: string
  name?: string
  email?: string
}

/** Operators list the conversation index, newest activity first. Answered by `conversations`. */
export interface ConversationsFrame {
  type: 'conversations'
  ref: string
  status?: 'open' | 'closed'
  /** An operator id, or `'none'` for unassigned conversations. */
  assignee?: string
  cursor?: string
  /** Default 50, at most 100. */
  limit?: number
}

/** Operators change a conversation's status or assignee. Answered by `conversation`, or `not_found`. */
export interface UpdateConversationFrame {
  type: 'update-conversation'
  ref: string
  id: string
  status?: 'open' | 'closed'
  /** An operator id (its name is looked up as the relay knows it: the sender's own for its id), or null. */
  assignee?: string | null
}

/** The reader has seen the room up to `offset`. Never answered (error only on bad input). */
export interface ReadFrame {
  type: 'read'
  ref?: string
  room: string
  offset: number
}

/** Every frame a client may send. */
export type ClientFrame =
  | HelloFrame
  | JoinFrame
  | LeaveFrame
  | PublishFrame
  | TypingFrame
  | HistoryFrame
  | MembersFrame
  | PingFrame
  | ConversationRequestFrame
  | ProfileFrame
  | ConversationsFrame
  | UpdateConversationFrame
  | ReadFrame
  | EditFrame
  | DeleteFrame
  | ReactFrame

// ---------------------------------------------------------------- relay -> client

/** Answer to `hello`: the session is open. */
export interface WelcomeFrame {
  type: 'welcome'
  v: 1
  /** Id of this connection, for logs and support. */
  session: string
  user: Member
  /** Milliseconds: the relay pings at this interval; the SDK treats this long without a frame as dead. */
  heartbeat: number
  limits: Limits
  /** Opaque string to send as `hello.resume` on reconnect to keep a guest identity. */
  resume?: string
}

/** Answer to `join`. */
export interface JoinedFrame {
  type: 'joined'
  ref: string
  room: string
  epoch: string
  /** Offset of the newest stored message; 0 when the room is empty. */
  head: number
  /**
   * With `since`: true when every message after it is in `messages`; false when the
   * position was outside retained history or the epoch differed (then `messages`
   * holds the most recent `history` messages, as for a first join).
   */
  recovered: boolean
  messages: Message[]
  /**
   * Everyone in the room now, including the joining user, once per user; in a large room (`count` at or
   * above the relay's `largeRoom` setting) only the first page by user id (50) and the joining user.
   */
  members: Member[]
  /** Distinct users in the room now, the joining user included. */
  count?: number
  /**
   * With `since` and `recovered`: the changes after `since`, oldest first; absent when none. Together with
   * `messages` they are the log after `since`, in offset order.
   */
  updates?: Update[]
  /** The user's read position in the room (0: nothing read yet). */
  read?: number
  /** Messages from others after `read`, deleted ones excluded, within retained history. */
  unread?: number
  /** Other users' read positions (the 50 furthest at most), for "Seen". */
  reads?: ReadPosition[]
}

/** Answer to `leave`, or sent unasked when the relay removes the connection from a room. */
export interface LeftFrame {
  type: 'left'
  ref?: string
  room: string
}

/** A publish was stored (or had been stored before under the same `id`). */
export interface AckFrame {
  type: 'ack'
  ref: string
  room: string
  id: string
  offset: number
  ts: number
  /** After `edit`, `delete` or `react`: the target message's state now, with `mine`. */
  message?: Message
}

/** A change to a message (edit, delete, reaction) in a room the connection has joined, in log order with messages. */
export interface UpdateFrame extends Update {
  type: 'update'
}

/** A member's read position advanced (throttled: at most one per user per room per second, the latest wins). */
export interface ReadEventFrame extends ReadPosition {
  type: 'read'
  room: string
}

/** A new message in a room the connection has joined. */
export interface MessageFrame extends Message {
  type: 'message'
}

/**
 * Members who joined or left a room (the last connection of a user closing counts as leaving). In a large
 * room members get `count` with empty lists instead, at most once a second; operators still get the lists.
 */
export interface PresenceFrame {
  type: 'presence'
  room: string
  joins: Member[]
  leaves: Member[]
  /** Large rooms: distinct users in the room now. */
  count?: number
}

/** Someone started or stopped typing; the relay expires `active` after a few seconds. */
export interface TypingEventFrame {
  type: 'typing'
  room: string
  user: Member
  active: boolean
}

/** Answer to a `history` request: messages oldest first. */
export interface HistoryResultFrame {
  type: 'history'
  ref: string
  room: string
  messages: Message[]
  /** True when older messages are still retained. */
  more: boolean
}

/** Answer to `members`: a page of the room's members by user id, and the cursor of the next (null at the end). */
export interface MembersResultFrame {
  type: 'members'
  ref: string
  room: string
  members: Member[]
  cursor: string | null
}

/** Something a client sent could not be done. The connection stays open unless a close follows. */
export interface ErrorFrame {
  type: 'error'
  /** The `ref` of the frame this answers, when it had one. */
  ref?: string
  /** The room the failed frame named, when it named one. */
  room?: string
  code: ErrorCode
  /** Human-readable, for logs; never contains tokens or other users' data. */
  message: string
  /** Milliseconds to wait before trying again (with `rate_limited` and `unavailable`). */
  retryAfter?: number
}

/** Answer to `ping`. */
export interface PongFrame {
  type: 'pong'
  ref?: string
}

/**
 * With `ref`: the answer to `conversation`, `profile` or `update-conversation`. Without: a live index
 * update sent to every signed-in operator when an entry is created or changes.
 */
export interface ConversationFrame {
  type: 'conversation'
  ref?: string
  room?: string
  conversation: Conversation | null
}

/** Answer to `conversations`: a page of the index and the cursor of the next (null at the end). */
export interface ConversationsResultFrame {
  type: 'conversations'
  ref: string
  items: Conversation[]
  cursor: string | null
}

/** How many operators are online relay-wide; sent to visitors who asked for their conversation. */
export interface OperatorsFrame {
  type: 'operators'
  online: number
}

/** Every frame the relay may send. */
export type RelayFrame =
  | ConversationFrame
  | ConversationsResultFrame
  | OperatorsFrame
  | WelcomeFrame
  | JoinedFrame
  | LeftFrame
  | AckFrame
  | MessageFrame
  | PresenceFrame
  | TypingEventFrame
  | HistoryResultFrame
  | MembersResultFrame
  | ErrorFrame
  | PongFrame
  | UpdateFrame
  | ReadEventFrame

// ---------------------------------------------------------------- codes

/** Stable error codes carried by `error` frames and HTTP error bodies. */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'token_expired',
  'forbidden',
  'not_found',
  'too_large',
  'rate_limited',
  'limit_exceeded',
  'unavailable',
  'internal',
] as const

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** WebSocket close codes the relay uses; the range says what the client does. */
export const CLOSE = {
  /** Normal close: do nothing. */
  NORMAL: 1000,
  /** Origin refused by policy: do not reconnect unchanged. */
  POLICY: 1008,
  /** Frame over `maxPayload`: do not reconnect unchanged. */
  TOO_LARGE: 1009,
  /** Relay restarting or draining: reconnect after a short random delay and resume. */
  RESTART: 1012,
  /** Relay overloaded: reconnect after a short random delay and resume. */
  TRY_AGAIN: 1013,
  /** Token missing or invalid: stop (retry once if the token is a function). */
  UNAUTHORIZED: 4001,
  /** Not allowed: stop. */
  FORBIDDEN: 4003,
  /** Too many bad frames: stop. */
  TOO_MANY_ERRORS: 4009,
  /** Send queue over its bound: back off, then resume. */
  SLOW_CONSUMER: 4100,
  /** Sustained rate abuse: back off, then resume. */
  RATE_ABUSE: 4101,
  /** No `hello` in time: back off, then resume. */
  HELLO_TIMEOUT: 4102,
  /** The relay needs a fresh session: reconnect at once, then resume. */
  RESYNC: 4200,
} as const

/** What a client should do after a close with this code (DESIGN.md section 3). */
export type CloseAction = 'stop' | 'backoff' | 'soon' | 'now'

/** Maps a close code to the client's reaction. Codes outside the table are unexpected drops: back off. */
export function closeAction(code: number): CloseAction {
  if (code === CLOSE.NORMAL || code === CLOSE.POLICY || code === CLOSE.TOO_LARGE) return 'stop'
  if (code === CLOSE.RESTART || code === CLOSE.TRY_AGAIN) return 'soon'
  if (code >= 4000 && code <= 4099) return 'stop'
  if (code >= 4200 && code <= 4299) return 'now'
  return 'backoff'
}
