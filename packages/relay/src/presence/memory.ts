import type { Member } from '@confab/sdk/protocol'
import type { MemberPage, Presence } from './types'

/** One room's members, with their ids kept sorted for paging. */
interface RoomMembers {
  byId: Map<string, Member>
  /** Every id in `byId`, ascending (binary insertion: a join moves at most the array, never sorts it). */
  ids: string[]
}

/** One process: the registry's own counts are the whole truth, so this is a map of rooms to users. */
export class MemoryPresence implements Presence {
  readonly #rooms = new Map<string, RoomMembers>()

  async add(room: string, member: Member): Promise<boolean> {
    let members = this.#rooms.get(room)
    if (!members) {
      members = { byId: new Map(), ids: [] }
      this.#rooms.set(room, members)
    }
    const fresh = !members.byId.has(member.id)
    members.byId.set(member.id, member)
    if (fresh) members.ids.splice(firstAfter(members.ids, member.id, true), 0, member.id)
    return fresh
  }

  async remove(room: string, member: Member): Promise<boolean> {
    const members = this.#rooms.get(room)
    if (!members?.byId.delete(member.id)) return false
    members.ids.splice(firstAfter(members.ids, member.id, true), 1)
    if (members.byId.size === 0) this.#rooms.delete(room)
    return true
  }

  async list(room: string): Promise<Member[]> {
    return [...(this.#rooms.get(room)?.byId.values() ?? [])]
  }

  async count(room: string): Promise<number> {
    return this.#rooms.get(room)?.byId.size ?? 0
  }

  async page(room: string, after: string | undefined, limit: number): Promise<MemberPage> {
    const members = this.#rooms.get(room)
    if (!members) return { members: [], cursor: null }
    const from = after === undefined ? 0 : firstAfter(members.ids, after, false)
    const ids = members.ids.slice(from, from + limit)
    const more = from + limit < members.ids.length
    return {
      members: ids.map((id) => members.byId.get(id) as Member),
      cursor: more && ids.length > 0 ? (ids[ids.length - 1] as string) : null,
    }
  }

  watch(): void {}

  async close(): Promise<void> {
    this.#rooms.clear()
  }
}

/** Index of the first id in sorted `ids` above `id` (at or above it when `inclusive`). */
function firstAfter(ids: string[], id: string, inclusive: boolean): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const mid = (low + high) >>> 1
    const at = ids[mid] as string
    if (at < id || (!inclusive && at === id)) low = mid + 1
    else high = mid
  }
  return low
}
