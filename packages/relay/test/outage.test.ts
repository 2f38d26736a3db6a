import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/store/memory'
import { perTest, TestStore } from './helpers'

const { relayWith, client } = perTest()

describe('storage outage', () => {
  it('answers unavailable with a retryAfter, turns /readyz to 503, and recovers', async () => {
    const store = new TestStore()
    const relay = await relayWith({ store })
    const c = await client(relay)
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
    const relay = await relayWith({ store })
    const c = await client(relay)
    await c.join('bug')
    const answer = await c.publish('bug', 'boom')
    expect(answer).toMatchObject({ type: 'error', code: 'internal', message: 'internal error' })
    expect(JSON.stringify(answer)).not.toContain('secret')
    c.send({ type: 'ping', ref: 'still' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'still' })
  })
})
