// examples/node-bot against a real relay: it answers a command and stays quiet otherwise.
import type { Relay } from '@confab/relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: the example is plain JavaScript
import { answer, startBot } from '../../../../examples/node-bot/bot.mjs'
import type { Client } from '../../src/client'
import { client, closeClients, joinedRoom, recorder, startRelay } from './support'

let relay: Relay
let bot: Client | undefined
beforeAll(async () => {
  relay = await startRelay()
})
afterEach(() => {
  bot?.close()
  closeClients()
})
afterAll(async () => {
  await relay.stop()
})

describe('examples/node-bot', () => {
  it('answers !ping with pong in the room, once', async () => {
    bot = startBot({ url: relay.url, room: 'bots', log: () => {} }) as Client
    const human = client(relay.url, { name: 'Human' })
    const room = human.join('bots')
    const seen = recorder(room)
    await joinedRoom(room)
    await new Promise<void>((resolve) => {
      if (room.members.some((m) => m.name === 'Botty')) resolve()
      else room.on('presence', (ms) => ms.some((m) => m.name === 'Botty') && resolve())
    })
    await room.send('!ping')
    await seen.count(2)
    expect(seen.texts()).toEqual(['!ping', 'pong'])
    expect(seen.messages[1]?.from.name).toBe('Botty')
  })

  it('has nothing to say to ordinary chatter', () => {
    expect(answer('nice weather', { id: 'u', name: 'A' })).toBeUndefined()
    expect(answer('hello bot', { id: 'u', name: 'Ann' })).toBe('Hello Ann! Try !help.')
  })
})
