// The public surface of @confab/sdk, export by export. Everything else is internal.

export type { ReconnectOptions } from './backoff'
export type { Client, ClientEvents, ConnectOptions, Socket, SocketConstructor, Status } from './client'
/** Opens a resilient connection to a Confab relay. */
export { connect } from './client'
export type { ConfabErrorCode } from './errors'
/** The error every SDK promise rejects with and the `error` event carries. */
export { ConfabError } from './errors'
export type { ErrorCode, Limits, Member, Message, Meta, Position } from './protocol'
export type { HistoryOptions, JoinOptions, ResetInfo, Room, RoomEvents } from './room'
export type { StorageLike } from './storage'
