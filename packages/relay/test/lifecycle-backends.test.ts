// The message lifecycle through the relay on every backend (memory, SQLite, Redis), and across two nodes
// over Redis: changes reach members on the other node in log order with messages, read receipts too.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RelayOptions } from '@confab/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../test/support/env'
import { perTest, type TestClient } from './helpers'
import { deleteMatching } from './storage/backends'

const t = perTest()
const redisAbsent = await redisMissing(REDIS_URL)
const prefix = `confab-test:${randomUUID()}:`
let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-lifecycle-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  if (redisAbsent === null) await deleteMatching(REDIS_URL, `${prefix}*`)
})

const BACKENDS: [string, string | null, () => RelayOptions][] = [
  ['memory', null, () => ({})],
  ['sqlite', null, () => ({ data: join(dir, `${randomUUID()}.db`) })],
  ['redis', redisAbsent, () => ({ redis: { url: REDIS_URL, prefix } })],
]

let serial = 0
async function ask(c: TestClient, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = `r${++serial}`
  c.send({ ...frame, ref })
  return c.next((f) => f.ref === ref)
}
const idOf = (c: TestClient): string => (c.frames[0]?.user as { id: string } | undefined)?.id ?? ''

describe.each(BACKENDS)('the lifecycle on %s', (_name, missing, options) => {
  it.skipIf(missing !== null)(
    'edits, reacts and deletes, resumes with the updates, and keeps read positions across a reload',
    async () => {
      const relay = await t.relayWith(options())
      const room = `b-${randomUUID()}`
      const ann = await t.client(relay, { name: 'Ann' })
      const ben = await t.client(relay, { name: 'Ben' })
      await ann.join(room)
      const joined = await ben.join(room)
      await ann.publish(room, 'one', { id: 'm1' })
      await ann.publish(room, 'two', { id: 'm2' })
      await ben.next((f) => f.type === 'message' && f.offset === 2)
      const resume = ben.frames[0]?.resume as string
      await ben.close()

      expect(await ask(ann, { type: 'edit', room, id: 'e1', offset: 1, text: 'uno' })).toMatchObject({
        offset: 3,
        message: { text: 'uno', editedAt: expect.any(Number) },
      })
      expect(await ask(ann, { type: 'react', room, id: 'x1', offset: 2, emoji: '🎉' })).toMatchObject({
        offset: 4,
        message: { reactions: { '🎉': { count: 1, mine: true } } },
      })
      expect(await ask(ann, { type: 'delete', room, id: 'd1', offset: 1 })).toMatchObject({
        offset: 5,
        message: { deleted: true, text: '' },
      })
      expect(await ask(ann, { type: 'edit', room, id: 'e2', offset: 1, text: 'back?' })).toMatchObject({
        code: 'not_found',
      })

      const back = await t.client(relay, { name: 'Ben', resume })
      const resumed = await back.join(room, { since: { epoch: joined.epoch, offset: 2 } })
      expect(resumed).toMatchObject({ recovered: true, head: 5, messages: [], read: 0, unread: 1 })
      expect(resumed.reads).toEqual([{ user: idOf(ann), offset: 2 }])
      expect((resumed.updates as Record<string, unknown>[]).map((u) => [u.offset, u.action, u.target])).toEqual([
        [3, 'edit', 1],
        [4, 'react', 2],
        [5, 'delete', 1],
      ])
      back.send({ type: 'read', room, offset: 5 })
      expect(await ann.nextOf('read')).toEqual({ type: 'read', room, user: idOf(back), offset: 5 })
      const page = await ask(back, { type: 'history', room })
      expect(page.messages).toEqual([
        expect.objectContaining({ offset: 1, deleted: true }),
        expect.objectContaining({ offset: 2, text: 'two', reactions: { '🎉': { count: 1, mine: false } } }),
      ])
      await back.close()
      const reloaded = await t.client(relay, { name: 'Ben', resume })
      expect(await reloaded.join(room)).toMatchObject({ read: 5, unread: 0 })
    },
  )
})

describe.skipIf(redisAbsent !== null)('the lifecycle across two nodes over Redis', () => {
  it('delivers changes made on one node to members on the other in log order with messages, and read receipts', async () => {
    const one = await t.relayWith({ redis: { url: REDIS_URL, prefix } })
    const two = await t.relayWith({ redis: { url: REDIS_URL, prefix } })
    const room = `c-${randomUUID()}`
    const ann = await t.client(one, { name: 'Ann' })
    const ben = await t.client(two, { name: 'Ben' })
    await ann.join(room)
    await ben.join(room)
    await ann.publish(room, 'one')
    await ask(ann, { type: 'react', room, id: 'x1', offset: 1, emoji: '👍' })
    await ben.publish(room, 'two')
    await ask(ben, { type: 'edit', room, id: 'e1', offset: 3, text: 'deux' })
    await ask(ann, { type: 'delete', room, id: 'd1', offset: 1 })
    await ann.publish(room, 'three')
    for (const c of [ann, ben]) {
      await c.next((f) => f.type === 'message' && f.offset === 6)
      const log = c.frames.filter((f) => f.type === 'message' || f.type === 'update')
      expect(log.map((f) => [f.offset, f.type === 'update' ? f.action : 'message'])).toEqual([
        [1, 'message'],
        [2, 'react'],
        [3, 'message'],
        [4, 'edit'],
        [5, 'delete'],
        [6, 'message'],
      ])
    }
    ben.send({ type: 'read', room, offset: 6 })
    expect(await ann.nextOf('read')).toEqual({ type: 'read', room, user: idOf(ben), offset: 6 })
  })
})
