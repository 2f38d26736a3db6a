// The public surface of @confab/sdk, export by export. Everything else is internal.

export type { ReconnectOptions } from './backoff.js'
export type { Client, ClientEvents, ConnectOptions, Socket, SocketConstructor, Status } from './client.js'
/** Opens a resilient connection to a Confab relay. */
export { connect } from './client.js'
export type { ConfabErrorCode } from './errors.js'
/** The error every SDK promise rejects with and the `error` event carries. */
export { ConfabError } from './errors.js'
export { newId } from './id.js'
export type {
  Action,
  Conversation,
  ErrorCode,
  Limits,
  Member,
  Message,
  Meta,
  Position,
  Reaction,
  ReadPosition,
  Update,
} from './protocol.js'
export type { HistoryOptions, JoinOptions, ResetInfo, Room, RoomEvents, SendOptions } from './room.js'
export type { StorageLike } from './storage.js'
