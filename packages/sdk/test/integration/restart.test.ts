// A relay restart with the memory store: the room's epoch changes and the SDK says so.
import type { Relay } from '@confab/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../../../test/support/fault-proxy'
import type { ResetInfo } from '../../src/room'
import { client, closeClients, joinedRoom, portOf, recorder, startRelay } from './support'

const reconnect = { minDelay: 50, maxDelay: 400 }
let proxy: FaultProxy | undefined
const relays: Relay[] = []

afterEach(async () => {
  closeClients()
  await proxy?.close()
  for (const r of relays.splice(0)) await r.stop()
})

describe('relay restart with the memory store', () => {
  it('emits reset with reason epoch on the room, then delivers the new history', async () => {
    const first = await startRelay()
    const second = await startRelay()
    relays.push(second)
    proxy = await startFaultProxy({ port: portOf(first) })
    const alice = client(proxy.url, { name: 'Alice', reconnect })
    const a = alice.join('restart')
    const atA = recorder(a)
    await joinedRoom(a)
    await a.send('before restart')
    const oldEpoch = a.position?.epoch
    const reset = new Promise<ResetInfo>((resolve) => a.on('reset', resolve))
    proxy.retarget({ port: portOf(second) })
    await first.stop() // closes every socket with 1012: reconnect within 0-5 s
    const info = await reset
    expect(info.reason).toBe('epoch')
    expect(info.epoch).not.toBe(oldEpoch)
    await a.send('after restart')
    await atA.count(2)
    expect(atA.texts()).toEqual(['before restart', 'after restart'])
    expect(atA.offsets()).toEqual([1, 1])
  })
})
