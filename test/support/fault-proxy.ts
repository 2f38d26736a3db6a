// A TCP proxy for tests that need a bad network on demand: cut every connection,
// black-hole one direction (a half-open socket: nothing arrives, nothing says so),
// stall a direction and release it later, or refuse new connections.
//
//   const proxy = await startFaultProxy({ port: relayPort })
//   connect(proxy.url, { WebSocket })   // the client talks to the relay through the proxy
//   proxy.blackhole('down')             // relay -> client bytes vanish from now on
//
// Faults act on the connections open when they are called; connections made later pass
// normally unless `refuse()` is on. Everything listens on 127.0.0.1, port 0.
import { createServer, type Socket, connect as tcpConnect } from 'node:net'

/** `up`: client -> target; `down`: target -> client; `both`: either way. */
export type Direction = 'up' | 'down' | 'both'

/** What happens to bytes going one way on one connection. */
type Mode = 'pass' | 'drop' | 'hold'

interface Pair {
  client: Socket
  target: Socket
  up: Mode
  down: Mode
  held: { up: Buffer[]; down: Buffer[] }
}

/** A running proxy. See the file comment for an example. */
export interface FaultProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number
  /** `http://127.0.0.1:PORT`: pass it where the relay's URL would go. */
  readonly url: string
  /** Connections open now. */
  readonly open: number
  /** Connections accepted since start (refused ones included). */
  readonly accepted: number
  /** Destroys every open connection on both sides: clients see an abnormal close (1006). */
  cut(): void
  /**
   * Silently discards bytes going `direction` on open connections (default both). A side whose
   * outgoing bytes are discarded also cannot close the other side: a true half-open socket.
   */
  blackhole(direction?: Direction): void
  /** Holds bytes going `direction` on open connections (default both) until {@link resume}. */
  stall(direction?: Direction): void
  /** Lets bytes pass again on open connections, first delivering what a stall held (black-holed bytes are gone). */
  resume(): void
  /** While on (the default when called), new connections are accepted and destroyed at once: the target looks down. */
  refuse(on?: boolean): void
  /** Sends new connections to another target, e.g. a relay restarted on a new port. */
  retarget(target: { port: number; host?: string }): void
  /** Destroys every connection and stops listening. */
  close(): Promise<void>
}

const sides = (d: Direction): ('up' | 'down')[] => (d === 'both' ? ['up', 'down'] : [d])

/** Starts a proxy on 127.0.0.1 (port 0) that forwards to `target` (host default 127.0.0.1). */
export async function startFaultProxy(target: { port: number; host?: string }): Promise<FaultProxy> {
  let dest = { host: '127.0.0.1', ...target }
  let refusing = false
  let accepted = 0
  const pairs = new Set<Pair>()

  const forward = (pair: Pair, dir: 'up' | 'down', chunk: Buffer): void => {
    if (pair[dir] === 'drop') return
    if (pair[dir] === 'hold') pair.held[dir].push(chunk)
    else (dir === 'up' ? pair.target : pair.client).write(chunk)
  }

  const server = createServer((client) => {
    accepted++
    if (refusing) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(dest.port, dest.host)
    const pair: Pair = { client, target: upstream, up: 'pass', down: 'pass', held: { up: [], down: [] } }
    pairs.add(pair)
    client.on('data', (chunk: Buffer) => forward(pair, 'up', chunk))
    upstream.on('data', (chunk: Buffer) => forward(pair, 'down', chunk))
    // A close travels like bytes do: through a black hole it never arrives.
    const closed = (other: Socket, dir: 'up' | 'down') => () => {
      if (pair[dir] !== 'drop') other.destroy()
      if (client.destroyed && upstream.destroyed) pairs.delete(pair)
    }
    client.on('close', closed(upstream, 'up'))
    upstream.on('close', closed(client, 'down'))
    // Resets and refusals end up as 'close' above; without listeners they would throw.
    client.on('error', () => client.destroy())
    upstream.on('error', () => upstream.destroy())
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address')
  const { port } = address

  const setMode = (direction: Direction, mode: Mode): void => {
    for (const pair of pairs) for (const dir of sides(direction)) pair[dir] = mode
  }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get open() {
      return pairs.size
    },
    get accepted() {
      return accepted
    },
    cut() {
      for (const pair of pairs) {
        pair.client.destroy()
        pair.target.destroy()
      }
      pairs.clear()
    },
    blackhole: (direction = 'both') => setMode(direction, 'drop'),
    stall: (direction = 'both') => setMode(direction, 'hold'),
    resume() {
      for (const pair of pairs) {
        for (const dir of sides('both')) {
          if (pair[dir] === 'drop') pair.held[dir].length = 0
          pair[dir] = 'pass'
          for (const chunk of pair.held[dir].splice(0)) forward(pair, dir, chunk)
        }
      }
    },
    refuse(on = true) {
      refusing = on
    },
    retarget(next) {
      dest = { host: '127.0.0.1', ...next }
    },
    close() {
      for (const pair of pairs) {
        pair.client.destroy()
        pair.target.destroy()
      }
      pairs.clear()
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
    },
  }
}
