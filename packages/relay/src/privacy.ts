import type { Message } from '@confab/sdk/protocol'
import type { Moderation } from './moderation'
import type { Rooms } from './rooms'
import { isUpdate, type Store } from './store/types'
import type { Webhooks } from './webhooks'

/** Options of `Privacy`. */
export interface PrivacyOptions {
  store: Store
  rooms: Rooms
  moderation: Moderation
  webhooks: Webhooks | undefined
  logger: { error(object: object, message: string): void }
}

/** What an erasure removed. */
export interface Erasure {
  /** Messages turned into tombstones. */
  messages: number
  /** Bans and mutes lifted. */
  bans: number
}

/**
 * Erasure and export (docs/privacy.md). Plain functions of data, so the
 * conversations' operators call `erase` the same way `DELETE /v1/users/{id}` does.
 */
export class Privacy {
  readonly #o: PrivacyOptions
  readonly #erasers: ((user: string) => Promise<void>)[] = []

  constructor(options: PrivacyOptions) {
    this.#o = options
  }

  /**
   * Adds what else an erasure must clear, run after the messages: the
   * conversation index (name, email) and read positions register theirs here.
   */
  addEraser(eraser: (user: string) => Promise<void>): void {
    this.#erasers.push(eraser)
  }

  /**
   * Tombstones every retained message of the user on the backend, lifts their
   * bans, tells each room's members (a `deleted` frame) and queues
   * `message.deleted` webhooks, then runs the erasers added with `addEraser`.
   */
  async erase(user: string): Promise<Erasure> {
    const erased = await this.#o.store.eraseUser(user)
    const bans = await this.#o.moderation.liftAll(user)
    for (const { room, offset } of erased) {
      await this.#o.rooms.deleted(room, offset).catch((error: unknown) => {
        this.#o.logger.error({ err: error, room }, 'deleted notice failed')
      })
      if (this.#o.webhooks !== undefined) {
        const [message] = await this.#o.store.after(room, offset - 1, 1)
        if (message !== undefined && !isUpdate(message) && message.offset === offset)
          await this.#o.webhooks.messageDeleted(message)
      }
    }
    for (const eraser of this.#erasers) await eraser(user)
    return { messages: erased.length, bans }
  }

  /** Every retained message of the room in its current state, oldest first, a page at a time (change events skipped). */
  async *export(room: string): AsyncGenerator<Message> {
    const { store } = this.#o
    const state = await store.state(room)
    let after = state.first - 1
    for (;;) {
      const page = await store.after(room, after, 500)
      for (const entry of page) if (!isUpdate(entry)) yield entry
      const last = page.at(-1)
      if (last === undefined || last.offset >= state.head) return
      after = last.offset
    }
  }
}
