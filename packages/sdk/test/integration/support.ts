// Integration scaffolding: a real relay on port 0, SDK clients on `ws`, and waits on events.
import { createRelay, type Relay } from '@confab/relay'
import WebSocket from 'ws'
import { type Client, type ConnectOptions, connect } from '../../src/client'
import type { Message } from '../../src/protocol'
import type { Room } from '../../src/room'

type RelayOptions = NonNullable<Parameters<typeof createRelay>[0]>

/** Starts a relay on 127.0.0.1, port 0, without logs. */
export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const relay = await createRelay({ port: 0, host: '127.0.0.1', logger: false, ...options })
  await relay.start()
  return relay
}

/** The port a started relay listens on. */
export const portOf = (relay: Relay): number => Number(new URL(relay.url).port)

const clients: Client[] = []

/** An SDK client on `ws`; closed by {@link closeClients}. */
export function client(url: string, options: ConnectOptions = {}): Client {
  const c = connect(url, { WebSocket, ...options })
  clients.push(c)
  return c
}

/** Closes every client made by {@link client}. */
export function closeClients(): void {
  for (const c of clients.splice(0)) c.close()
}

/** Resolves when `client` reaches `status` (at once if it is there), or rejects after `ms`. */
export function statusOf(c: Client, status: Client['status'], ms = 10_000): Promise<void> {
  if (c.status === status) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`status stayed ${c.status}, wanted ${status} within ${ms} ms`))
    }, ms)
    const off = c.on('status', (s) => {
      if (s !== status) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** A room whose delivered messages are recorded, with a wait for the n-th one. */
export function recorder(room: Room) {
  const messages: Message[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  room.on('message', (m) => {
    messages.push(m)
    for (const w of waiters.filter((w) => messages.length >= w.n)) w.resolve()
  })
  return {
    messages,
    texts: () => messages.map((m) => m.text),
    offsets: () => messages.map((m) => m.offset),
    /** Resolves once `n` messages arrived, or rejects after `ms`. */
    count(n: number, ms = 10_000): Promise<void> {
      if (messages.length >= n) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${messages.length} messages, wanted ${n}`)), ms)
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/** Resolves once `room` has been joined (its first presence list arrives with `joined`). */
export function joinedRoom(room: Room, ms = 10_000): Promise<void> {
  if (room.position) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`room ${room.name} not joined within ${ms} ms`)), ms)
    const off = room.on('presence', () => {
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}
