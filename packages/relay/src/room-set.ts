/**
 * The rooms of one connection, as the value of one field: null for none, the
 * name for one, a Set for more. Nearly every connection is in one room, and a
 * Set costs about 200 bytes (its hash table) however few entries it has, an
 * object of its own about 40; so one name is kept as it is.
 */
export type RoomNames = string | Set<string> | null

/** True when `room` is in `rooms`. */
export function hasRoom(rooms: RoomNames, room: string): boolean {
  return typeof rooms === 'string' ? rooms === room : (rooms?.has(room) ?? false)
}

/** Number of rooms. */
export function roomCount(rooms: RoomNames): number {
  return typeof rooms === 'string' ? 1 : (rooms?.size ?? 0)
}

/** `rooms` with `room` added (a room already in stays once); a Set is changed in place. */
export function withRoom(rooms: RoomNames, room: string): RoomNames {
  if (rooms === null || rooms === room) return room
  if (typeof rooms === 'string') return new Set([rooms, room])
  return rooms.add(room)
}

/** `rooms` without `room`; a Set is changed in place, and one left with a single room gives way to its name. */
export function withoutRoom(rooms: RoomNames, room: string): RoomNames {
  if (typeof rooms === 'string') return rooms === room ? null : rooms
  if (rooms === null || !rooms.delete(room)) return rooms
  if (rooms.size > 1) return rooms
  const [last] = rooms
  return last ?? null
}

/** Every room, as a list that stays valid while the rooms change. */
export function roomList(rooms: RoomNames): string[] {
  return typeof rooms === 'string' ? [rooms] : rooms === null ? [] : [...rooms]
}

/** The rooms of one connection as an object (the relay keeps them in a field of its session). */
export class RoomSet {
  #rooms: RoomNames = null

  /** Number of rooms. */
  get size(): number {
    return roomCount(this.#rooms)
  }

  /** True when `room` is in the set. */
  has(room: string): boolean {
    return hasRoom(this.#rooms, room)
  }

  /** Adds `room` (a room already in the set stays once). */
  add(room: string): void {
    this.#rooms = withRoom(this.#rooms, room)
  }

  /** Removes `room`; false when it was not in the set. */
  delete(room: string): boolean {
    if (!this.has(room)) return false
    this.#rooms = withoutRoom(this.#rooms, room)
    return true
  }

  /** Every room, as a list that stays valid while the set changes. */
  list(): string[] {
    return roomList(this.#rooms)
  }
}
