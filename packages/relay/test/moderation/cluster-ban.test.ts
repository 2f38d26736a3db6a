import { randomUUID } from 'node:crypto'
import type { Relay } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../../test/support/env'
import { startRelay, TestClient, wsUrl } from '../helpers'
import { deleteMatching } from '../storage/backends'

const KEY = 'test-api-key-0123456789'
const missing = await redisMissing(REDIS_URL)
const prefix = `confab-test:${randomUUID()}:`
const verify = (token: string) => ({ id: token, name: token })

describe.skipIf(missing !== null)('a ban across two nodes over Redis', () => {
  let a: Relay
  let b: Relay
  beforeAll(async () => {
    const options = { apiKey: KEY, auth: { verify }, redis: { url: REDIS_URL, prefix } }
    a = await startRelay(options)
    b = await startRelay(options)
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await deleteMatching(REDIS_URL, `${prefix}*`)
  })

  it('closes the user on the other node within a second and refuses their joins there; lifting works everywhere', async () => {
    const eve = new TestClient(wsUrl(b))
    await eve.hello({ token: 'eve' })
    expect(await eve.join('lobby')).toMatchObject({ type: 'joined' })
    const muted = new TestClient(wsUrl(b))
    await muted.hello({ token: 'mallory' })
    await muted.join('lobby')

    const post = (body: object) =>
      fetch(`${a.url}/v1/bans`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const started = Date.now()
    const created = (await (await post({ user: 'eve' })).json()) as { id: string }
    expect(await eve.closedWith(1000)).toEqual({ code: 4003, reason: 'banned' })
    expect(Date.now() - started).toBeLessThan(1000)

    // A mute set on node A holds for a publish on node B at once (the cached list was dropped).
    expect(await muted.publish('lobby', 'warm the cache')).toMatchObject({ type: 'ack' })
    await post({ user: 'mallory', mute: true })
    const deadline = Date.now() + 1000
    let answer = await muted.publish('lobby', 'now?')
    while (answer.type === 'ack' && Date.now() < deadline) answer = await muted.publish('lobby', 'now?')
    expect(answer).toMatchObject({ type: 'error', code: 'forbidden', message: 'muted' })

    const back = new TestClient(wsUrl(b))
    await back.hello({ token: 'eve' })
    expect(await back.join('lobby')).toMatchObject({ code: 'forbidden' })
    const lifted = await fetch(`${b.url}/v1/bans/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY}` },
    })
    expect(lifted.status).toBe(200)
    expect(await back.join('lobby')).toMatchObject({ type: 'joined' })
    await Promise.all([back.close(), muted.close()])
  })
})
