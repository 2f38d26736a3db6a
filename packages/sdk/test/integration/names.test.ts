// Room names against a real relay: a name the relay would refuse fails at once in the SDK, and every
// name it accepts, up to the longest, joins (its join's ref stays within the relay's limits).
import type { Relay } from '@confab/relay'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConfabError } from '../../src/errors'
import { client, closeClients, joinedRoom, recorder, startRelay, statusOf } from './support'

let relay: Relay | undefined
afterEach(async () => {
  closeClients()
  await relay?.stop()
  relay = undefined
})

const NAME_RULE = 'invalid room name'

describe('room names', () => {
  it.each([
    ['an empty name', ''],
    ['a 10,000-character name', 'x'.repeat(10_000)],
    ['a name with a control character', 'lob\u0000by'],
  ])('%s: send and history reject with bad_request at once, and the connection serves other rooms', async (_, name) => {
    relay = await startRelay()
    const c = client(relay.url)
    const errors: ConfabError[] = []
    c.on('error', (e) => errors.push(e))
    await statusOf(c, 'open')
    const bad = c.join(name)
    await expect(bad.send('hello?')).rejects.toMatchObject({ code: 'bad_request', message: NAME_RULE })
    await expect(bad.history()).rejects.toMatchObject({ code: 'bad_request', message: NAME_RULE })
    const lobby = c.join('lobby')
    await joinedRoom(lobby)
    await expect(lobby.send('still here')).resolves.toMatchObject({ offset: 1, text: 'still here' })
    // Only the SDK's own refusal: nothing reached the relay to be refused there.
    expect(errors.map((e) => [e.code, e.message])).toEqual([['bad_request', NAME_RULE]])
  })

  it('joins a room with the longest name the relay allows and exchanges a message in it', async () => {
    relay = await startRelay()
    const name = `${'long-room.'.repeat(6)}:@_9`
    expect(name).toHaveLength(64)
    const a = client(relay.url, { name: 'Ann' })
    const b = client(relay.url, { name: 'Ben' })
    const errors: ConfabError[] = []
    a.on('error', (e) => errors.push(e))
    const roomA = a.join(name)
    const roomB = b.join(name)
    const seen = recorder(roomB)
    await Promise.all([joinedRoom(roomA), joinedRoom(roomB)])
    await expect(roomA.send('made it', { id: 'x'.repeat(64) })).resolves.toMatchObject({ room: name, offset: 1 })
    await seen.count(1)
    expect(seen.texts()).toEqual(['made it'])
    expect(errors).toEqual([])
  })
})
