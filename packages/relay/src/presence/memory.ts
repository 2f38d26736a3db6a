import type { Member } from '@confab/sdk/protocol'
import type { Presence } from './types'

/** One process: the registry's own counts are the whole truth, so this is a map of rooms to users. */
export class MemoryPresence implements Presence {
  readonly #rooms = new Map<string, Map<string, Member>>()

  async add(room: string, member: Member): Promise<boolean> {
    let members = this.#rooms.get(room)
    if (!members) {
      members = new Map()
      this.#rooms.set(room, members)
    }
    const fresh = !members.has(member.id)
    members.set(member.id, member)
    return fresh
  }

  async remove(room: string, member: Member): Promise<boolean> {
    const members = this.#rooms.get(room)
    if (!members?.delete(member.id)) return false
    if (members.size === 0) this.#rooms.delete(room)
    return true
  }

  async list(room: string): Promise<Member[]> {
    return [...(this.#rooms.get(room)?.values() ?? [])]
  }

  watch(): void {}

  async close(): Promise<void> {
    this.#rooms.clear()
  }
}
