// The SDK against a real relay through a fault proxy: cuts, black holes, refusals, restarts.
import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import type { ConnectOptions } from '../../src/client'
import type { ConfabError } from '../../src/errors'
import { client, closeClients, joinedRoom, portOf, recorder, startRelay, statusOf } from './support'

/** Milliseconds: the relay's heartbeat, announced in `welcome`, so the SDK's deadline too. */
const HEARTBEAT = 800
/** Fast reconnects keep the suite quick; the shape of the backoff is unit-tested. */
const reconnect = { minDelay: 50, maxDelay: 400 }
/**
 * Milliseconds: Alice's own heartbeat in the lost-ack tests. Long enough that the ack deadline and its probe
 * window (half of it) leave a loaded two-core machine plenty of slack; a black hole never lets the relay's
 * close through, so the relay's shorter heartbeat cannot end her link first.
 */
const SLOW_HEARTBEAT = 5_000
/** Milliseconds: the SDK's default ratio to the heartbeat (10 s to the relay's 25 s), scaled like it: 2 s. */
const SEND_TIMEOUT = (SLOW_HEARTBEAT * 10_000) / 25_000
/** Alice in the lost-ack tests: the default ratio of ack deadline to heartbeat, at a pace timers can keep. */
const lostAck = { sendTimeout: SEND_TIMEOUT, heartbeat: SLOW_HEARTBEAT }

let relay: Relay
let proxy: FaultProxy
let room = 0
const nextRoom = () => `faults-${++room}`

beforeAll(async () => {
  relay = await startRelay({ heartbeat: HEARTBEAT })
})
afterEach(async () => {
  closeClients()
  await proxy?.close()
})
afterAll(async () => {
  await relay.stop()
})

/** Alice through the proxy, Bob straight to the relay, both in a fresh room. */
async function pair(options: ConnectOptions = {}) {
  proxy = await startFaultProxy({ port: portOf(relay) })
  const name = nextRoom()
  const alice = client(proxy.url, { name: 'Alice', reconnect, ...options })
  const bob = client(relay.url, { name: 'Bob', reconnect })
  const a = alice.join(name)
  const b = bob.join(name)
  const atA = recorder(a)
  const atB = recorder(b)
  await Promise.all([joinedRoom(a), joinedRoom(b)])
  return { alice, bob, a, b, atA, atB }
}

describe('through a fault proxy', () => {
  it('after a cut, reconnects and resumes with no loss and no duplicate', async () => {
    const { alice, a, b, atA, atB } = await pair()
    for (const t of ['m1', 'm2', 'm3']) await b.send(t)
    await atA.count(3)
    proxy.cut()
    await statusOf(alice, 'reconnecting')
    for (const t of ['m4', 'm5', 'm6']) await b.send(t) // while Alice is away
    const mine = a.send('a1') // queued in Alice's outbox
    await statusOf(alice, 'open')
    await mine
    await atA.count(7)
    await atB.count(7)
    expect(atA.offsets()).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(atA.texts()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'a1'])
    expect(atB.messages).toEqual(atA.messages)
    expect(proxy.accepted).toBe(2)
  })

  it('when the ack is lost after the relay stored the message, exactly one copy is delivered', async () => {
    const { alice, a, b, atA, atB } = await pair()
    proxy.blackhole('down') // the publish reaches the relay; nothing comes back
    const sending = a.send('once')
    await atB.count(1) // stored and broadcast
    await statusOf(alice, 'reconnecting') // the SDK noticed the silence
    const stored = await sending // resent with the same id after the reconnect; the relay answers the original ack
    expect(stored).toMatchObject({ offset: 1, text: 'once' })
    await b.send('after')
    await Promise.all([atA.count(2), atB.count(2)])
    expect(atB.texts()).toEqual(['once', 'after'])
    expect(atA.texts()).toEqual(['once', 'after'])
    expect(atA.messages[0]?.id).toBe(stored.id)
  })

  it('a lost ack at the default timeout/heartbeat ratio: the retry with error.id ends with one message, stored and shown once', async () => {
    const { alice, a, b, atA, atB } = await pair(lostAck)
    const errors: ConfabError[] = []
    alice.on('error', (e) => errors.push(e))
    proxy.blackhole('down') // the publish reaches the relay; the ack never comes back
    const error = await a.send('lost', { meta: { try: 1 } }).catch((e: unknown) => e as ConfabError)
    expect(error).toMatchObject({ code: 'timeout', message: `no ack within ${SEND_TIMEOUT} ms` })
    // Retried at once, as the widget's Retry button does, while the link is still half-open: the retry waits
    // for the queued message, which the SDK resends with its id once it has replaced the dead link.
    const retried = await a.send('lost', { id: error.id })
    expect(retried).toMatchObject({ id: error.id, offset: 1, text: 'lost', meta: { try: 1 } })
    await b.send('after')
    await Promise.all([atA.count(2), atB.count(2)])
    expect(atB.texts()).toEqual(['lost', 'after'])
    expect(atA.texts()).toEqual(['lost', 'after'])
    expect(atA.messages[0]?.id).toBe(error.id)
    expect(errors).toEqual([])
  })

  it('a send that timed out on a dead link stays queued: without any retry it is sent after the reconnect, once', async () => {
    const { alice, a, b, atA, atB } = await pair(lostAck)
    proxy.blackhole('both') // the publish never reaches the relay
    const error = (await a.send('queued still').catch((e: unknown) => e)) as ConfabError
    expect(error.code).toBe('timeout')
    expect(atB.messages).toEqual([])
    await statusOf(alice, 'reconnecting')
    await atB.count(1) // resent by the SDK alone once the link was replaced
    await b.send('after')
    await Promise.all([atA.count(2), atB.count(2)])
    expect(atB.texts()).toEqual(['queued still', 'after'])
    expect(atA.texts()).toEqual(['queued still', 'after'])
    expect(atA.messages[0]?.id).toBe(error.id)
  })

  it('a send that timed out after the relay stored it, retried with error.id, is stored and shown once', async () => {
    const { alice, a, b, atA, atB } = await pair(lostAck)
    proxy.blackhole('down') // the publish reaches the relay; the ack never comes back
    const error = await a.send('timed out', { meta: { try: 1 } }).catch((e: unknown) => e as ConfabError)
    expect(error).toMatchObject({ code: 'timeout', message: `no ack within ${SEND_TIMEOUT} ms` })
    await atB.count(1) // it was stored and broadcast all the same
    await statusOf(alice, 'reconnecting')
    const retried = await a.send('timed out', { id: error.id })
    expect(retried).toMatchObject({ id: error.id, offset: 1, text: 'timed out' })
    await b.send('after')
    await Promise.all([atA.count(2), atB.count(2)])
    expect(atB.texts()).toEqual(['timed out', 'after'])
    expect(atA.texts()).toEqual(['timed out', 'after'])
  })

  it('detects a black-holed connection within heartbeat + grace and reconnects', async () => {
    const { alice, a, b, atA } = await pair()
    const grace = 600 // timer slack on a shared machine
    proxy.blackhole('both')
    const started = Date.now()
    await statusOf(alice, 'reconnecting', HEARTBEAT + 5_000)
    const detected = Date.now() - started
    expect(detected).toBeLessThanOrEqual(HEARTBEAT + grace)
    await statusOf(alice, 'open')
    await joinedRoom(a)
    await b.send('still here')
    await atA.count(1)
    expect(atA.texts()).toEqual(['still here'])
  })

  it('messages sent while offline are delivered exactly once, in order, after reconnect', async () => {
    const { alice, a, atB, b } = await pair()
    proxy.refuse()
    proxy.cut()
    await statusOf(alice, 'reconnecting')
    const sends = ['o1', 'o2', 'o3'].map((t) => a.send(t))
    // Alice has been refused at least once: she really is offline.
    await vi.waitFor(() => expect(proxy.accepted).toBeGreaterThanOrEqual(2), { timeout: 5_000 })
    proxy.refuse(false)
    const stored = await Promise.all(sends)
    expect(stored.map((m) => m.offset)).toEqual([1, 2, 3])
    await b.send('after')
    await atB.count(4)
    expect(atB.texts()).toEqual(['o1', 'o2', 'o3', 'after'])
  })

  it("flushes 30 messages queued offline at the relay's publish rate, none refused", async () => {
    const { alice, a, atB } = await pair()
    const errors: string[] = []
    alice.on('error', (e) => errors.push(e.code))
    proxy.refuse()
    proxy.cut()
    await statusOf(alice, 'reconnecting')
    const texts = Array.from({ length: 30 }, (_, i) => `q${i + 1}`)
    const sends = texts.map((t) => a.send(t))
    proxy.refuse(false)
    const stored = await Promise.all(sends)
    expect(stored.map((m) => m.offset)).toEqual(texts.map((_, i) => i + 1))
    await atB.count(30)
    expect(atB.texts()).toEqual(texts)
    expect(errors).toEqual([])
    expect(alice.status).toBe('open')
  })

  it('a stall that ends before the deadline changes nothing', async () => {
    const { alice, b, atA } = await pair()
    proxy.stall('down')
    await b.send('held')
    expect(atA.messages).toEqual([])
    proxy.resume()
    await atA.count(1)
    expect(atA.texts()).toEqual(['held'])
    expect(alice.status).toBe('open')
  })
})
