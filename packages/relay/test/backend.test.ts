// Which storage a relay runs on, and how two deployments share one Redis.
import { randomUUID } from 'node:crypto'
import { createRedisBackend, type Relay } from '@confab/relay'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../test/support/env'
import { connectClient, startRelay } from './helpers'
import { deleteMatching } from './storage/backends'

const KEY = 'test-api-key-0123456789'
const missing = await redisMissing()
const relays: Relay[] = []
const prefixes: string[] = []

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()))
  await Promise.all(prefixes.splice(0).map((prefix) => deleteMatching(REDIS_URL, `${prefix}*`)))
})

function prefix(): string {
  const p = `confab-test:${randomUUID()}:`
  prefixes.push(p)
  return p
}

async function relayOn(redis: string | { url: string; prefix: string }): Promise<Relay> {
  const relay = await startRelay({ redis, apiKey: KEY })
  relays.push(relay)
  return relay
}

function api(relay: Relay, path: string, body?: unknown): Promise<Response> {
  return fetch(`${relay.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

async function texts(relay: Relay, room: string): Promise<string[]> {
  const res = await api(relay, `/v1/rooms/${room}/messages`)
  return ((await res.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text)
}

describe.skipIf(missing !== null)('redis prefix', () => {
  it('keeps two deployments on one Redis apart, and nodes of one deployment together', async () => {
    const blue = prefix()
    const green = prefix()
    const blue1 = await relayOn({ url: REDIS_URL, prefix: blue })
    const blue2 = await relayOn({ url: REDIS_URL, prefix: blue })
    const green1 = await relayOn({ url: REDIS_URL, prefix: green })
    expect((await api(blue1, '/v1/rooms/lobby/messages', { text: 'blue says hi', id: 'same' })).status).toBe(201)
    expect((await api(green1, '/v1/rooms/lobby/messages', { text: 'green says hi', id: 'same' })).status).toBe(201)
    expect(await texts(blue2, 'lobby')).toEqual(['blue says hi'])
    expect(await texts(green1, 'lobby')).toEqual(['green says hi'])

    const redis = new Redis(REDIS_URL)
    try {
      expect(await redis.keys(`${blue}room:*`)).not.toHaveLength(0)
      expect(await redis.keys(`${green}room:*`)).not.toHaveLength(0)
    } finally {
      redis.disconnect()
    }
  })

  it('keeps a guest id across nodes and restarts of one deployment without a configured resume secret', async () => {
    const blue = prefix()
    const first = await relayOn({ url: REDIS_URL, prefix: blue })
    const guest = await connectClient(first, { name: 'Kira' })
    const welcome = guest.frames[0] as { user: { id: string }; resume: string }
    await guest.close()
    const second = await relayOn({ url: REDIS_URL, prefix: blue })
    const elsewhere = await connectClient(second, { name: 'Kira', resume: welcome.resume })
    expect(elsewhere.frames[0]).toMatchObject({ user: { id: welcome.user.id }, resume: welcome.resume })
    await elsewhere.close()
    // A restart: every node of the deployment gone, then a new one.
    await Promise.all(relays.splice(0).map((relay) => relay.stop()))
    const restarted = await relayOn({ url: REDIS_URL, prefix: blue })
    const back = await connectClient(restarted, { name: 'Kira', resume: welcome.resume })
    expect(back.frames[0]).toMatchObject({ user: { id: welcome.user.id } })
    await back.close()
    // Another deployment has its own secret: the resume string is foreign there, so a new guest id.
    const green = await relayOn({ url: REDIS_URL, prefix: prefix() })
    const stranger = await connectClient(green, { name: 'Kira', resume: welcome.resume })
    expect((stranger.frames[0] as { user: { id: string } }).user.id).not.toBe(welcome.user.id)
    await stranger.close()
  })

  it('exports createRedisBackend for embedders, with the same prefix option', async () => {
    const p = prefix()
    const backend = await createRedisBackend(REDIS_URL, { prefix: p })
    try {
      await backend.store.append({ room: 'lobby', id: 'e1', from: { id: 'app', name: 'App' }, text: 'from the app' })
      const relay = await relayOn({ url: REDIS_URL, prefix: p })
      expect(await texts(relay, 'lobby')).toEqual(['from the app'])
    } finally {
      await backend.close()
    }
  })
})
