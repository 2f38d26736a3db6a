import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Relay } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs example without types
import { createHook } from '../../../../examples/hook/hook.mjs'
import { connectClient, startRelay, type TestClient } from '../helpers'

let hook: Server
let relay: Relay
let guest: TestClient

beforeAll(async () => {
  hook = createHook() as Server
  hook.listen(0, '127.0.0.1')
  await once(hook, 'listening')
  relay = await startRelay({ hook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/` } })
  guest = await connectClient(relay)
  await guest.join('lobby')
})
afterAll(async () => {
  await guest.close()
  await relay.stop()
  hook.close()
})

describe('examples/hook', () => {
  it('refuses a listed word and a guest link, accepts the rest', async () => {
    expect(await guest.publish('lobby', 'cheap SPAM')).toMatchObject({
      code: 'forbidden',
      message: '"spam" is not allowed here',
    })
    expect(await guest.publish('lobby', 'see https://evil.example')).toMatchObject({
      code: 'forbidden',
      message: 'guests cannot post links',
    })
    expect(await guest.publish('lobby', 'hello')).toMatchObject({ type: 'ack' })
  })
})
