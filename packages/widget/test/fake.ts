// A scripted stand-in for an @confab/sdk client: tests drive relay events by hand.
import type { SendOptions } from '@confab/sdk'
import type { ChatClient, ChatRoom, Member, Message, Status } from '../src/client'

type Listener = (...args: never[]) => void

class Emitter {
  private readonly listeners = new Map<string, Set<Listener>>()
  on(event: string, cb: Listener): () => void {
    const set = this.listeners.get(event) ?? new Set()
    this.listeners.set(event, set)
    set.add(cb)
    return () => set.delete(cb)
  }
  emit(event: string, ...args: unknown[]): void {
    for (const cb of this.listeners.get(event) ?? []) (cb as (...a: unknown[]) => void)(...args)
  }
  count(event: string): number {
    return this.listeners.get(event)?.size ?? 0
  }
}

/** A send the test has not settled yet. */
export interface PendingSend {
  text: string
  /** The id the message goes out with: the one passed, else one made here, as the SDK does. */
  id: string
  /** The id the widget passed, if any (a retry passes the first attempt's). */
  given: string | undefined
  resolve(message: Message): void
  reject(error: Error): void
}

/** A room whose relay side is played by the test. */
export class FakeRoom extends Emitter implements ChatRoom {
  readonly sends: PendingSend[] = []
  readonly historyCalls: { before?: number; limit?: number }[] = []
  historyResult: Message[] = []
  typed = 0
  left = false
  /** A position the SDK restored from storage (the room then resumes instead of getting history). */
  position: { epoch: string; offset: number } | undefined = undefined
  constructor(
    readonly name: string,
    readonly options?: { history?: number },
  ) {
    super()
  }
  send(text: string, options: SendOptions = {}): Promise<Message> {
    const id = options.id ?? `sdk-${++ids}`
    // Like the SDK's ConfabError, a rejection carries the message's id for a retry.
    return new Promise((resolve, reject) =>
      this.sends.push({ text, id, given: options.id, resolve, reject: (e) => reject(Object.assign(e, { id })) }),
    )
  }
  typing(): void {
    this.typed++
  }
  /** Calls of markRead. */
  markReads = 0
  markRead(): void {
    this.markReads++
  }
  /** The SDK's unread count and the others' read positions; the test sets them as a relay would. */
  unread: number | undefined = undefined
  reads: { user: string; offset: number }[] = []
  /** The SDK's member count; undefined plays a client without one (the list's length counts). */
  memberCount: number | undefined = undefined
  /** Edits, deletes and reactions the widget asked for, settled by the test. */
  readonly changes: {
    action: 'edit' | 'delete' | 'react'
    offset: number
    arg?: string
    resolve(message: Message): void
    reject(error: Error): void
  }[] = []
  private change(action: 'edit' | 'delete' | 'react', offset: number, arg?: string): Promise<Message> {
    return new Promise((resolve, reject) => this.changes.push({ action, offset, arg, resolve, reject }))
  }
  edit(offset: number, text: string): Promise<Message> {
    return this.change('edit', offset, text)
  }
  delete(offset: number): Promise<Message> {
    return this.change('delete', offset)
  }
  react(offset: number, emoji: string): Promise<Message> {
    return this.change('react', offset, emoji)
  }
  async history(options: { before?: number; limit?: number }): Promise<Message[]> {
    this.historyCalls.push(options)
    return this.historyResult
  }
  leave(): void {
    this.left = true
  }
}

/** A client whose status and rooms the test controls. */
export class FakeClient extends Emitter implements ChatClient {
  /** A room position "restored from storage": rooms joined while it is set start from it, as the SDK's do. */
  static restore: { epoch: string; offset: number } | undefined
  status: Status = 'connecting'
  user: Member | undefined = { id: 'u-me', name: 'Me' }
  readonly rooms: FakeRoom[] = []
  closed = false
  join(room: string, options?: { history?: number }): FakeRoom {
    const r = new FakeRoom(room, options)
    r.position = FakeClient.restore
    this.rooms.push(r)
    return r
  }
  close(): void {
    this.closed = true
  }
  /** Conversation mode: `conversation` requests (which name the room), settled by the test. */
  readonly conversations: { resolve(name: string): void; reject(e: Error): void }[] = []
  /** Other ref'd requests (the `profile` frame), answered at once. */
  readonly requests: Record<string, unknown>[] = []
  /** `conversation()` calls (the operator-presence subscription), with their join options. */
  readonly subscribed: unknown[] = []
  conversation(options?: unknown): Promise<FakeRoom> {
    this.subscribed.push(options)
    return new Promise(() => undefined)
  }
  request(frame: Record<string, unknown>): Promise<unknown> {
    if (frame.type === 'conversation') {
      return new Promise((resolve, reject) =>
        this.conversations.push({
          resolve: (room) => resolve({ type: 'conversation', room, conversation: null }),
          reject,
        }),
      )
    }
    this.requests.push(frame)
    return Promise.resolve({ type: 'conversation', conversation: null })
  }
  setStatus(status: Status): void {
    this.status = status
    this.emit('status', status)
  }
  get room(): FakeRoom {
    const r = this.rooms.at(-1)
    if (!r) throw new Error('no room joined')
    return r
  }
}

let ids = 0
let offset = 0
/** A stored message from `from`, with the next offset unless one is given. */
export function msg(
  text: string,
  from: Member = { id: 'u-kira', name: 'Kira' },
  extra: Partial<Message> = {},
): Message {
  offset++
  return { room: 'lobby', offset, id: `m${offset}`, from, text, ts: Date.UTC(2026, 0, 1, 12, 0, offset), ...extra }
}

/** Resets the offset counter so each test starts at 1. */
export function resetOffsets(): void {
  offset = 0
}
