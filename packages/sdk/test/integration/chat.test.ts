import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { client, closeClients, joinedRoom, recorder, startRelay, statusOf } from './support'

let relay: Relay
beforeAll(async () => {
  relay = await startRelay()
})
afterEach(closeClients)
afterAll(async () => {
  await relay.stop()
})

describe('two SDK clients on a real relay', () => {
  it('chat: each sees the other, send resolves with the stored message, members list both', async () => {
    const alice = client(relay.url, { name: 'Alice' })
    const bob = client(relay.url, { name: 'Bob' })
    const a = alice.join('chat-1')
    const b = bob.join('chat-1')
    const atA = recorder(a)
    const atB = recorder(b)
    await Promise.all([statusOf(alice, 'open'), statusOf(bob, 'open'), joinedRoom(a), joinedRoom(b)])

    const stored = await a.send('Hi Bob', { meta: { mood: 'cheerful' } })
    expect(stored).toMatchObject({ room: 'chat-1', offset: 1, text: 'Hi Bob', meta: { mood: 'cheerful' } })
    expect(stored.from).toEqual(alice.user)
    await b.send('Hi Alice')
    await Promise.all([atA.count(2), atB.count(2)])
    expect(atA.texts()).toEqual(['Hi Bob', 'Hi Alice'])
    expect(atB.messages).toEqual(atA.messages)
    expect(atB.messages[0]).toMatchObject({ id: stored.id, offset: 1, ts: stored.ts, from: alice.user })
    expect(a.members.map((m) => m.name).sort()).toEqual(['Alice', 'Bob'])
  })

  it('a late joiner gets the requested history and can page further back, oldest first', async () => {
    const alice = client(relay.url, { name: 'Alice' })
    const a = alice.join('chat-2')
    await joinedRoom(a)
    for (let i = 1; i <= 5; i++) await a.send(`m${i}`)
    const carol = client(relay.url, { name: 'Carol' })
    const c = carol.join('chat-2', { history: 2 })
    const atC = recorder(c)
    await atC.count(2)
    expect(atC.texts()).toEqual(['m4', 'm5'])
    const older = await c.history({ before: 4, limit: 10 })
    expect(older.map((m) => m.text)).toEqual(['m1', 'm2', 'm3'])
  })

  it('shows typing to the other member only, and presence as users come and go', async () => {
    const alice = client(relay.url, { name: 'Alice' })
    const bob = client(relay.url, { name: 'Bob' })
    const a = alice.join('chat-3')
    const b = bob.join('chat-3')
    await Promise.all([joinedRoom(a), joinedRoom(b)])
    const typing = new Promise<string[]>((resolve) => b.on('typing', (ms) => resolve(ms.map((m) => m.name))))
    a.typing()
    expect(await typing).toEqual(['Alice'])
    const gone = new Promise<string[]>((resolve) => a.on('presence', (ms) => resolve(ms.map((m) => m.name))))
    bob.close()
    expect(await gone).toEqual(['Alice'])
  })

  it('a send repeated with the same id is answered with the original message, stored and broadcast once', async () => {
    const alice = client(relay.url, { name: 'Alice' })
    const bob = client(relay.url, { name: 'Bob' })
    const a = alice.join('chat-4')
    const b = bob.join('chat-4')
    const atB = recorder(b)
    await Promise.all([joinedRoom(a), joinedRoom(b)])
    const first = await a.send('only once', { id: 'retry-1' })
    const again = await a.send('only once', { id: 'retry-1' })
    expect(again).toMatchObject({ id: 'retry-1', offset: first.offset, ts: first.ts })
    await a.send('after')
    await atB.count(2)
    // A second broadcast would have reached Bob before 'after': the socket keeps order.
    expect(atB.texts()).toEqual(['only once', 'after'])
    expect(atB.offsets()).toEqual([1, 2])
  })
})
