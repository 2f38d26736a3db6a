// A bare protocol client over `ws`, for cluster tests that look at exact frames.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import type {
  AckFrame,
  ClientFrame,
  ErrorFrame,
  JoinedFrame,
  Member,
  MessageFrame,
  Position,
  RelayFrame,
  WelcomeFrame,
} from '@confab/sdk/protocol'
import { SUBPROTOCOL } from '@confab/sdk/protocol'
import WebSocket from 'ws'
import { Inbox } from '../storage/inbox'

/** One WebSocket connection that has said hello. */
export class WireClient {
  readonly frames = new Inbox<RelayFrame>()
  readonly closed: Promise<unknown>

  private constructor(
    readonly socket: WebSocket,
    readonly welcome: WelcomeFrame,
  ) {
    this.closed = once(socket, 'close')
  }

  /** Connects, sends `hello` (with `resume` to be the same guest again) and waits for `welcome`. */
  static async open(url: string, name: string, resume?: string): Promise<WireClient> {
    const socket = new WebSocket(url, SUBPROTOCOL)
    const early: RelayFrame[] = []
    socket.on('message', (data) => early.push(JSON.parse(String(data)) as RelayFrame))
    await once(socket, 'open')
    socket.send(JSON.stringify({ type: 'hello', name, ...(resume ? { resume } : {}) }))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no welcome in 5 s')), 5000)
      socket.on('message', () => {
        if (early.some((f) => f.type === 'welcome')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const welcome = early.find((f) => f.type === 'welcome') as WelcomeFrame
    socket.removeAllListeners('message')
    const client = new WireClient(socket, welcome)
    for (const frame of early) if (frame !== welcome) client.frames.push(frame)
    socket.on('message', (data) => client.frames.push(JSON.parse(String(data)) as RelayFrame))
    return client
  }

  get user(): Member {
    return this.welcome.user
  }

  send(frame: ClientFrame): void {
    this.socket.send(JSON.stringify(frame))
  }

  /** Joins and resolves with `joined` (or rejects with the error frame). */
  async join(room: string, options: { history?: number } = {}, since?: Position): Promise<JoinedFrame> {
    const ref = randomUUID()
    this.send({ type: 'join', ref, room, ...options, ...(since ? { since } : {}) })
    const answer = await this.#answer(ref)
    if (answer.type !== 'joined') throw new Error(`join failed: ${JSON.stringify(answer)}`)
    return answer
  }

  /** Publishes and resolves with the `ack` or `error` frame. */
  async publish(room: string, text: string, id: string = randomUUID()): Promise<AckFrame | ErrorFrame> {
    const ref = randomUUID()
    this.send({ type: 'publish', ref, room, id, text })
    return (await this.#answer(ref)) as AckFrame | ErrorFrame
  }

  /** Every `message` frame of the room received so far. */
  messages(room: string): MessageFrame[] {
    return this.frames.items.filter((f): f is MessageFrame => f.type === 'message' && f.room === room)
  }

  /** Waits until `count` messages of the room have arrived. */
  async waitMessages(room: string, count: number, timeout = 5000): Promise<MessageFrame[]> {
    await this.frames.next(() => this.messages(room).length >= count, timeout, `${count} messages in ${room}`)
    return this.messages(room)
  }

  close(): void {
    this.socket.close()
  }

  /** The frame answering `ref`; rejects at once if the socket closes first. */
  #answer(ref: string): Promise<RelayFrame> {
    return Promise.race([
      this.frames.next((f) => 'ref' in f && f.ref === ref, 5000, `the answer to ${ref}`),
      this.closed.then(() => Promise.reject(new Error(`closed before the answer to ${ref}`))),
    ])
  }
}
