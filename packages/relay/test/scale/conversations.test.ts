// Conversations on two relay processes over one Redis: the index, live updates and operator presence cross nodes,
// and the time an operator's reply takes to reach the visitor over one node and over two (printed).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TestClient } from '../helpers'
import { RedisServer, redisServerMissing } from '../storage/redis-server'
import { RelayNode } from './relay-node'

const missing = redisServerMissing()

/** The operator key a node printed in its inbox link. */
async function operatorKey(node: RelayNode): Promise<string> {
  await expect.poll(() => /#key=(\S+)/.test(node.log), { timeout: 5000 }).toBe(true)
  return node.log.match(/#key=(\S+)/)?.[1] as string
}

let refs = 0
async function ask(client: TestClient, frame: Record<string, unknown>) {
  const ref = `r${++refs}`
  client.send({ ...frame, ref })
  return client.next((f) => f.ref === ref)
}

/** Milliseconds from each operator publish to the visitor receiving it, `count` times, one at a time. */
async function replyTimes(operator: TestClient, visitor: TestClient, room: string, count: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const text = `reply ${i} ${Math.random()}`
    const start = performance.now()
    operator.send({ type: 'publish', ref: `b${i}`, room, id: `b-${Math.random()}`, text })
    await visitor.next((f) => f.type === 'message' && f.text === text)
    times.push(performance.now() - start)
    // Within the relay's publish rate (10/s sustained, burst 20): a refused publish would not be a latency.
    await operator.next((f) => f.ref === `b${i}`)
    if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 900))
  }
  return times
}

function summary(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(2)
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms over ${times.length}`
}

describe.skipIf(missing !== null)('conversations on two relay nodes over one Redis', () => {
  let redis: RedisServer
  let one: RelayNode
  let two: RelayNode
  const clients: TestClient[] = []
  const open = async (node: RelayNode, hello: Record<string, unknown>) => {
    const client = new TestClient(node.url)
    clients.push(client)
    const welcome = await client.hello(hello)
    expect(welcome.type).toBe('welcome')
    return client
  }

  beforeAll(async () => {
    redis = await RedisServer.start()
    ;[one, two] = await Promise.all([RelayNode.start('one', redis.url), RelayNode.start('two', redis.url)])
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
  })
  afterAll(async () => {
    await Promise.all([one?.kill('SIGTERM'), two?.kill('SIGTERM')])
    await redis?.stop()
  })

  it('derives one operator key on both nodes, and shares the index, live updates and operator presence', async () => {
    const key = await operatorKey(one)
    expect(await operatorKey(two)).toBe(key)

    const ada = await open(one, { name: 'Ada' })
    const bob = await open(two, { name: 'Bob' })
    const adaRoom = (await ask(ada, { type: 'conversation' })).room as string
    const bobRoom = (await ask(bob, { type: 'conversation' })).room as string
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 0 })
    expect(await bob.nextOf('operators')).toEqual({ type: 'operators', online: 0 })

    // An operator signs in on node two: the visitor on node one hears it.
    const ann = await open(two, { key, name: 'Ann' })
    expect(await ada.nextOf('operators')).toEqual({ type: 'operators', online: 1 })
    expect(await bob.nextOf('operators')).toEqual({ type: 'operators', online: 1 })

    // Bob (node two) cannot reach Ada's conversation, whatever the node.
    expect(await bob.join(adaRoom)).toMatchObject({ type: 'error', code: 'forbidden' })
    const bobOnOne = await open(one, { resume: (bob.frames[0] as { resume: string }).resume })
    expect(await bobOnOne.join(adaRoom)).toMatchObject({ type: 'error', code: 'forbidden' })

    expect((await ada.join(adaRoom)).type).toBe('joined')
    expect((await bob.join(bobRoom)).type).toBe('joined')
    await ada.publish(adaRoom, 'hello from node one')
    expect(await ann.next((f) => f.type === 'conversation' && f.ref === undefined)).toMatchObject({
      conversation: { room: adaRoom, preview: 'hello from node one', unread: { operators: 1 } },
    })
    await bob.publish(bobRoom, 'hello from node two')
    const list = await ask(ann, { type: 'conversations' })
    expect((list.items as { room: string }[]).map((c) => c.room)).toEqual([bobRoom, adaRoom])

    // Ann (node two) answers Ada (node one); Ada reads it and the operators on node one see the count drop.
    const ben = await open(one, { key, name: 'Ben' })
    expect((await ann.join(adaRoom)).type).toBe('joined')
    const ack = await ann.publish(adaRoom, 'Hi Ada')
    expect(await ada.next((f) => f.type === 'message' && f.text === 'Hi Ada')).toMatchObject({
      from: { name: 'Ann', role: 'operator' },
    })
    ada.send({ type: 'read', room: adaRoom, offset: ack.offset })
    await ben.next(
      (f) =>
        f.type === 'conversation' &&
        (f.conversation as { unread: { visitor: number; operators: number } }).unread.visitor === 0 &&
        (f.conversation as { lastActivityAt: number }).lastActivityAt === ack.ts,
    )

    // Both operators leave: the count goes to 0 on both nodes.
    await ann.close()
    await ben.close()
    await expect.poll(() => ada.frames.filter((f) => f.type === 'operators').at(-1)?.online, { timeout: 5000 }).toBe(0)
    await expect.poll(() => bob.frames.filter((f) => f.type === 'operators').at(-1)?.online, { timeout: 5000 }).toBe(0)
  })

  it('measures the time for an operator reply to reach the visitor, on one node and across two', async () => {
    const key = await operatorKey(one)
    const visitor = await open(one, { name: 'Vic' })
    const room = (await ask(visitor, { type: 'conversation' })).room as string
    expect((await visitor.join(room)).type).toBe('joined')
    await visitor.publish(room, 'hello')
    const local = await open(one, { key, name: 'Local' })
    const remote = await open(two, { key, name: 'Remote' })
    expect((await local.join(room)).type).toBe('joined')
    expect((await remote.join(room)).type).toBe('joined')
    await replyTimes(local, visitor, room, 8) // warm-up
    const same = await replyTimes(local, visitor, room, 40)
    const across = await replyTimes(remote, visitor, room, 40)
    console.info(`operator reply -> visitor, same node (Redis store): ${summary(same)}`)
    console.info(`operator reply -> visitor, across two nodes (Redis): ${summary(across)}`)
    expect(same.length).toBe(40)
    expect(across.length).toBe(40)
  })
})
