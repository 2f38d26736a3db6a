import type { Member, Message } from '@confab/sdk/protocol'

export type { Member, Message }

/** Connection state of an SDK client (DESIGN.md section 4). */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** The part of an `@confab/sdk` room the widget uses. */
export interface ChatRoom {
  on(event: 'message', cb: (message: Message) => void): () => void
  on(event: 'presence' | 'typing', cb: (members: Member[]) => void): () => void
  on(event: 'reset', cb: (info: unknown) => void): () => void
  /**
   * Sends a message with the client-made `id` given (the SDK's idempotency key): a retry passes
   * the same id, so a first attempt that was stored after all is not stored or shown twice.
   */
  send(text: string, options: { id: string }): Promise<Message>
  typing(): void
  history(options: { before?: number; limit?: number }): Promise<Message[]>
  leave(): void
}

/** The part of an `@confab/sdk` client the widget uses; assign your own to `element.client`. */
export interface ChatClient {
  readonly status: Status
  readonly user?: Member | null
  on(event: 'status', cb: (status: Status) => void): () => void
  join(room: string, options?: { history?: number }): ChatRoom
  close(): void
}

/** Options the widget passes when it opens its own connection. */
export interface ConnectOptions {
  name?: string
  token?: string
}

/** Opens a client; the default is `@confab/sdk`'s `connect`. */
export type Connect = (url: string, options: ConnectOptions) => ChatClient
