import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/store/memory'
import { StoreUnavailableError } from '../../src/store/types'
import { connectClient, startRelay, type TestClient } from '../helpers'
import { HookServer, type Received, verified } from './hook-server'

const SECRET = 'webhook-secret-0123456789'
const OPERATOR_KEY = 'operator-key-for-tests-0123456789'
let receiver: HookServer
const relays: Relay[] = []
const clients: TestClient[] = []

beforeAll(async () => {
  receiver = await HookServer.start()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(relays.splice(0).map((r) => r.stop()))
})
afterAll(async () => {
  await receiver.close()
})

describe('signed webhooks', () => {
  it('delivers every message.created once, in order, signed, after the receiver was down for a while', async () => {
    let failures = 0
    // Down: the first attempts get 503 (as from a proxy in front of a dead app).
    receiver.answer = () => (failures++ < 2 ? { status: 503 } : { status: 204 })
    const relay = await startRelay({ webhook: { url: receiver.url, secret: SECRET } })
    relays.push(relay)
    const ada = await connectClient(relay, { name: 'Ada' })
    clients.push(ada)
    await ada.join('lobby')
    const texts = ['one', 'two', 'three', 'four']
    for (const text of texts) expect(await ada.publish('lobby', text)).toMatchObject({ type: 'ack' })
    // Retries back off from 1 s: the third attempt comes about 3 s after the first.
    const deliveredAll = () => receiver.requests.next(() => receiver.requests.items.length >= 2 + texts.length, 15_000)
    await deliveredAll()
    const accepted = receiver.requests.items.slice(2)
    expect(receiver.requests.items.every((r) => verified(r))).toBe(true)
    expect(verified(accepted[0] as Received, 'another-secret-000000')).toBe(false)
    const events = accepted.map((r) => JSON.parse(r.body))
    expect(events.map((e) => [e.type, e.data.room, e.data.message.text])).toEqual(
      texts.map((text) => ['message.created', 'lobby', text]),
    )
    expect(new Set(events.map((e) => e.id)).size).toBe(texts.length)
    expect(events[0]).toEqual({
      id: expect.any(String),
      type: 'message.created',
      createdAt: expect.any(Number),
      data: {
        room: 'lobby',
        message: expect.objectContaining({ offset: 1, text: 'one', from: { id: expect.any(String), name: 'Ada' } }),
      },
    })
    // The two failed attempts were of the first event, with the same body.
    expect(receiver.requests.items[0]?.body).toBe(accepted[0]?.body)
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toMatch(/confab_webhook_deliveries_total\{outcome="ok"\} 4/)
    expect(metrics).toMatch(/confab_webhook_deliveries_total\{outcome="failed"\} 2/)
  })

  it('queues the event of a message whose first enqueue failed when the client resends it, and only once', async () => {
    const store = new MemoryStore()
    const push = store.pushEvent.bind(store)
    let failNext = true
    // As if the relay died between storing the message and queueing its event.
    store.pushEvent = async (event) => {
      if (failNext) {
        failNext = false
        throw new StoreUnavailableError('gone')
      }
      return push(event)
    }
    receiver.answer = () => 'hang'
    const before = receiver.requests.items.length
    const relay = await startRelay({ store, webhook: { url: receiver.url, secret: SECRET } })
    relays.push(relay)
    const ada = await connectClient(relay)
    clients.push(ada)
    await ada.join('lobby')
    expect(await ada.publish('lobby', 'hello', { id: 'same' })).toMatchObject({ code: 'unavailable' })
    // The resends: the first queues the event, the second finds it queued.
    expect(await ada.publish('lobby', 'hello', { id: 'same' })).toMatchObject({ type: 'ack', offset: 1 })
    expect(await ada.publish('lobby', 'hello', { id: 'same' })).toMatchObject({ type: 'ack', offset: 1 })
    expect((await store.peekEvents(10)).map((e) => JSON.parse(e.body).data.message.text)).toEqual(['hello'])
    await receiver.requests.next(() => receiver.requests.items.length > before, 5000, 'the event')
  })

  it('sends conversation.created before the first message.created, and conversation.updated for status, assignee and profile changes only', async () => {
    receiver.answer = () => ({ status: 204 })
    const before = receiver.requests.items.length
    const apiKey = 'api-key-for-webhook-tests-0123'
    const relay = await startRelay({
      apiKey,
      operatorKey: OPERATOR_KEY,
      webhook: { url: receiver.url, secret: SECRET },
    })
    relays.push(relay)
    const visitor = await connectClient(relay, { name: 'Vera' })
    const operator = await connectClient(relay, { key: OPERATOR_KEY, name: 'Olga' })
    clients.push(visitor, operator)
    const ask = async (client: TestClient, frame: Record<string, unknown>) => {
      const ref = `r${Math.random()}`
      client.send({ ...frame, ref })
      return client.next((f) => f.ref === ref)
    }
    const room = (await ask(visitor, { type: 'conversation' })).room as string
    await visitor.join(room)
    await operator.join(room)
    expect(await visitor.publish(room, 'first')).toMatchObject({ type: 'ack' })
    expect(await visitor.publish(room, 'second')).toMatchObject({ type: 'ack' })
    expect(await operator.publish(room, 'reply')).toMatchObject({ type: 'ack' })
    // A read moves only unread counts: no webhook.
    operator.send({ type: 'read', room, offset: 3 })
    expect(await ask(visitor, { type: 'profile', email: 'vera@example.com' })).toMatchObject({ type: 'conversation' })
    const id = room.slice('conv:'.length)
    expect(await ask(operator, { type: 'update-conversation', id, status: 'closed' })).toMatchObject({
      conversation: { status: 'closed' },
    })
    const patched = await fetch(`${relay.url}/v1/conversations/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assignee: { id: 'op_1', name: 'Olga' } }),
    })
    expect(patched.status).toBe(200)

    await receiver.requests.next(() => receiver.requests.items.length >= before + 7, 10_000, 'seven events')
    const events = receiver.requests.items.slice(before).map((r) => JSON.parse(r.body))
    expect(receiver.requests.items.slice(before).every((r) => verified(r))).toBe(true)
    expect(
      events.map((e) => [e.type, e.data.message?.text ?? e.data.conversation.status, e.data.conversation?.room]),
    ).toEqual([
      ['conversation.created', 'open', room],
      ['message.created', 'first', undefined],
      ['message.created', 'second', undefined],
      ['message.created', 'reply', undefined],
      ['conversation.updated', 'open', room],
      ['conversation.updated', 'closed', room],
      ['conversation.updated', 'closed', room],
    ])
    expect(events[0].data.conversation).toMatchObject({ id, visitor: { name: 'Vera' }, preview: 'first' })
    expect(events[4].data.conversation.visitor.email).toBe('vera@example.com')
    expect(events[6].data.conversation.assignee).toEqual({ id: 'op_1', name: 'Olga' })

    // A visitor who gives an email before writing creates the conversation then; the first message adds no second creation.
    const early = await connectClient(relay, { name: 'Eve' })
    clients.push(early)
    const earlyRoom = (await ask(early, { type: 'conversation' })).room as string
    await ask(early, { type: 'profile', email: 'eve@example.com' })
    await early.join(earlyRoom)
    expect(await early.publish(earlyRoom, 'hi')).toMatchObject({ type: 'ack' })
    await receiver.requests.next(() => receiver.requests.items.length >= before + 9, 10_000, 'two more events')
    const more = receiver.requests.items.slice(before + 7).map((r) => JSON.parse(r.body))
    expect(more.map((e) => [e.type, e.data.conversation?.room ?? e.data.room])).toEqual([
      ['conversation.created', earlyRoom],
      ['message.created', earlyRoom],
    ])
  })

  it('refuses a URL without a secret and a short secret', async () => {
    await expect(startRelay({ webhook: { url: receiver.url } })).rejects.toThrow(
      'webhook.secret: must be at least 16 characters when webhook.url is set',
    )
    await expect(startRelay({ webhook: { secret: SECRET } })).rejects.toThrow(
      'webhook.url: must be an http:// or https:// URL when webhook.secret is set',
    )
  })

  it('dead-letters an event older than webhook.maxAge and lists it on GET /v1/webhooks/dead', async () => {
    receiver.answer = () => ({ status: 500 })
    const before = receiver.requests.items.length
    const relay = await startRelay({ webhook: { url: receiver.url, secret: SECRET, maxAge: 1000 } })
    relays.push(relay)
    const ada = await connectClient(relay)
    clients.push(ada)
    await ada.join('lobby')
    await ada.publish('lobby', 'doomed')
    const deadline = Date.now() + 10_000
    let dead: { events: { reason: string; body: string }[] } = { events: [] }
    while (dead.events.length === 0 && Date.now() < deadline) {
      await receiver.requests.next(() => receiver.requests.items.length > before, 5000)
      dead = (await (await fetch(`${relay.url}/v1/webhooks/dead`)).json()) as typeof dead
      if (dead.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(dead.events).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^gave up after \d attempts$/) }),
    ])
    expect(JSON.parse(dead.events[0]?.body as string).data.message.text).toBe('doomed')
  })
})
