// A hook or webhook receiver on 127.0.0.1, port 0: records each request and answers as the test says.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Inbox } from '../storage/inbox'

/** One request the server got. */
export interface Received {
  headers: IncomingMessage['headers']
  body: string
}

/** How to answer: a status and a JSON body, or 'hang' (never answer). */
export type Answer = { status: number; json?: unknown } | 'hang'

export class HookServer {
  readonly requests = new Inbox<Received>()
  readonly #server: Server
  readonly #hanging = new Set<ServerResponse>()
  answer: (received: Received) => Answer = () => ({ status: 200, json: { action: 'accept' } })

  private constructor(server: Server) {
    this.#server = server
  }

  /** Starts on `port` (0: a free one). */
  static async start(port = 0): Promise<HookServer> {
    const server = createServer()
    const hook = new HookServer(server)
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      let body = ''
      request.setEncoding('utf8')
      request.on('data', (chunk: string) => {
        body += chunk
      })
      request.on('end', () => {
        const received = { headers: request.headers, body }
        hook.requests.push(received)
        const answer = hook.answer(received)
        if (answer === 'hang') {
          hook.#hanging.add(response)
          return
        }
        response.writeHead(answer.status, { 'content-type': 'application/json' })
        response.end(answer.json === undefined ? '' : JSON.stringify(answer.json))
      })
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return hook
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy()
    this.#server.closeAllConnections()
    this.#server.close()
    await once(this.#server, 'close')
  }
}

/** What docs/webhooks.md tells receivers to do: recompute the HMAC of "t.body" and compare in constant time. */
export function verified(received: Received, secret = 'webhook-secret-0123456789'): boolean {
  const header = String(received.headers['confab-signature'] ?? '')
  const t = /t=(\d+)/.exec(header)?.[1]
  const v1 = /v1=([0-9a-f]{64})/.exec(header)?.[1]
  if (!t || !v1) return false
  const expected = createHmac('sha256', secret).update(`${t}.${received.body}`).digest()
  return timingSafeEqual(expected, Buffer.from(v1, 'hex')) && Math.abs(Date.now() / 1000 - Number(t)) < 300
}
