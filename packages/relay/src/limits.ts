import { readFileSync } from 'node:fs'
import type { Server as NetServer, Socket } from 'node:net'

/** A bucket's tokens after `elapsed` ms at `rate` per second, capped at `burst`. */
function refilled(tokens: number, elapsed: number, rate: number, burst: number): number {
  return Math.min(burst, tokens + (elapsed * rate) / 1000)
}

/** Milliseconds until a bucket at `rate` per second that holds `tokens` (< 1) has one. */
function untilToken(tokens: number, rate: number): number {
  return Math.ceil(((1 - tokens) * 1000) / rate)
}

/**
 * A token bucket: `rate` tokens per second refill up to `burst`. Time is
 * read only when a token is taken, so an idle bucket costs nothing.
 */
export class TokenBucket {
  readonly #rate: number
  readonly #burst: number
  readonly #now: () => number
  #tokens: number
  #updated: number

  /** `rate` per second, `burst` at most; `now` in ms (default Date.now). */
  constructor(rate: number, burst: number, now: () => number = Date.now) {
    this.#rate = rate
    this.#burst = burst
    this.#now = now
    this.#tokens = burst
    this.#updated = now()
  }

  /** Takes one token: 0 when granted, otherwise the ms until one is available. */
  take(): number {
    const now = this.#now()
    this.#tokens = refilled(this.#tokens, now - this.#updated, this.#rate, this.#burst)
    this.#updated = now
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return untilToken(this.#tokens, this.#rate)
  }
}

/** What `RateGate.take` answers when the sender keeps ignoring its retry hints: close with 4101. */
export const ABUSE = -1

/** The settings of `RateGate`s: one object shared by every gate with the same limits, so a gate holds only its state. */
export class GatePolicy {
  /** Milliseconds one token takes to refill. */
  readonly interval: number

  /** `rate` per second, `burst` at most, closed after `abuse` ignored hints; `now` in ms (default Date.now). */
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly abuse: number,
    readonly now: () => number = Date.now,
  ) {
    this.interval = 1000 / rate
  }
}

/**
 * A token bucket for a client that is told when to retry, and judged on
 * whether it listens. Each refused frame gets its own slot in a virtual
 * queue (`retryAfter`: the first refusal waits for the next token, the next
 * one a token later, and so on), so a client that retries every refused
 * frame at its hint is granted every retry. Refusals during one token
 * interval after the first are forgiven: those frames were on their way
 * before the client could read the first hint (a start-up burst). Later
 * refusals, while hints given are still pending, count as ignored hints;
 * `abuse` of them close the connection. Once every hint has come due the
 * count starts over.
 */
export class RateGate {
  readonly #policy: GatePolicy
  // The bucket's state is kept here rather than in a TokenBucket: every joined socket has a gate.
  #tokens: number
  #updated: number
  /** When the last refused frame was told to come back, in ms. */
  #queueEnd = 0
  /** Until when refusals are forgiven, in ms. */
  #graceEnd = 0
  #ignored = 0

  /**
   * With shared settings; with `grantedAt` (ms), the gate as it is once it has
   * granted its first frame at that time (the policy's burst must be at least 1).
   */
  constructor(policy: GatePolicy, grantedAt?: number)
  /** `rate` per second, `burst` at most, closed after `abuse` ignored hints; `now` in ms (default Date.now). */
  constructor(rate: number, burst: number, abuse: number, now?: () => number)
  constructor(rateOrPolicy: number | GatePolicy, burstOrGrantedAt?: number, abuse = 1, now: () => number = Date.now) {
    if (typeof rateOrPolicy === 'number') {
      this.#policy = new GatePolicy(rateOrPolicy, burstOrGrantedAt ?? 1, abuse, now)
      this.#tokens = this.#policy.burst
      this.#updated = now()
      return
    }
    const policy = rateOrPolicy
    this.#policy = policy
    if (burstOrGrantedAt === undefined) {
      this.#tokens = policy.burst
      this.#updated = policy.now()
    } else {
      // A fresh gate refills nothing in the instant it is made, then takes one token: its time is all it needs.
      this.#tokens = policy.burst - 1
      this.#updated = burstOrGrantedAt
    }
  }

  /** 0 when granted; otherwise the ms to wait before retrying, or `ABUSE` when the sender ignores its hints. */
  take(): number {
    const { rate, burst, abuse, interval } = this.#policy
    const now = this.#policy.now()
    this.#tokens = refilled(this.#tokens, now - this.#updated, rate, burst)
    this.#updated = now
    const settled = now >= this.#queueEnd
    if (settled) this.#ignored = 0
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    const wait = untilToken(this.#tokens, rate)
    if (settled) this.#graceEnd = now + interval
    else if (now >= this.#graceEnd && ++this.#ignored >= abuse) return ABUSE
    this.#queueEnd = Math.max(now + wait, this.#queueEnd + interval)
    return Math.ceil(this.#queueEnd - now)
  }
}

/** Counts open sockets per client address, to cap them. */
export class AddressCounter {
  readonly #counts = new Map<string, number>()
  readonly #max: number

  /** At most `max` at once per address. */
  constructor(max: number) {
    this.#max = max
  }

  /** Counts one more for the address; false (and nothing counted) when it is at the cap. */
  acquire(address: string): boolean {
    const count = this.#counts.get(address) ?? 0
    if (count >= this.#max) return false
    this.#counts.set(address, count + 1)
    return true
  }

  /** Counts one less for the address. */
  release(address: string): void {
    const count = this.#counts.get(address) ?? 0
    if (count <= 1) this.#counts.delete(address)
    else this.#counts.set(address, count - 1)
  }
}

/** File descriptors kept free below the open-file limit for storage, logs and the relay's own files. */
const FD_RESERVE = 64

/**
 * The default cap on open TCP connections: the soft open-file limit of the
 * process less a reserve, so the relay refuses sockets before `accept` fails
 * with EMFILE. 0 (no cap) where the limit cannot be read or is unlimited.
 */
export function defaultMaxSockets(limits = '/proc/self/limits'): number {
  let text: string
  try {
    text = readFileSync(limits, 'utf8')
  } catch {
    return 0
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1]
  return soft === undefined ? 0 : Math.max(1, Number(soft) - FD_RESERVE)
}

/** How long a refused socket may stay open to read our answer before it is destroyed, in ms. */
const REFUSAL_GRACE = 1000 // 1 second

/** Answers a raw TCP connection with an HTTP error and closes it, without handing it to the HTTP server. */
function refuseSocket(socket: Socket, status: 429 | 503, body: string): void {
  const reason = status === 429 ? 'Too Many Requests' : 'Service Unavailable'
  socket.on('error', () => socket.destroy())
  // Read and drop what the client sends, so closing does not reset the connection before it reads the answer.
  socket.resume()
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  const timer = setTimeout(() => socket.destroy(), REFUSAL_GRACE)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
}

/**
 * Admits TCP connections before the HTTP server reads a byte of them: at
 * most `perAddress` open per peer address (HTTP 429 beyond) and `total` open
 * in all (HTTP 503 beyond; 0 for no cap). Peers that are trusted proxies are
 * not counted per address here: their clients are counted per forwarded
 * address when they upgrade to a WebSocket.
 */
export class SocketGate {
  readonly #perAddress: AddressCounter
  readonly #total: number
  readonly #trusted: (address: string) => boolean
  /**
   * One `close` listener for every socket, called with the socket as `this`: a
   * closure and a `once` wrapper per socket would cost about 200 bytes each.
   * The address is read again (Node keeps it), and is counted again exactly when it was.
   */
  readonly #release: (this: Socket) => void
  #open = 0

  constructor(perAddress: AddressCounter, total: number, trusted: (address: string) => boolean) {
    this.#perAddress = perAddress
    this.#total = total
    this.#trusted = trusted
    const gate = this
    this.#release = function release(this: Socket) {
      gate.#open--
      const address = this.remoteAddress ?? 'unknown'
      if (!gate.#trusted(address)) gate.#perAddress.release(address)
    }
  }

  /** Open TCP connections admitted. */
  get open(): number {
    return this.#open
  }

  /** True when the socket may go on to the HTTP server; otherwise it has been answered and is closing. */
  admit(socket: Socket): boolean {
    if (this.#total > 0 && this.#open >= this.#total) {
      refuseSocket(socket, 503, 'relay at its connection limit')
      return false
    }
    const address = socket.remoteAddress ?? 'unknown'
    const counted = !this.#trusted(address)
    if (counted && !this.#perAddress.acquire(address)) {
      refuseSocket(socket, 429, 'too many connections from this address')
      return false
    }
    this.#open++
    // 'close' comes once per socket.
    socket.on('close', this.#release)
    return true
  }

  /**
   * Puts the gate in front of every `connection` listener of the server (the
   * HTTP parser among them), so a refused socket never reaches them.
   */
  guard(server: NetServer): void {
    const inner = server.listeners('connection') as Array<(socket: Socket) => void>
    server.removeAllListeners('connection')
    const gate = (socket: Socket) => {
      if (!this.admit(socket)) return
      for (const listener of inner) listener.call(server, socket)
    }
    server.on('connection', gate)
  }
}
