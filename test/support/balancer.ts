// A small TCP load balancer for failover tests: one port on 127.0.0.1 in
// front of several upstream ports, round robin, skipping upstreams that refuse
// (a killed node), and cutting a client when its upstream goes away, as nginx
// or any L4 balancer would.
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** A round-robin TCP proxy over `upstreams` (ports on 127.0.0.1). */
export class Balancer {
  readonly #server: Server
  readonly #upstreams: number[]
  readonly #pairs = new Set<[Socket, Socket]>()
  #next = 0

  private constructor(upstreams: number[]) {
    this.#upstreams = upstreams
    this.#server = createServer((client) => this.#accept(client))
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(upstreams: number[]): Promise<Balancer> {
    const balancer = new Balancer(upstreams)
    balancer.#server.listen(0, '127.0.0.1')
    await once(balancer.#server, 'listening')
    return balancer
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.#server.address() as { port: number }).port
  }

  /** Open client connections per upstream port. */
  connections(): Map<number, number> {
    const counts = new Map<number, number>()
    for (const [, upstream] of this.#pairs)
      counts.set(upstream.remotePort ?? 0, (counts.get(upstream.remotePort ?? 0) ?? 0) + 1)
    return counts
  }

  /** Stops accepting and cuts every open connection. */
  async close(): Promise<void> {
    for (const [client, upstream] of this.#pairs) {
      client.destroy()
      upstream.destroy()
    }
    this.#server.close()
    await once(this.#server, 'close')
  }

  #accept(client: Socket): void {
    client.pause()
    client.on('error', () => client.destroy()) // a reset from the client side ends the pair below
    this.#dial(client, 0)
  }

  /** Tries each upstream once, starting at the round-robin position, until one accepts. */
  #dial(client: Socket, tried: number): void {
    if (tried >= this.#upstreams.length || client.destroyed) {
      client.destroy()
      return
    }
    const port = this.#upstreams[this.#next++ % this.#upstreams.length] as number
    const upstream = createConnection({ host: '127.0.0.1', port })
    upstream.once('error', () => {
      upstream.destroy()
      if (!pair) this.#dial(client, tried + 1)
    })
    let pair: [Socket, Socket] | null = null
    upstream.once('connect', () => {
      pair = [client, upstream]
      this.#pairs.add(pair)
      upstream.on('error', () => upstream.destroy())
      const end = () => {
        if (pair) this.#pairs.delete(pair)
        client.destroy()
        upstream.destroy()
      }
      client.once('close', end)
      upstream.once('close', end)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  }
}
