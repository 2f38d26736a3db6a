/**
 * The rooms one connection is in. Nearly every connection is in one room,
 * and a Set costs about 200 bytes (its hash table) however few entries it
 * has; so one name sits in a field and a Set is made only for more.
 */
export class RoomSet {
  #one: string | null = null
  #more: Set<string> | null = null

  /** Number of rooms. */
  get size(): number {
    return (this.#one === null ? 0 : 1) + (this.#more?.size ?? 0)
  }

  /** True when `room` is in the set. */
  has(room: string): boolean {
    return this.#one === room || (this.#more?.has(room) ?? false)
  }

  /** Adds `room` (a room already in the set stays once). */
  add(room: string): void {
    if (this.has(room)) return
    if (this.#one === null) this.#one = room
    else {
      this.#more ??= new Set()
      this.#more.add(room)
    }
  }

  /** Removes `room`; false when it was not in the set. */
  delete(room: string): boolean {
    if (this.#one === room) {
      this.#one = null
      return true
    }
    return this.#more?.delete(room) ?? false
  }

  /** Every room, as a list that stays valid while the set changes. */
  list(): string[] {
    const rooms = this.#one === null ? [] : [this.#one]
    if (this.#more) rooms.push(...this.#more)
    return rooms
  }
}
