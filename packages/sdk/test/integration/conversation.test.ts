// client.conversation(), client.request(), operators and markRead against a real relay.
import type { Relay } from '@confab/relay'
import { afterEach, expect, it } from 'vitest'
import type { Client } from '../../src/client'
import { ConfabError } from '../../src/errors'
import type { Conversation, Message } from '../../src/protocol'
import { client, closeClients, recorder, startRelay, statusOf } from './support'

const KEY = 'sdk-operator-key-0123456789'
let relay: Relay | undefined
afterEach(async () => {
  closeClients()
  await relay?.stop()
})

/** The next value an event gives that passes `match`. */
function nextEvent<T>(c: Client, event: 'operators' | 'conversation', match: (v: T) => boolean, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${event} within ${ms} ms`)), ms)
    const off = c.on(event, ((v: T) => {
      if (!match(v)) return
      clearTimeout(timer)
      off()
      resolve(v)
    }) as never)
  })
}

it('opens the visitor conversation, tells it the operator count, and carries a reply both ways', async () => {
  relay = await startRelay({ operatorKey: KEY })
  const visitor = client(relay.url, { name: 'Ada' })
  const room = await visitor.conversation()
  expect(await visitor.conversation()).toBe(room)
  expect(room.name).toMatch(/^conv:[A-Za-z0-9_-]{22}$/)
  await expect.poll(() => visitor.operators).toBe(0)

  const online = nextEvent<number>(visitor, 'operators', (n) => n === 1)
  const op = await signInOperator(relay.url)
  await online
  expect(visitor.operators).toBe(1)

  const seen = nextEvent<Conversation>(op, 'conversation', (c) => c.room === room.name)
  await room.send('Where is my order?')
  expect((await seen).unread.operators).toBe(1)

  const list = (await op.request({ type: 'conversations' })) as { items: Conversation[] }
  expect(list.items.map((c) => c.room)).toEqual([room.name])
  const opRoom = op.join(room.name, { history: 10 })
  await recorder(opRoom).count(1)
  const got = new Promise<Message>((resolve) => room.on('message', (m) => m.text === 'It ships today' && resolve(m)))
  const start = performance.now()
  const reply = await opRoom.send('It ships today')
  const received = await got
  console.info(
    `operator reply -> visitor, one node (memory store, SDK both sides): ${(performance.now() - start).toFixed(2)} ms`,
  )
  expect(received.from).toMatchObject({ name: 'Ann', role: 'operator' })

  // The visitor reads: its unread count clears, and operators hear it.
  const cleared = nextEvent<Conversation>(
    op,
    'conversation',
    (c) => c.unread.visitor === 0 && c.lastActivityAt === reply.ts,
  )
  room.markRead()
  await cleared
})

it('rejects a request with the relay error, and conversation() for an operator with forbidden', async () => {
  relay = await startRelay({ operatorKey: KEY })
  const visitor = client(relay.url)
  await statusOf(visitor, 'open')
  await expect(visitor.request({ type: 'conversations' })).rejects.toMatchObject({ code: 'forbidden' })
  const op = await signInOperator(relay.url)
  await expect(op.conversation()).rejects.toBeInstanceOf(ConfabError)
  const closed = client(relay.url)
  closed.close()
  await expect(closed.request({ type: 'conversation' })).rejects.toMatchObject({ code: 'closed' })
})

it('rejects conversation() when the relay refuses the join, and asks again on the next call', async () => {
  relay = await startRelay({ operatorKey: KEY, limits: { maxRooms: 1 } })
  const visitor = client(relay.url)
  const lobby = visitor.join('lobby')
  await new Promise((resolve) => lobby.on('presence', resolve))
  await expect(visitor.conversation()).rejects.toMatchObject({ code: 'limit_exceeded' })
  lobby.leave()
  const room = await visitor.conversation()
  expect(room.name).toMatch(/^conv:/)
})

/** An SDK client signed in with the operator key, as the inbox does. */
async function signInOperator(url: string): Promise<Client> {
  const c = client(url, { key: KEY, name: 'Ann' })
  await statusOf(c, 'open')
  expect(c.user?.role).toBe('operator')
  return c
}
