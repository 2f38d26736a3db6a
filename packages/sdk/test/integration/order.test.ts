// Per-room order against a real relay whose store refuses a message for now (`unavailable`).
import { type Relay, StoreUnavailableError } from '@confab/relay'
import { afterEach, expect, it } from 'vitest'
// The relay's own in-memory store, wrapped to fail once: the SDK test needs a store outage on demand.
import { MemoryStore } from '../../../relay/src/store/memory'
import { client, closeClients, joinedRoom, recorder, startRelay } from './support'

let relay: Relay | undefined
afterEach(async () => {
  closeClients()
  await relay?.stop()
})

it('stores A, B, C in that order when the store refuses A once (unavailable) and would take B and C', async () => {
  const store = new MemoryStore()
  const append = store.append.bind(store)
  let refused = false
  store.append = async (draft) => {
    if (draft.text === 'A' && !refused) {
      refused = true
      throw new StoreUnavailableError('store down for a moment')
    }
    return append(draft)
  }
  relay = await startRelay({ store })
  const alice = client(relay.url, { name: 'Alice' })
  const room = alice.join('order')
  await joinedRoom(room)
  const stored = await Promise.all(['A', 'B', 'C'].map((t) => room.send(t)))
  expect(refused).toBe(true)
  expect(stored.map((m) => `${m.offset}:${m.text}`)).toEqual(['1:A', '2:B', '3:C'])
  const bob = client(relay.url, { name: 'Bob' }).join('order', { history: 10 })
  const atBob = recorder(bob)
  await atBob.count(3)
  expect(atBob.texts()).toEqual(['A', 'B', 'C'])
})
