import { randomUUID } from 'node:crypto'
import type { Relay } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../../test/support/env'
import { startRelay, TestClient, wsUrl } from '../helpers'
import { deleteMatching } from '../storage/backends'
import { HookServer, verified } from './hook-server'

const missing = await redisMissing(REDIS_URL)
const prefix = `confab-test:${randomUUID()}:`

describe.skipIf(missing !== null)('webhooks from two nodes over Redis', () => {
  let receiver: HookServer
  let nodes: Relay[] = []
  beforeAll(async () => {
    receiver = await HookServer.start()
    receiver.answer = () => ({ status: 200 })
    const options = {
      redis: { url: REDIS_URL, prefix },
      webhook: { url: receiver.url, secret: 'webhook-secret-0123456789' },
    }
    nodes = [await startRelay(options), await startRelay(options)]
  })
  afterAll(async () => {
    for (const node of nodes) await node.stop()
    await receiver.close()
    await deleteMatching(REDIS_URL, `${prefix}*`)
  })

  it('sends each event once although both nodes deliver, in the order each room stored them', async () => {
    const clients = await Promise.all(
      nodes.map(async (node) => {
        const c = new TestClient(wsUrl(node))
        await c.hello()
        await c.join('lobby')
        return c
      }),
    )
    const texts: string[] = []
    for (let i = 0; i < 6; i++) {
      const text = `m${i}`
      texts.push(text)
      expect(await (clients[i % 2] as TestClient).publish('lobby', text)).toMatchObject({ type: 'ack' })
    }
    await receiver.requests.next(() => receiver.requests.items.length >= texts.length, 10_000, 'six events')
    // Let a second delivery of any event show up, should one be on its way: wait for a seventh message's event.
    await (clients[0] as TestClient).publish('lobby', 'last')
    await receiver.requests.next((r) => r.body.includes('"last"'), 10_000, 'the last event')
    const events = receiver.requests.items.map((r) => JSON.parse(r.body))
    expect(receiver.requests.items.every((r) => verified(r))).toBe(true)
    expect(events.map((e) => e.data.message.text)).toEqual([...texts, 'last'])
    expect(events.map((e) => e.data.message.offset)).toEqual([1, 2, 3, 4, 5, 6, 7])
    await Promise.all(clients.map((c) => c.close()))
  })
})
