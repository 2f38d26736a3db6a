import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/store/memory'
import { perTest, relayPerFile, TestClient, wsUrl } from './helpers'

const relay = relayPerFile()
const scope = perTest()

function client(hello: Record<string, unknown> = {}): Promise<TestClient> {
  return scope.client(relay(), hello)
}

describe('two clients chat', () => {
  it('welcomes a guest with a generated id, the trimmed name, the heartbeat and the limits', async () => {
    const c = await client({ name: '   Kira   ' })
    const welcome = c.frames[0]
    expect(welcome).toMatchObject({ type: 'welcome', v: 1, user: { name: 'Kira' }, heartbeat: 25_000 })
    expect(welcome?.user).toMatchObject({ id: expect.stringMatching(/^guest_/) })
    expect(welcome?.limits).toEqual({
      maxPayload: 65_536,
      maxText: 4000,
      maxRooms: 128,
      publishRate: 10,
      publishBurst: 20,
      frameRate: 20,
      frameBurst: 200,
      historyLimit: 1000,
    })
  })

  it('acks a publish with its offset and broadcasts the message to everyone in the room', async () => {
    const alice = await client({ name: 'Alice' })
    const bob = await client({ name: 'Bob' })
    const joinedA = await alice.join('chat-1')
    await bob.join('chat-1')
    expect(joinedA).toMatchObject({ type: 'joined', room: 'chat-1', head: 0, recovered: true, messages: [] })

    const ack = await alice.publish('chat-1', 'Hi humans!', { id: 'm1' })
    expect(ack).toMatchObject({ type: 'ack', room: 'chat-1', id: 'm1', offset: 1 })
    const seen = await bob.nextOf('message')
    expect(seen).toMatchObject({
      type: 'message',
      room: 'chat-1',
      offset: 1,
      id: 'm1',
      text: 'Hi humans!',
      from: { id: alice.frames[0]?.user && (alice.frames[0].user as { id: string }).id, name: 'Alice' },
    })
    expect(seen.ts).toBe(ack.ts)
    // The sender gets its own message too, after its ack.
    expect(await alice.nextOf('message')).toMatchObject({ offset: 1, id: 'm1' })
  })

  it('sends recent history on join, oldest first', async () => {
    const alice = await client()
    await alice.join('chat-2')
    for (const text of ['one', 'two', 'three']) await alice.publish('chat-2', text)
    const bob = await client()
    const joined = await bob.join('chat-2', { history: 2 })
    expect(joined).toMatchObject({ head: 3, recovered: true })
    expect((joined.messages as { text: string }[]).map((m) => m.text)).toEqual(['two', 'three'])
  })

  it('stops delivering to a client after it leaves', async () => {
    const alice = await client()
    const bob = await client()
    await alice.join('chat-3')
    await bob.join('chat-3')
    bob.send({ type: 'leave', ref: 'l1', room: 'chat-3' })
    expect(await bob.nextOf('left')).toEqual({ type: 'left', ref: 'l1', room: 'chat-3' })
    await alice.publish('chat-3', 'anyone?')
    bob.send({ type: 'ping', ref: 'after' })
    await bob.next((f) => f.type === 'pong')
    expect(bob.frames.some((f) => f.type === 'message')).toBe(false)
  })

  it('answers ping with pong carrying the ref', async () => {
    const c = await client()
    c.send({ type: 'ping', ref: 'p1' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'p1' })
  })

  it('answers a ping at once while a publish before it waits on a slow store', async () => {
    const store = new MemoryStore()
    const append = store.append.bind(store)
    let release = () => {}
    const stored = new Promise<void>((resolve) => {
      release = resolve
    })
    store.append = async (draft) => {
      await stored
      return append(draft)
    }
    const slow = await scope.relayWith({ store })
    const c = await scope.client(slow)
    await c.join('slow')
    c.send({ type: 'publish', ref: 'p', room: 'slow', id: 'm1', text: 'one' })
    c.send({ type: 'ping', ref: 'probe' })
    expect(await c.nextOf('pong')).toEqual({ type: 'pong', ref: 'probe' })
    expect(c.frames.some((f) => f.type === 'ack')).toBe(false)
    release()
    expect(await c.nextOf('ack')).toMatchObject({ ref: 'p', offset: 1 })
  })

  it('still refuses a ping before hello', async () => {
    const c = scope.track(new TestClient(wsUrl(relay())))
    await c.opened()
    c.send({ type: 'ping', ref: 'early' })
    expect(await c.nextOf('error')).toEqual({
      type: 'error',
      code: 'bad_request',
      message: 'send hello first',
      ref: 'early',
    })
  })
})
