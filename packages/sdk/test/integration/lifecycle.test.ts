// The message lifecycle between two SDK clients through a real relay: edit, delete, react, markRead and unread,
// and what survives a page reload (persist): the queued edit, the read position, the unread count, `mine`.
import type { Relay } from '@confab/relay'
import { afterEach, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import type { Message, ReadPosition, Update } from '../../src/protocol'
import type { Room } from '../../src/room'
import type { StorageLike } from '../../src/storage'
import { client, closeClients, joinedRoom, portOf, recorder, startRelay, statusOf } from './support'

let relay: Relay | undefined
let proxy: FaultProxy | undefined

afterEach(async () => {
  closeClients()
  await proxy?.close()
  await relay?.stop()
})

/** Resolves with the first event `event` of `room` whose arguments pass `test`, or rejects after `ms`. */
function next<T extends unknown[]>(room: Room, event: 'update' | 'read', test: (...a: T) => boolean, ms = 5_000) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${event} within ${ms} ms`)), ms)
    const off = room.on(event, ((...a: T) => {
      if (!test(...a)) return
      clearTimeout(timer)
      off()
      resolve(a)
    }) as never)
  })
}

it('edits, deletes, reactions and read positions reach the other member, and survive a reload', async () => {
  relay = await startRelay()
  proxy = await startFaultProxy({ port: portOf(relay) })
  const data = new Map<string, string>()
  const storage: StorageLike = {
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  }
  const reconnect = { minDelay: 10, maxDelay: 100 }
  const alice = client(proxy.url, { name: 'Alice', persist: storage, reconnect })
  const bob = client(relay.url, { name: 'Bob' })
  const a = alice.join('life')
  const b = bob.join('life')
  const atA = recorder(a)
  await Promise.all([joinedRoom(a), joinedRoom(b)])
  expect([a.unread, a.read]).toEqual([0, 0])

  const first = await b.send('helo')
  await b.send('how are you?')
  await atA.count(2)
  expect(a.unread).toBe(2)
  const mine = await a.send('fine')
  expect([a.unread, a.read]).toEqual([0, mine.offset])
  await b.send('good')
  await atA.count(4)
  expect(a.unread).toBe(1)

  // Bob fixes his typo: Alice sees the new state, in order after everything before it.
  const edited = next<[Message, Update]>(a, 'update', (_m, u) => u.action === 'edit')
  const fixed = await b.edit(first.offset, 'hello')
  expect(fixed).toMatchObject({ offset: first.offset, text: 'hello' })
  expect((await edited)[0]).toEqual(fixed)

  // Alice reacts: her promise says mine; Bob's update says not his; Alice's own update says hers.
  const seenByBob = next<[Message, Update]>(b, 'update', (_m, u) => u.action === 'react')
  const seenByAlice = next<[Message, Update]>(a, 'update', (_m, u) => u.action === 'react')
  const liked = await a.react(first.offset, '👍')
  expect(liked.reactions).toEqual({ '👍': { count: 1, mine: true } })
  expect((await seenByBob)[0].reactions).toEqual({ '👍': { count: 1, mine: false } })
  expect((await seenByAlice)[0].reactions).toEqual({ '👍': { count: 1, mine: true } })

  // Alice reads; Bob learns where she is (for "Seen").
  const told = next<[ReadPosition[]]>(b, 'read', (p) => p.some((r) => r.user === alice.user?.id))
  a.markRead()
  expect(a.unread).toBe(0)
  const position = a.read
  expect((await told)[0]).toContainEqual({ user: alice.user?.id, offset: position })

  // Bob takes a message back: a tombstone for Alice.
  const gone = next<[Message, Update]>(a, 'update', (_m, u) => u.action === 'delete')
  const tomb = await b.delete(first.offset)
  expect(tomb).toMatchObject({ offset: first.offset, deleted: true, text: '' })
  expect((await gone)[0]).toMatchObject({ deleted: true, text: '' })

  // Offline, Alice edits her message and reads nothing new; Bob writes twice; then the page reloads.
  proxy.refuse(true)
  proxy.cut()
  await statusOf(alice, 'reconnecting')
  const pending = a.edit(mine.offset, 'fine, thanks').catch((e: unknown) => e)
  await b.send('still there?')
  await b.send('hello?')
  alice.close()
  expect(await pending).toMatchObject({ code: 'closed' })
  proxy.refuse(false)

  const again = client(proxy.url, { name: 'Alice', persist: storage, reconnect })
  const a2 = again.join('life')
  const editByReload = next<[Message, Update]>(b, 'update', (_m, u) => u.action === 'edit' && u.target === mine.offset)
  // (Its position is restored from storage: the first member list says the join is done.)
  await new Promise((resolve) => a2.on('presence', resolve))
  expect(again.user?.id).toBe(alice.user?.id) // the same guest (persisted resume)
  // From the relay: read where Alice left it, Bob's two new messages unread.
  expect([a2.read, a2.unread]).toEqual([position, 2])
  expect((await editByReload)[0]).toMatchObject({ text: 'fine, thanks' })
  const page = await a2.history({ limit: 10 })
  expect(page.find((m) => m.offset === mine.offset)).toMatchObject({ text: 'fine, thanks' })
  expect(page.find((m) => m.offset === first.offset)).toMatchObject({ deleted: true })
  a2.markRead()
  expect(a2.unread).toBe(0)
})
