// A scripted stand-in for a WebSocket: tests open it, feed it relay frames, close it
// with a code, and read what the SDK sent. Shaped like the browser API the SDK uses.
import type { ClientFrame, Limits, RelayFrame, WelcomeFrame } from '../../src/protocol'

/** Every FakeSocket made since the last `FakeSocket.reset()`, oldest first. */
const made: FakeSocket[] = []

export class FakeSocket {
  static reset(): void {
    made.length = 0
  }
  static get all(): FakeSocket[] {
    return made
  }
  /** The newest socket; throws when none was made. */
  static get last(): FakeSocket {
    const s = made.at(-1)
    if (!s) throw new Error('no FakeSocket was made')
    return s
  }

  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  /** Frames the SDK sent, parsed. */
  readonly sent: ClientFrame[] = []
  /** True once the SDK called close(). */
  closedByClient = false

  constructor(
    readonly url: string,
    readonly protocols: string,
  ) {
    made.push(this)
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.sent.push(JSON.parse(data) as ClientFrame)
  }
  close(): void {
    this.closedByClient = true
    this.readyState = 3
  }

  /** The connection opens; the SDK should send hello. */
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  /** The relay sends a frame. */
  receive(frame: RelayFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  /** The connection closes with `code` (the relay closed it, or the network dropped it: 1006). */
  drop(code = 1006): void {
    this.readyState = 3
    this.onclose?.({ code })
  }
  /** Opens and welcomes, as a relay would. */
  welcome(overrides: Partial<WelcomeFrame> = {}): void {
    this.open()
    this.receive({ ...WELCOME, ...overrides })
  }
  /** Frames the SDK sent of one type. */
  sentOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type)
  }
}

export const ALICE = { id: 'u-alice', name: 'Alice' }
export const BOB = { id: 'u-bob', name: 'Bob' }

export const WELCOME: WelcomeFrame = {
  type: 'welcome',
  v: 1,
  session: 's1',
  user: ALICE,
  heartbeat: 30_000,
  // Without `frameRate`/`frameBurst`, as a relay from before them: the SDK then paces no other frames (client.ts).
  limits: {
    maxPayload: 65_536,
    maxText: 4_000,
    maxRooms: 128,
    publishRate: 10,
    publishBurst: 20,
    historyLimit: 1_000,
  } satisfies Omit<Limits, 'frameRate' | 'frameBurst'> as Limits,
}
