// A listener that speaks the wire protocol itself, with its own resume logic,
// so the failover checker does not depend on the SDK: after every drop it
// reconnects and re-joins with the last (epoch, offset) it saw.
import { setTimeout as delay } from 'node:timers/promises'
import type { Message, MessageFrame, Position, RelayFrame } from '@confab/sdk/protocol'
import { WireClient } from './wire-client'

/** What the relay put on the wire, before any client-side dedup. */
export interface WireStats {
  /** Message frames carrying an offset this listener had already received. */
  duplicates: number
  /** Message frames skipping past the next expected offset. */
  gaps: number
  /** Re-joins answered `recovered: false`. */
  unrecovered: number
  /** Connections after the first. */
  reconnects: number
  /** Why the last failed attempt failed, if one did. */
  lastError: unknown
}

/** Milliseconds between reconnect attempts: a client's pause, not a test's wait. */
const RETRY_EVERY = 20

/** Joins `room` through `url` and keeps receiving it across disconnects until `stop()`. */
export class ResumingListener {
  readonly stats: WireStats = { duplicates: 0, gaps: 0, unrecovered: 0, reconnects: 0, lastError: undefined }
  #position: Position | undefined
  #client: WireClient | null = null
  #stopped = false
  /** Called after every successful (re-)join. */
  onJoined: () => void = () => {}

  constructor(
    readonly url: string,
    readonly room: string,
    readonly name: string,
    /** Receives each offset once, in order. */
    readonly onMessage: (message: Message) => void,
  ) {}

  /** Resolves once the first join is done; drops after that are handled in the background. */
  start(): Promise<void> {
    return new Promise((resolve) => void this.#run(resolve))
  }

  stop(): void {
    this.#stopped = true
    this.#client?.close()
  }

  async #run(joined: () => void): Promise<void> {
    while (!this.#stopped) {
      try {
        const client = await WireClient.open(this.url, this.name)
        this.#client = client
        await this.#join(client)
        joined()
        this.onJoined()
        await client.closed
      } catch (error) {
        this.stats.lastError = error
      }
      if (this.#stopped) return
      this.stats.reconnects++
      await delay(RETRY_EVERY)
    }
  }

  async #join(client: WireClient): Promise<void> {
    // Live messages can arrive before `joined`: hold them until its messages are in.
    let held: MessageFrame[] | null = []
    // Inbox.push is readonly to its callers; here it is wrapped on purpose, to see frames as they arrive.
    const frames: { push: (frame: RelayFrame) => void } = client.frames
    const push = frames.push
    frames.push = (frame) => {
      push(frame)
      if (frame.type !== 'message' || frame.room !== this.room) return
      if (held) held.push(frame)
      else this.#receive(frame)
    }
    const since = this.#position
    const joined = await client.join(this.room, {}, since)
    if (since && !joined.recovered) this.stats.unrecovered++
    if (!since || !joined.recovered) this.#position = { epoch: joined.epoch, offset: joined.head }
    for (const message of since && joined.recovered ? joined.messages : []) this.#receive(message)
    for (const message of held) this.#receive(message)
    held = null
  }

  #receive(message: Message): void {
    const position = this.#position as Position
    if (message.offset <= position.offset) {
      this.stats.duplicates++
      return
    }
    if (message.offset > position.offset + 1) this.stats.gaps++
    position.offset = message.offset
    this.onMessage(message)
  }
}
