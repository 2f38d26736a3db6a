import { type AppendResult, type Draft, type Relay, type Store, StoreUnavailableError } from '@confab/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/store/memory'
import { connectClient, startRelay, type TestClient } from './helpers'

/** A memory store whose backend can be "unplugged". */
class FlakyStore implements Store {
  down = false
  readonly inner = new MemoryStore()
  get ready(): boolean {
    return !this.down
  }
  async append(draft: Draft): Promise<AppendResult> {
    if (this.down) throw new StoreUnavailableError('connection refused')
    return this.inner.append(draft)
  }
  state(room: string) {
    return this.inner.state(room)
  }
  after(room: string, after: number, limit: number) {
    return this.inner.after(room, after, limit)
  }
  before(room: string, before: number, limit: number) {
    return this.inner.before(room, before, limit)
  }
  close() {
    return this.inner.close()
  }
}

const clients: TestClient[] = []
let relay: Relay | null = null

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await relay?.stop()
})

describe('storage outage', () => {
  it('answers unavailable with a retryAfter, turns /readyz to 503, and recovers', async () => {
    const store = new FlakyStore()
    relay = await startRelay({ store })
    const c = await connectClient(relay)
    clients.push(c)
    await c.join('outage')
    store.down = true
    const refused = await c.publish('outage', 'hello?')
    expect(refused).toEqual({
      type: 'error',
      ref: refused.ref,
      room: 'outage',
      code: 'unavailable',
      message: 'storage is unavailable, try again',
      retryAfter: 2000,
    })
    const ready = await fetch(`${relay.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'storage unavailable' })

    store.down = false
    expect(await c.publish('outage', 'back')).toMatchObject({ type: 'ack', offset: 1 })
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200)
  })

  it('answers a bug with internal and no detail, and keeps the connection', async () => {
    const store = new MemoryStore()
    store.append = async () => {
      throw new TypeError('secret stack detail')
    }
    relay = await startRelay({ store })
    const c = await connectClient(relay)
    clients.push(c)
    await c.join('bug')
    const answer = await c.publish('bug', 'boom')
    expect(answer).toMatchObject({ type: 'error', code: 'internal', message: 'internal error' })
    expect(JSON.stringify(answer)).not.toContain('secret')
    c.send({ type: 'ping', ref: 'still' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'still' })
  })
})
