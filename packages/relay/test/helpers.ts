// Test helpers: a relay on port 0 and a real `ws` client that reads frames in order.
import {
  type AppendResult,
  createRelay,
  type Draft,
  type Relay,
  type RelayOptions,
  type Store,
  StoreUnavailableError,
} from '@confab/relay'
import type { RelayFrame } from '@confab/sdk/protocol'
import { afterAll, afterEach, beforeAll } from 'vitest'
import WebSocket from 'ws'
import { MemoryStore } from '../src/store/memory'
import type { Ban, ChangeDraft, QueuedEvent } from '../src/store/types'

/** Starts a relay on 127.0.0.1, port 0, without logs. */
export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: false, ...options })
  await relay.start()
  return relay
}

/** Starts one relay for the whole file (before its first test, stopped after its last); call the result for it. */
export function relayPerFile(options: RelayOptions = {}): () => Relay {
  let relay: Relay | undefined
  beforeAll(async () => {
    relay = await startRelay(options)
  })
  afterAll(async () => {
    await relay?.stop()
  })
  return () => {
    if (!relay) throw new Error('the relay starts in beforeAll: call this inside a test')
    return relay
  }
}

/** The WebSocket URL of a started relay. */
export function wsUrl(relay: Relay, path = '/ws'): string {
  return `${relay.url.replace(/^http/, 'ws')}${path}`
}

type Frame = RelayFrame & Record<string, unknown>

/** A raw protocol client: send objects or strings, await the frames the relay sends, in order. */
export class TestClient {
  readonly ws: WebSocket
  readonly frames: Frame[] = []
  /** Set once the socket closed: the close code and reason. */
  closed: { code: number; reason: string } | null = null
  #read = 0
  #waiters: Array<() => void> = []
  readonly #opened: Promise<void>

  constructor(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}) {
    const { protocols = ['confab.v1'], ...rest } = options
    this.ws = new WebSocket(url, protocols, rest)
    this.#opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()))
      this.#wake()
    })
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.#wake()
    })
    this.ws.on('error', () => this.#wake())
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves once the socket is open. */
  opened(): Promise<void> {
    return this.#opened
  }

  /** Sends a frame (an object is JSON-encoded, a string goes as is). */
  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The next unread frame matching `match` (frames before it are skipped), within `timeout` ms. */
  async next(match: (frame: Frame) => boolean = () => true, timeout = 5000): Promise<Frame> {
    const deadline = Date.now() + timeout
    for (;;) {
      while (this.#read < this.frames.length) {
        const frame = this.frames[this.#read++] as Frame
        if (match(frame)) return frame
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before the frame arrived`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching frame within ${timeout} ms; got ${JSON.stringify(this.frames)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The next frame of a type. */
  nextOf(type: string, timeout?: number): Promise<Frame> {
    return this.next((frame) => frame.type === type, timeout)
  }

  /** Resolves with the close code and reason. */
  async closedWith(timeout = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeout
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`socket still open after ${timeout} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.closed
  }

  /** Sends hello and returns the welcome frame. */
  async hello(fields: Record<string, unknown> = {}): Promise<Frame> {
    await this.opened()
    this.send({ type: 'hello', ...fields })
    return this.next((f) => f.type === 'welcome' || f.type === 'error')
  }

  /** Joins a room and returns the joined (or error) frame. */
  async join(room: string, fields: Record<string, unknown> = {}): Promise<Frame> {
    const ref = `j-${room}-${Math.random()}`
    this.send({ type: 'join', ref, room, ...fields })
    return this.next((f) => f.ref === ref)
  }

  /** Publishes and returns the ack (or error) frame. */
  async publish(room: string, text: string, fields: Record<string, unknown> = {}): Promise<Frame> {
    const ref = `p-${Math.random()}`
    this.send({ type: 'publish', ref, room, id: `m-${Math.random()}`, text, ...fields })
    return this.next((f) => f.ref === ref)
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.ws.readyState === WebSocket.CONNECTING) {
      await this.#opened.catch(() => {})
    }
    this.ws.close()
    await this.closedWith().catch(() => this.ws.terminate())
  }
}

/** Opens a client, says hello, and returns it. */
export async function connectClient(relay: Relay, hello: Record<string, unknown> = {}): Promise<TestClient> {
  const client = new TestClient(wsUrl(relay))
  const welcome = await client.hello(hello)
  if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`)
  return client
}

/** What `perTest` hands a test file: relays and clients that are closed when each test ends. */
export interface PerTest {
  /** Starts a relay (see `startRelay`), stopped after the test. */
  relayWith(options?: RelayOptions): Promise<Relay>
  /** Connects and says hello (see `connectClient`), closed after the test. */
  client(relay: Relay, hello?: Record<string, unknown>): Promise<TestClient>
  /** Connects two clients (see `client`); the first, then the second, joins `room`. */
  joinedPair(relay: Relay, room: string): Promise<[TestClient, TestClient]>
  /** Closes a client the test opened itself after the test. */
  track<T extends TestClient>(client: T): T
}

/** Registers an `afterEach` that closes every client, then stops every relay, the current test opened. */
export function perTest(): PerTest {
  const relays: Relay[] = []
  const clients: TestClient[] = []
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await Promise.all(relays.splice(0).map((r) => r.stop()))
  })
  async function client(relay: Relay, hello: Record<string, unknown> = {}): Promise<TestClient> {
    const c = await connectClient(relay, hello)
    clients.push(c)
    return c
  }
  return {
    async relayWith(options = {}) {
      const relay = await startRelay(options)
      relays.push(relay)
      return relay
    },
    client,
    async joinedPair(relay, room) {
      const first = await client(relay)
      const second = await client(relay)
      await first.join(room)
      await second.join(room)
      return [first, second]
    },
    track(client) {
      clients.push(client)
      return client
    },
  }
}

/**
 * A memory store a test can unplug (`down`: appends fail as if Redis were
 * unreachable, and `ready` is false) or wipe (`reset()`: every room's history
 * is lost, under a new epoch, as when a store restarts; `forget()`: lost
 * under the same epoch, as when Redis loses its last writes).
 */
export class TestStore implements Store {
  down = false
  inner = new MemoryStore()
  /** The epoch reported instead of the inner store's, after `forget()`. */
  #epoch: string | null = null
  get ready(): boolean {
    return !this.down
  }
  reset(): void {
    this.inner = new MemoryStore()
    this.#epoch = null
  }
  async forget(): Promise<void> {
    this.#epoch ??= (await this.inner.state('any')).epoch
    this.inner = new MemoryStore()
  }
  async append(draft: Draft): Promise<AppendResult> {
    if (this.down) throw new StoreUnavailableError('connection refused')
    const result = await this.inner.append(draft)
    return this.#epoch === null ? result : { ...result, epoch: this.#epoch }
  }
  async state(room: string) {
    const state = await this.inner.state(room)
    return this.#epoch === null ? state : { ...state, epoch: this.#epoch }
  }
  after(room: string, after: number, limit: number, viewer?: string) {
    return this.inner.after(room, after, limit, viewer)
  }
  before(room: string, before: number, limit: number, viewer?: string) {
    return this.inner.before(room, before, limit, viewer)
  }
  async change(draft: ChangeDraft) {
    if (this.down) throw new StoreUnavailableError('connection refused')
    const result = await this.inner.change(draft)
    return this.#epoch === null ? result : { ...result, epoch: this.#epoch }
  }
  async markRead(room: string, user: string, offset: number) {
    if (this.down) throw new StoreUnavailableError('connection refused')
    return this.inner.markRead(room, user, offset)
  }
  readState(room: string, user: string) {
    return this.inner.readState(room, user)
  }
  reads(room: string, limit: number) {
    return this.inner.reads(room, limit)
  }
  close() {
    return this.inner.close()
  }
  find(room: string, sender: string, id: string) {
    return this.inner.find(room, sender, id)
  }
  addBan(ban: Ban) {
    return this.inner.addBan(ban)
  }
  removeBan(id: string) {
    return this.inner.removeBan(id)
  }
  bans(now: number) {
    return this.inner.bans(now)
  }
  pushEvent(event: QueuedEvent) {
    return this.inner.pushEvent(event)
  }
  peekEvents(limit: number) {
    return this.inner.peekEvents(limit)
  }
  retryEvent(id: string, attempts: number, next: number) {
    return this.inner.retryEvent(id, attempts, next)
  }
  finishEvent(id: string, reason?: string) {
    return this.inner.finishEvent(id, reason)
  }
  deadEvents(limit: number) {
    return this.inner.deadEvents(limit)
  }
  lease() {
    return this.inner.lease()
  }
  eraseUser(user: string) {
    return this.inner.eraseUser(user)
  }
  async conversations(query: Parameters<Store['conversations']>[0]) {
    if (this.down) throw new StoreUnavailableError('connection refused')
    return this.inner.conversations(query)
  }
  async conversation(id: string) {
    if (this.down) throw new StoreUnavailableError('connection refused')
    return this.inner.conversation(id)
  }
  async updateConversation(id: string, patch: Parameters<Store['updateConversation']>[1]) {
    if (this.down) throw new StoreUnavailableError('connection refused')
    return this.inner.updateConversation(id, patch)
  }
}
