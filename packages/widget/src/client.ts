// The SDK surface the widget uses, named from @confab/sdk's own types so the two cannot drift apart.
import type {
  Client,
  JoinOptions,
  Limits,
  Member,
  Message,
  Room,
  ConnectOptions as SdkConnectOptions,
  Status,
} from '@confab/sdk'
import type { ReadPosition } from '@confab/sdk/protocol'

export type { Limits, Member, Message, ReadPosition, Status }

/** The part of an `@confab/sdk` room the widget uses. */
export type ChatRoom = Pick<Room, 'on' | 'send' | 'typing' | 'history' | 'leave' | 'position'> & {
  /** Tells the relay the user has read up to the newest message (while the chat is on screen). */
  markRead?(offset?: number): void
  readonly name?: string
  /**
   * The message lifecycle (issue 14), each resolving with the message's new state. Optional: without them the
   * widget offers no Edit, Delete or reactions.
   */
  edit?(offset: number, text: string): Promise<Message>
  delete?(offset: number): Promise<Message>
  react?(offset: number, emoji: string): Promise<Message>
  /** Messages from others after the user's read position: the launcher's badge (it survives a reload). */
  readonly unread?: number
  /** Other members' read positions: "Seen" in conversation mode. */
  readonly reads?: readonly ReadPosition[]
  /** Distinct users in the room (the SDK's count; a large room's `presence` lists only a page). Default: the list's length. */
  readonly memberCount?: number
}

/**
 * The part of an `@confab/sdk` client the widget uses; assign your own to `element.client`. `limits` (the last
 * `welcome`'s) is optional: without it the widget assumes the relay's defaults.
 */
export type ChatClient = Pick<Client, 'status' | 'user' | 'on' | 'close'> & {
  readonly limits?: Limits | undefined
  join(room: string, options?: JoinOptions): ChatRoom
  /** Conversation mode: the visitor's private conversation, named by the relay. */
  conversation?(options?: JoinOptions): Promise<ChatRoom & { readonly name: string }>
  /** Conversation mode: a ref'd request (the `profile` frame). */
  request?(frame: { type: string } & Record<string, unknown>): Promise<unknown>
}

/** Options the widget passes when it opens its own connection. */
export type ConnectOptions = Pick<SdkConnectOptions, 'name' | 'token' | 'persist'>

/** Opens a client; the default is `@confab/sdk`'s `connect`. */
export type Connect = (url: string, options: ConnectOptions) => ChatClient
