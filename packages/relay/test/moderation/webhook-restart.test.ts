import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestClient } from '../helpers'
import { HookServer, verified } from './hook-server'
import { RelayProcess, removeBundle } from './process'

const SECRET = 'webhook-secret-0123456789'
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-webhook-restart-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await removeBundle()
})

describe('webhooks across a relay restart (SQLite)', () => {
  it('delivers an event queued before a SIGKILL, once, after the restart, to a receiver that was down', async () => {
    // Take a free port for the receiver, then close it: the receiver is down (connection refused).
    const probe = await HookServer.start()
    const port = probe.port
    await probe.close()
    const file = join(dir, 'confab.db')
    const args = [file, `http://127.0.0.1:${port}/`, SECRET]
    let relay = await RelayProcess.start(args)
    const client = new TestClient(`ws://127.0.0.1:${relay.port}/ws`)
    expect(await client.hello({ name: 'Ada' })).toMatchObject({ type: 'welcome' })
    await client.join('lobby')
    expect(await client.publish('lobby', 'before the crash')).toMatchObject({ type: 'ack' })
    await relay.kill()
    await client.closedWith()

    const receiver = await HookServer.start(port)
    try {
      receiver.answer = () => ({ status: 200 })
      relay = await RelayProcess.start(args)
      const received = await receiver.requests.next(() => true, 10_000, 'the queued event')
      expect(verified(received)).toBe(true)
      expect(JSON.parse(received.body)).toMatchObject({
        type: 'message.created',
        data: { room: 'lobby', message: { offset: 1, text: 'before the crash' } },
      })
      // Once: a later message is the next request, with nothing repeated before it.
      const again = new TestClient(`ws://127.0.0.1:${relay.port}/ws`)
      await again.hello()
      await again.join('lobby')
      await again.publish('lobby', 'after')
      await receiver.requests.next((r) => r.body.includes('"after"'), 10_000, 'the second event')
      expect(receiver.requests.items.map((r) => JSON.parse(r.body).data.message.text)).toEqual([
        'before the crash',
        'after',
      ])
      await again.close()
    } finally {
      await relay.kill()
      await receiver.close()
    }
  })
})
