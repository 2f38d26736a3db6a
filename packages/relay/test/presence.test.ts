import type { Presence, PresenceGoneHandler } from '@confab/relay'
import type { Member } from '@confab/sdk/protocol'
import { describe, expect, it } from 'vitest'
import { MemoryPresence } from '../src/presence/memory'
import { perTest, TestClient, wsUrl } from './helpers'

const { relayWith, client, joinedPair, track } = perTest()

const userOf = (c: TestClient) => c.frames[0]?.user as { id: string; name: string }
const resumeOf = (c: TestClient) => c.frames[0]?.resume as string

describe('presence', () => {
  it('lists everyone on join and tells the room who joined and left', async () => {
    const relay = await relayWith()
    const alice = await client(relay, { name: 'Alice' })
    const bob = await client(relay, { name: 'Bob' })
    const first = await alice.join('hall')
    expect(first.members).toEqual([userOf(alice)])
    const second = await bob.join('hall')
    expect(second.members).toEqual(expect.arrayContaining([userOf(alice), userOf(bob)]))
    expect(await alice.nextOf('presence')).toEqual({ type: 'presence', room: 'hall', joins: [userOf(bob)], leaves: [] })
    await bob.close()
    expect(await alice.nextOf('presence')).toEqual({ type: 'presence', room: 'hall', joins: [], leaves: [userOf(bob)] })
  })

  it('keeps a guest id across connections with the resume string', async () => {
    const relay = await relayWith()
    const tab1 = await client(relay, { name: 'Kira' })
    const tab2 = await client(relay, { name: 'Kira', resume: resumeOf(tab1) })
    expect(userOf(tab2).id).toBe(userOf(tab1).id)
    const forged = await client(relay, { resume: `${userOf(tab1).id}.forged` })
    expect(userOf(forged).id).not.toBe(userOf(tab1).id)
  })

  it('shows a user with two tabs once, and as leaving only when the last tab closes', async () => {
    const relay = await relayWith()
    const watcher = await client(relay, { name: 'Watcher' })
    await watcher.join('tabs')
    const tab1 = await client(relay, { name: 'Kira' })
    const tab2 = await client(relay, { name: 'Kira', resume: resumeOf(tab1) })
    await tab1.join('tabs')
    await watcher.nextOf('presence')
    const joined = await tab2.join('tabs')
    expect((joined.members as { id: string }[]).filter((m) => m.id === userOf(tab1).id)).toHaveLength(1)

    await tab1.close()
    // A ping round trip after the close: any presence frame would have come before the pong.
    watcher.send({ type: 'ping', ref: 'sync' })
    await watcher.next((f) => f.ref === 'sync')
    expect(watcher.frames.filter((f) => f.type === 'presence')).toHaveLength(1)

    await tab2.close()
    expect(await watcher.nextOf('presence')).toMatchObject({ leaves: [userOf(tab1)], joins: [] })
  })

  it('drops a peer that stops answering pings, and its presence with it', async () => {
    const relay = await relayWith({ heartbeat: 300 })
    const watcher = await client(relay)
    await watcher.join('beat')
    const silent = new TestClient(wsUrl(relay), { autoPong: false })
    track(silent)
    await silent.hello()
    await silent.join('beat')
    const gone = await watcher.next((f) => f.type === 'presence' && (f.leaves as unknown[]).length > 0)
    expect(gone.leaves).toEqual([userOf(silent)])
    expect((await silent.closedWith()).code).toBe(1006)
    // The watcher answers pings (ws does by default), so it is still here.
    expect(watcher.closed).toBeNull()
  })
})

describe('presence in a crowd', () => {
  it('announces every member of a burst of joins once, each before anything it sends', async () => {
    const relay = await relayWith()
    const watcher = await client(relay, { name: 'Watcher' })
    await watcher.join('crowd')
    const crowd = await Promise.all(Array.from({ length: 20 }, (_, i) => client(relay, { name: `Guest ${i}` })))
    const joined = await Promise.all(crowd.map((c) => c.join('crowd')))
    // Every joiner's `joined` lists the watcher and itself.
    joined.forEach((frame, i) => {
      const ids = (frame.members as { id: string }[]).map((m) => m.id)
      expect(ids).toEqual(expect.arrayContaining([userOf(watcher).id, userOf(crowd[i] as TestClient).id]))
    })
    const speaker = crowd[19] as TestClient
    await speaker.publish('crowd', 'hi all')
    const said = await watcher.next((f) => f.type === 'message' && f.text === 'hi all')
    const before = watcher.frames.slice(0, watcher.frames.indexOf(said))
    const announced = before.filter((f) => f.type === 'presence').flatMap((f) => f.joins as { id: string }[])
    expect(announced.map((m) => m.id).sort()).toEqual(crowd.map((c) => userOf(c).id).sort())
    expect(before.filter((f) => f.type === 'presence').flatMap((f) => f.leaves as unknown[])).toEqual([])
  })
})

/** Memory presence that can play a dead node's members being swept, as the Redis presence does. */
class SweepingPresence implements Presence {
  readonly inner = new MemoryPresence()
  gone: PresenceGoneHandler = () => {}
  add(room: string, member: Member) {
    return this.inner.add(room, member)
  }
  remove(room: string, member: Member) {
    return this.inner.remove(room, member)
  }
  list(room: string) {
    return this.inner.list(room)
  }
  count(room: string) {
    return this.inner.count(room)
  }
  page(room: string, after: string | undefined, limit: number) {
    return this.inner.page(room, after, limit)
  }
  watch(onGone: PresenceGoneHandler): void {
    this.gone = onGone
  }
  close() {
    return this.inner.close()
  }
}

describe('presence across nodes', () => {
  it('tells the room when members of a dead node are removed', async () => {
    const presence = new SweepingPresence()
    const relay = await relayWith({ presence })
    const watcher = await client(relay)
    await watcher.join('nodes')
    const ghost = { id: 'u-on-dead-node', name: 'Ghost' }
    presence.gone('nodes', [ghost])
    expect(await watcher.nextOf('presence')).toEqual({ type: 'presence', room: 'nodes', joins: [], leaves: [ghost] })
  })
})

describe('typing', () => {
  it('tells others, not the typist or its other tabs', async () => {
    const relay = await relayWith()
    const alice = await client(relay, { name: 'Alice' })
    const aliceTab = await client(relay, { name: 'Alice', resume: resumeOf(alice) })
    const bob = await client(relay, { name: 'Bob' })
    for (const c of [alice, aliceTab, bob]) await c.join('keys')
    alice.send({ type: 'typing', room: 'keys' })
    expect(await bob.nextOf('typing')).toEqual({ type: 'typing', room: 'keys', user: userOf(alice), active: true })
    alice.send({ type: 'typing', room: 'keys', active: false })
    expect(await bob.nextOf('typing')).toMatchObject({ active: false })
    for (const c of [alice, aliceTab]) {
      c.send({ type: 'ping', ref: 'sync' })
      await c.next((f) => f.ref === 'sync')
      expect(c.frames.some((f) => f.type === 'typing')).toBe(false)
    }
  })

  it('does not rebroadcast a refresh while the user is still typing', async () => {
    const relay = await relayWith()
    const [alice, bob] = await joinedPair(relay, 'refresh')
    for (let i = 0; i < 5; i++) alice.send({ type: 'typing', room: 'refresh' })
    alice.send({ type: 'typing', room: 'refresh', active: false })
    await bob.next((f) => f.type === 'typing' && f.active === false)
    expect(bob.frames.filter((f) => f.type === 'typing').map((f) => f.active)).toEqual([true, false])
  })

  it('announces typing again right after the typist sent a message (a message ends typing)', async () => {
    const relay = await relayWith()
    const [alice, bob] = await joinedPair(relay, 'quick')
    alice.send({ type: 'typing', room: 'quick' })
    expect(await bob.nextOf('typing')).toMatchObject({ active: true, user: userOf(alice) })
    await alice.publish('quick', 'hi')
    expect(await bob.nextOf('message')).toMatchObject({ text: 'hi' })
    // Well within the 5 s expiry: without the message ending it, this would pass for a refresh.
    alice.send({ type: 'typing', room: 'quick' })
    const next = await bob.next((f) => f.type === 'typing' || f.type === 'message')
    expect(next).toEqual({ type: 'typing', room: 'quick', user: userOf(alice), active: true })
    // The message itself carried no typing frame: members clear the typist on the message.
    expect(bob.frames.filter((f) => f.type === 'typing').map((f) => f.active)).toEqual([true, true])
  })

  it('bounds typing toggles per user: four changes, then the latest state once the window is over', async () => {
    const relay = await relayWith()
    const [alice, bob] = await joinedPair(relay, 'toggles')
    for (let i = 0; i <= 40; i++) alice.send({ type: 'typing', room: 'toggles', active: i % 2 === 0 })
    const seen = async () => (await bob.nextOf('typing', 6000)).active
    expect([await seen(), await seen(), await seen(), await seen()]).toEqual([true, false, true, false])
    // The 41st frame left alice typing: that alone is announced after the window, not the 37 toggles between.
    expect(await seen()).toBe(true)
    alice.send({ type: 'ping', ref: 'sync' })
    await alice.next((f) => f.ref === 'sync')
    alice.send({ type: 'typing', room: 'toggles', active: false })
    expect(await seen()).toBe(false)
    expect(bob.frames.filter((f) => f.type === 'typing')).toHaveLength(6)
  })

  it('expires typing that is not refreshed', async () => {
    const relay = await relayWith({ typingTimeout: 100 })
    const [alice, bob] = await joinedPair(relay, 'expiry')
    alice.send({ type: 'typing', room: 'expiry' })
    expect(await bob.nextOf('typing')).toMatchObject({ active: true })
    expect(await bob.nextOf('typing', 2000)).toMatchObject({ active: false, user: userOf(alice) })
  })

  it("clears typing when the typist's connection drops", async () => {
    const relay = await relayWith()
    const [alice, bob] = await joinedPair(relay, 'drop')
    alice.send({ type: 'typing', room: 'drop' })
    await bob.nextOf('typing')
    alice.ws.terminate()
    expect(await bob.nextOf('typing')).toMatchObject({ active: false, user: userOf(alice) })
  })

  it('refuses typing in a room the connection has not joined', async () => {
    const relay = await relayWith()
    const alice = await client(relay)
    alice.send({ type: 'typing', room: 'nowhere' })
    expect(await alice.nextOf('error')).toMatchObject({ code: 'bad_request', room: 'nowhere' })
  })
})
