// Large rooms against a real relay: counts instead of every join and leave, the first page in `joined`,
// the paged member list, and operators who still see who comes and goes.
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { REDIS_URL, redisMissing } from '../../../test/support/env'
import { perTest, type TestClient } from './helpers'
import { deleteMatching } from './storage/backends'

const { relayWith, client } = perTest()
const redisAbsent = await redisMissing(REDIS_URL)
const prefix = `confab-test:${randomUUID()}:`
afterAll(async () => {
  if (redisAbsent === null) await deleteMatching(REDIS_URL, `${prefix}*`)
})

const OPERATOR_KEY = 'operator-key-for-large-rooms-0123'
type Member = { id: string; name: string; role?: string }
const userOf = (c: TestClient) => c.frames[0]?.user as Member

/** Connects `n` guests named g0.. and joins each to `room` in turn; returns them with their `joined` frames. */
async function fill(relay: Parameters<typeof client>[0], room: string, n: number, from = 0) {
  const out: Array<{ c: TestClient; joined: Record<string, unknown> }> = []
  for (let i = from; i < from + n; i++) {
    const c = await client(relay, { name: `g${i}` })
    out.push({ c, joined: await c.join(room) })
  }
  return out
}

/** Waits for a `presence` frame carrying `count`. */
const countOf = (c: TestClient, count: number) => c.next((f) => f.type === 'presence' && f.count === count, 5000)

/** Pages through the room's members with `limit` per page. */
async function allMembers(c: TestClient, room: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let cursor: string | null | undefined
  let pages = 0
  do {
    const ref = `m${pages}`
    c.send({ type: 'members', ref, room, limit, ...(cursor ? { cursor } : {}) })
    const page = await c.next((f) => f.ref === ref)
    expect(page.type).toBe('members')
    ids.push(...(page.members as Member[]).map((m) => m.id))
    cursor = page.cursor as string | null
    pages++
  } while (cursor !== null)
  return { ids, pages }
}

describe('small rooms', () => {
  it('list every member with their count in joined and announce each join and leave as before', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 } })
    const [a, b] = await fill(relay, 'small', 2)
    expect(b?.joined.count).toBe(2)
    expect(b?.joined.members).toEqual(expect.arrayContaining([userOf(a!.c), userOf(b!.c)]))
    expect(await a!.c.nextOf('presence')).toEqual({
      type: 'presence',
      room: 'small',
      joins: [userOf(b!.c)],
      leaves: [],
    })
    await b!.c.close()
    expect(await a!.c.nextOf('presence')).toEqual({
      type: 'presence',
      room: 'small',
      joins: [],
      leaves: [userOf(b!.c)],
    })
  })
})

describe('large rooms', () => {
  it('send the count and the first 50 members in joined, then counts instead of joins', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 } })
    const guests = await fill(relay, 'big', 55)
    const last = guests[54]!
    expect(last.joined.count).toBe(55)
    const listed = last.joined.members as Member[]
    // The first page by id, and the joiner whether or not it is on it.
    const sorted = guests.map((g) => userOf(g.c).id).sort()
    const firstPage = sorted.slice(0, 50)
    expect(listed.map((m) => m.id).slice(0, 50)).toEqual(firstPage)
    expect(listed.map((m) => m.id)).toContain(userOf(last.c).id)
    expect(listed.length).toBe(firstPage.includes(userOf(last.c).id) ? 50 : 51)

    const first = guests[0]!.c
    expect(await countOf(first, 55)).toEqual({ type: 'presence', room: 'big', joins: [], leaves: [], count: 55 })
    // From the join that made it large on, nobody hears of single joins.
    const latecomers = new Set(guests.slice(3).map((g) => userOf(g.c).id))
    for (const { c } of guests) {
      const joins = c.frames.filter((f) => f.type === 'presence').flatMap((f) => f.joins as Member[])
      expect(joins.filter((m) => latecomers.has(m.id))).toEqual([])
    }
  })

  it('keep the count right through leaves and disconnects, coalesced to a frame a second at most', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 } })
    const guests = await fill(relay, 'churn', 12)
    const watcher = guests[0]!.c
    await countOf(watcher, 12)
    guests[1]!.c.send({ type: 'leave', room: 'churn' })
    await guests[2]!.c.close()
    guests[3]!.c.ws.terminate()
    await countOf(watcher, 9)
    const more = await fill(relay, 'churn', 2, 100)
    expect(more[1]?.joined.count).toBe(11)
    await countOf(watcher, 11)
    const counts = watcher.frames.filter((f) => f.type === 'presence' && f.count !== undefined)
    // At most one count frame per change burst: 12, 9, 11 (a burst split across a tick may add one each).
    expect(counts.length).toBeLessThanOrEqual(6)
    expect(counts.every((f) => (f.joins as []).length === 0 && (f.leaves as []).length === 0)).toBe(true)
  })

  it('page through every member with the cursor, each once', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 } })
    const guests = await fill(relay, 'paged', 53)
    const ids = guests.map((g) => userOf(g.c).id).sort()
    const { ids: paged, pages } = await allMembers(guests[0]!.c, 'paged', 10)
    expect(pages).toBe(6)
    expect(paged).toEqual(ids)
    const whole = await allMembers(guests[0]!.c, 'paged', 200)
    expect(whole).toEqual({ ids, pages: 1 })
  })

  it('answers members only in a joined room, with a clear error for a bad limit', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 } })
    const outsider = await client(relay, { name: 'o' })
    outsider.send({ type: 'members', ref: 'x', room: 'elsewhere' })
    expect(await outsider.next((f) => f.ref === 'x')).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'join the room first',
    })
    outsider.send({ type: 'members', ref: 'y', room: 'elsewhere', limit: 0 })
    expect(await outsider.next((f) => f.ref === 'y')).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'limit must be 1 to 200',
    })
    await outsider.join('elsewhere')
    outsider.send({ type: 'members', ref: 'z', room: 'elsewhere' })
    expect(await outsider.next((f) => f.ref === 'z')).toEqual({
      type: 'members',
      ref: 'z',
      room: 'elsewhere',
      members: [userOf(outsider)],
      cursor: null,
    })
  })

  it('still tell operators who joins and leaves', async () => {
    const relay = await relayWith({ rooms: { largeAt: 3 }, operatorKey: OPERATOR_KEY })
    await fill(relay, 'watched', 4)
    const op = await client(relay, { key: OPERATOR_KEY, name: 'Ann' })
    expect((await op.join('watched')).count).toBe(5)
    const [guest] = await fill(relay, 'watched', 1, 10)
    const joined = await op.next((f) => f.type === 'presence' && (f.joins as Member[]).length > 0)
    expect(joined).toMatchObject({ room: 'watched', joins: [userOf(guest!.c)], leaves: [] })
    await guest!.c.close()
    const left = await op.next((f) => f.type === 'presence' && (f.leaves as Member[]).length > 0)
    expect(left).toMatchObject({ room: 'watched', joins: [], leaves: [userOf(guest!.c)] })
  })
})

describe.skipIf(redisAbsent !== null)('large rooms over Redis', () => {
  it('give members on both nodes the same count, and page the same list on both', async () => {
    const one = await relayWith({ rooms: { largeAt: 3 }, redis: { url: REDIS_URL, prefix } })
    const two = await relayWith({ rooms: { largeAt: 3 }, redis: { url: REDIS_URL, prefix } })
    const left = await fill(one, 'shared', 6)
    const right = await fill(two, 'shared', 6, 6)
    expect(right[5]?.joined.count).toBe(12)
    const a = left[0]!.c
    const b = right[0]!.c
    await Promise.all([countOf(a, 12), countOf(b, 12)])
    const ids = [...left, ...right].map((g) => userOf(g.c).id).sort()
    expect((await allMembers(a, 'shared', 5)).ids).toEqual(ids)
    expect((await allMembers(b, 'shared', 5)).ids).toEqual(ids)
    // Leaves on either node reach both counts.
    await left[1]!.c.close()
    await right[1]!.c.close()
    right[2]!.c.ws.terminate()
    await Promise.all([countOf(a, 9), countOf(b, 9)])
  })
})
