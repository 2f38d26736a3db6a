import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectClient, startRelay, type TestClient } from '../helpers'
import { HookServer } from './hook-server'

let hook: HookServer
const relays: Relay[] = []
const clients: TestClient[] = []

beforeAll(async () => {
  hook = await HookServer.start()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(relays.splice(0).map((r) => r.stop()))
  hook.answer = () => ({ status: 200, json: { action: 'accept' } })
})
afterAll(async () => {
  await hook.close()
})

async function relayWith(options: Parameters<typeof startRelay>[0]): Promise<Relay> {
  const relay = await startRelay(options)
  relays.push(relay)
  return relay
}

async function member(relay: Relay, room = 'lobby'): Promise<TestClient> {
  const c = await connectClient(relay, { name: 'Ada' })
  clients.push(c)
  expect(await c.join(room)).toMatchObject({ type: 'joined' })
  return c
}

const bodies = () => hook.requests.items.map((r) => JSON.parse(r.body))

describe('CONFAB_HOOK_URL', () => {
  it('posts room, user and message, and a reject reaches the sender with its code and message; nothing is stored', async () => {
    hook.answer = (r) =>
      JSON.parse(r.body).message.text.includes('spam')
        ? { status: 200, json: { action: 'reject', code: 'forbidden', message: 'no spam here' } }
        : { status: 200, json: { action: 'accept' } }
    const relay = await relayWith({ hook: { url: hook.url } })
    const ada = await member(relay)
    const before = hook.requests.items.length
    expect(await ada.publish('lobby', 'buy spam', { id: 'm1', meta: { k: 1 } })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'no spam here',
    })
    expect(bodies()[before]).toEqual({
      room: 'lobby',
      user: { id: expect.stringMatching(/^guest_/), name: 'Ada', role: 'guest' },
      message: { id: 'm1', text: 'buy spam', meta: { k: 1 } },
    })
    expect(hook.requests.items[before]?.headers['content-type']).toBe('application/json')
    expect(await ada.publish('lobby', 'hello')).toMatchObject({ type: 'ack', offset: 1 })
    const history = (await (await fetch(`${relay.url}/v1/rooms/lobby/messages`)).json()) as { messages: unknown[] }
    expect(history.messages).toEqual([expect.objectContaining({ text: 'hello' })])
  })

  it('stores and broadcasts what a modify answer says', async () => {
    hook.answer = () => ({ status: 200, json: { action: 'modify', text: 'hello ***', meta: { filtered: true } } })
    const relay = await relayWith({ hook: { url: hook.url } })
    const ada = await member(relay)
    const bob = await member(relay)
    expect(await ada.publish('lobby', 'hello darn')).toMatchObject({ type: 'ack' })
    expect(await bob.nextOf('message')).toMatchObject({ text: 'hello ***', meta: { filtered: true } })
  })

  it('refuses with unavailable when the hook does not answer in time (fail closed)', async () => {
    hook.answer = () => 'hang'
    const relay = await relayWith({ hook: { url: hook.url, timeout: 200 } })
    const ada = await member(relay)
    const started = Date.now()
    expect(await ada.publish('lobby', 'anyone?')).toMatchObject({ type: 'error', code: 'unavailable' })
    expect(Date.now() - started).toBeLessThan(2000)
    const history = (await (await fetch(`${relay.url}/v1/rooms/lobby/messages`)).json()) as { messages: unknown[] }
    expect(history.messages).toEqual([])
  })

  it('stores unchecked when the hook fails and the policy is accept', async () => {
    hook.answer = () => 'hang'
    const relay = await relayWith({ hook: { url: hook.url, timeout: 200, failure: 'accept' } })
    const ada = await member(relay)
    expect(await ada.publish('lobby', 'anyone?')).toMatchObject({ type: 'ack' })
  })

  it('treats an answer that is not a verdict as a failure', async () => {
    hook.answer = () => ({ status: 500 })
    const relay = await relayWith({ hook: { url: hook.url } })
    const ada = await member(relay)
    expect(await ada.publish('lobby', 'x')).toMatchObject({ code: 'unavailable' })
    hook.answer = () => ({ status: 200, json: { action: 'maybe' } })
    expect(await ada.publish('lobby', 'x')).toMatchObject({ code: 'unavailable' })
    hook.answer = () => ({ status: 200, json: { action: 'modify', text: '' } })
    expect(await ada.publish('lobby', 'x')).toMatchObject({ code: 'unavailable' })
  })

  it('is called once for an id, however often and however concurrently it is resent', async () => {
    // A slow hook, so both tabs' sends are in flight together.
    hook.answer = () => ({ status: 200, json: { action: 'accept' } })
    const relay = await relayWith({ hook: { url: hook.url }, auth: { verify: (t: string) => ({ id: t, name: t }) } })
    const tabs = await Promise.all([connectClient(relay, { token: 'ada' }), connectClient(relay, { token: 'ada' })])
    clients.push(...tabs)
    for (const tab of tabs) expect(await tab.join('lobby')).toMatchObject({ type: 'joined' })
    const before = hook.requests.items.length
    // The same id from two connections of one user at once, and twice on one connection.
    for (const [i, tab] of tabs.entries()) {
      tab.send({ type: 'publish', ref: `a${i}`, room: 'lobby', id: 'same', text: 'once' })
      tab.send({ type: 'publish', ref: `b${i}`, room: 'lobby', id: 'same', text: 'once' })
    }
    const acks = []
    for (const [i, tab] of tabs.entries()) {
      acks.push(await tab.next((f) => f.ref === `a${i}`), await tab.next((f) => f.ref === `b${i}`))
    }
    acks.push(await tabs[0]!.publish('lobby', 'once', { id: 'same' }))
    expect(acks.map((ack) => [ack.type, ack.offset])).toEqual(Array(5).fill(['ack', 1]))
    expect(hook.requests.items.length - before).toBe(1)
  })

  it('refuses hook.url that is not http(s) and both hooks at once', async () => {
    await expect(startRelay({ hook: { url: 'ftp://x' } })).rejects.toThrow(
      'hook.url: must be an http:// or https:// URL',
    )
    await expect(startRelay({ hook: { url: hook.url }, beforePublish: () => ({ action: 'accept' }) })).rejects.toThrow(
      'hook.url: set beforePublish or hook.url, not both',
    )
    await expect(startRelay({ hook: { failure: 'maybe' as never } })).rejects.toThrow(
      'hook.failure: must be reject or accept',
    )
  })
})

describe('beforePublish (plugin option)', () => {
  it('rejects, modifies and accepts, with the user and role of an API post', async () => {
    const seen: unknown[] = []
    const relay = await relayWith({
      apiKey: 'test-api-key-0123456789',
      beforePublish(context) {
        seen.push(context)
        if (context.message.text.includes('http')) return { action: 'reject', message: 'no links' }
        if (context.message.text === 'shout') return { action: 'modify', text: 'SHOUT' }
        return { action: 'accept' }
      },
    })
    const ada = await member(relay)
    expect(await ada.publish('lobby', 'see http://x')).toMatchObject({ code: 'forbidden', message: 'no links' })
    expect(await ada.publish('lobby', 'shout')).toMatchObject({ type: 'ack' })
    expect(await ada.nextOf('message')).toMatchObject({ text: 'SHOUT' })
    const res = await fetch(`${relay.url}/v1/rooms/lobby/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-api-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the api' }),
    })
    expect(res.status).toBe(201)
    expect(seen.at(-1)).toEqual({
      room: 'lobby',
      user: { id: 'system', name: 'System', role: 'api' },
      message: { id: expect.any(String), text: 'from the api' },
    })
  })

  it('counts a hook that throws or takes longer than hook.timeout as failed', async () => {
    const relay = await relayWith({
      hook: { timeout: 100 },
      beforePublish: (context) =>
        context.message.text === 'throw' ? Promise.reject(new Error('boom')) : new Promise(() => {}),
    })
    const ada = await member(relay)
    expect(await ada.publish('lobby', 'throw')).toMatchObject({ code: 'unavailable' })
    expect(await ada.publish('lobby', 'slow')).toMatchObject({ code: 'unavailable' })
  })
})
