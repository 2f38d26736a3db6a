// The hook before store and the webhooks for edits and deletes (issue 14; docs/moderation.md, docs/webhooks.md).
import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PublishContext } from '../../src/hooks'
import { connectClient, startRelay, type TestClient } from '../helpers'
import { HookServer, verified } from './hook-server'

const SECRET = 'webhook-secret-0123456789'
let server: HookServer
const relays: Relay[] = []
const clients: TestClient[] = []

beforeAll(async () => {
  server = await HookServer.start()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(relays.splice(0).map((r) => r.stop()))
  server.answer = () => ({ status: 200, json: { action: 'accept' } })
})
afterAll(async () => {
  await server.close()
})

async function relayWith(options: Parameters<typeof startRelay>[0]): Promise<Relay> {
  const relay = await startRelay(options)
  relays.push(relay)
  return relay
}

async function member(relay: Relay, name = 'Ada'): Promise<TestClient> {
  const c = await connectClient(relay, { name })
  clients.push(c)
  expect(await c.join('lobby')).toMatchObject({ type: 'joined' })
  return c
}

let serial = 0
async function ask(c: TestClient, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = `r${++serial}`
  c.send({ ...frame, ref })
  return c.next((f) => f.ref === ref)
}

describe('beforePublish and edits', () => {
  it('runs for an edit with the target offset, once per change id; its reject and modify apply to the edit', async () => {
    const seen: PublishContext[] = []
    const relay = await relayWith({
      beforePublish: (context) => {
        seen.push(context)
        if (context.message.text.includes('spam')) return { action: 'reject', code: 'forbidden', message: 'no spam' }
        if (context.message.text.includes('darn')) return { action: 'modify', text: 'd***', meta: { filtered: true } }
        return { action: 'accept' }
      },
    })
    const ada = await member(relay)
    const bob = await member(relay, 'Bob')
    await ada.publish('lobby', 'hello', { id: 'm1' })
    expect(await ask(ada, { type: 'edit', room: 'lobby', id: 'e1', offset: 1, text: 'buy spam' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'no spam',
    })
    const ack = await ask(ada, { type: 'edit', room: 'lobby', id: 'e2', offset: 1, text: 'darn', meta: { k: 1 } })
    expect(ack).toMatchObject({ type: 'ack', offset: 2, message: { text: 'd***', meta: { filtered: true } } })
    expect(await bob.nextOf('update')).toMatchObject({ message: { text: 'd***', meta: { filtered: true } } })
    expect(seen.map((c) => c.message)).toEqual([
      { id: 'm1', text: 'hello' },
      { id: 'e1', text: 'buy spam', edit: 1 },
      { id: 'e2', text: 'darn', meta: { k: 1 }, edit: 1 },
    ])
    // A resend of a stored change, deletes and reactions never reach the hook.
    await ask(ada, { type: 'edit', room: 'lobby', id: 'e2', offset: 1, text: 'darn' })
    await ask(ada, { type: 'react', room: 'lobby', id: 'x1', offset: 1, emoji: '👍' })
    await ask(ada, { type: 'delete', room: 'lobby', id: 'd1', offset: 1 })
    expect(seen).toHaveLength(3)
  })

  it('posts the edit to CONFAB_HOOK_URL with message.edit', async () => {
    const relay = await relayWith({ hook: { url: server.url } })
    const ada = await member(relay)
    await ada.publish('lobby', 'hello', { id: 'm1' })
    const before = server.requests.items.length
    await ask(ada, { type: 'edit', room: 'lobby', id: 'e1', offset: 1, text: 'hello again' })
    const body = JSON.parse(server.requests.items[before]?.body ?? '{}')
    expect(body).toEqual({
      room: 'lobby',
      user: { id: expect.any(String), name: 'Ada', role: 'guest' },
      message: { id: 'e1', text: 'hello again', edit: 1 },
    })
  })
})

describe('webhooks for edits and deletes', () => {
  it('sends message.updated with the new state and message.deleted with the tombstone, in order, none for reactions', async () => {
    server.answer = () => ({ status: 204 })
    const relay = await relayWith({ webhook: { url: server.url, secret: SECRET } })
    const ada = await member(relay)
    const before = server.requests.items.length
    await ada.publish('lobby', 'one', { id: 'm1' })
    await ask(ada, { type: 'react', room: 'lobby', id: 'x1', offset: 1, emoji: '👍' })
    const edited = await ask(ada, { type: 'edit', room: 'lobby', id: 'e1', offset: 1, text: 'uno' })
    // A resend queues nothing twice.
    await ask(ada, { type: 'edit', room: 'lobby', id: 'e1', offset: 1, text: 'uno' })
    const deleted = await ask(ada, { type: 'delete', room: 'lobby', id: 'd1', offset: 1 })
    await ada.publish('lobby', 'two')
    await server.requests.next((r) => JSON.parse(r.body).data?.message.text === 'two')
    const received = server.requests.items.slice(before)
    const events = received.map((r) => JSON.parse(r.body))
    expect(received.every((r) => verified(r))).toBe(true)
    expect(events.map((e) => [e.type, e.data.message.offset, e.data.message.text])).toEqual([
      ['message.created', 1, 'one'],
      ['message.updated', 1, 'uno'],
      ['message.deleted', 1, ''],
      ['message.created', 5, 'two'],
    ])
    expect(events[1]).toEqual({
      id: expect.any(String),
      type: 'message.updated',
      createdAt: edited.ts,
      data: { room: 'lobby', message: { ...(edited.message as object), reactions: { '👍': { count: 1 } } } },
    })
    expect(events[2]).toMatchObject({
      type: 'message.deleted',
      createdAt: deleted.ts,
      data: { message: deleted.message },
    })
  })
})
