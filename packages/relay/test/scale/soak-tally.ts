// The soak's checker. Like tally.ts it knows only what publishers were told
// (acks) and what each listener's app saw, but it keeps no message objects:
// a soak of half an hour delivers millions of them. Per room it keeps the id
// acked at each offset and the id first delivered at each offset; per listener,
// the ranges of offsets it received and its counts of what went wrong.
import type { Message } from '@confab/sdk/protocol'

/** What one listener saw, judged against the acks. */
export interface SoakVerdict {
  listener: string
  room: string
  /** Still connected at the end (only those must hold every acked message after their join). */
  live: boolean
  received: number
  /** Acked messages after its join that a live listener never got. */
  lost: number
  /** Deliveries of an offset it had already received. */
  duplicates: number
  /** Deliveries below the previous offset that were not duplicates. */
  outOfOrder: number
  /** Offsets skipped between two deliveries. */
  gaps: number
  /** Deliveries whose id differs from the id another listener got at that offset. */
  mismatches: number
  /** `reset` events (history could not be resumed). */
  resets: number
}

class RoomTally {
  /** Offset -> id of each acked publish. */
  readonly acked = new Map<number, string>()
  /** Offset -> id of the first delivery of that offset to anyone. */
  readonly delivered = new Map<number, string>()
  /** Acks whose offset another publish was also acked with. */
  ackConflicts = 0
  head = 0
}

/** One listener's record. */
export class ListenerTally {
  /** Offset before the first delivery (its join position). */
  start: number | undefined
  last: number | undefined
  /** Received offsets as sorted, disjoint [from, to] ranges. */
  readonly ranges: Array<[number, number]> = []
  received = 0
  duplicates = 0
  outOfOrder = 0
  gaps = 0
  mismatches = 0
  resets = 0
  live = true

  constructor(
    readonly name: string,
    readonly room: string,
    readonly onDelivery: () => void,
    readonly check: (message: Message) => boolean,
  ) {}

  /** Sets the join position when no message came before it (a quiet room). */
  joinedAt(offset: number): void {
    if (this.start === undefined) {
      this.start = offset
      this.last = offset
    }
  }

  receive(message: Message): void {
    const offset = message.offset
    if (!this.check(message)) this.mismatches++
    if (this.last === undefined || this.start === undefined) {
      this.start = offset - 1
      this.last = offset - 1
    }
    if (offset <= this.last) {
      if (this.has(offset)) this.duplicates++
      else {
        this.outOfOrder++
        this.#insert(offset)
      }
    } else {
      if (offset > this.last + 1) this.gaps++
      const tail = this.ranges.at(-1)
      if (tail && tail[1] === offset - 1) tail[1] = offset
      else this.ranges.push([offset, offset])
      this.last = offset
    }
    this.received++
    this.onDelivery()
  }

  /** Adds an offset below the last one (a late delivery), merging ranges it joins. */
  #insert(offset: number): void {
    this.ranges.push([offset, offset])
    this.ranges.sort((a, b) => a[0] - b[0])
    const merged: Array<[number, number]> = []
    for (const range of this.ranges) {
      const tail = merged.at(-1)
      if (tail && range[0] <= tail[1] + 1) tail[1] = Math.max(tail[1], range[1])
      else merged.push([range[0], range[1]])
    }
    this.ranges.splice(0, this.ranges.length, ...merged)
  }

  has(offset: number): boolean {
    return this.ranges.some(([from, to]) => offset >= from && offset <= to)
  }
}

export class SoakTally {
  readonly #rooms = new Map<string, RoomTally>()
  readonly listeners: ListenerTally[] = []
  acks = 0
  deliveries = 0
  /** Called after every ack and delivery, for whoever waits on a count. */
  onChange: () => void = () => {}

  #room(name: string): RoomTally {
    let room = this.#rooms.get(name)
    if (!room) {
      room = new RoomTally()
      this.#rooms.set(name, room)
    }
    return room
  }

  ack(message: Message): void {
    const room = this.#room(message.room)
    const earlier = room.acked.get(message.offset)
    // The same id acked twice (a retry answered with the original) is one message.
    if (earlier !== undefined && earlier !== message.id) room.ackConflicts++
    if (earlier === undefined) this.acks++
    room.acked.set(message.offset, message.id)
    room.head = Math.max(room.head, message.offset)
    this.onChange()
  }

  listener(name: string, room: string): ListenerTally {
    const tally = this.#room(room)
    const listener = new ListenerTally(
      name,
      room,
      () => {
        this.deliveries++
        this.onChange()
      },
      (message) => {
        const first = tally.delivered.get(message.offset)
        if (first === undefined) tally.delivered.set(message.offset, message.id)
        return first === undefined || first === message.id
      },
    )
    this.listeners.push(listener)
    return listener
  }

  /** True once every live listener holds every acked offset of its room. */
  complete(): boolean {
    return this.listeners.every((l) => !l.live || (l.last ?? 0) >= this.#room(l.room).head)
  }

  /** Listeners still missing acked messages, for failure messages. */
  behind(): string[] {
    return this.listeners
      .filter((l) => l.live && (l.last ?? 0) < this.#room(l.room).head)
      .map((l) => `${l.name} in ${l.room} at ${l.last} of ${this.#room(l.room).head}`)
  }

  /** Acks that disagree with deliveries: an offset acked for one id and delivered with another. */
  ackMismatches(): number {
    let count = 0
    for (const room of this.#rooms.values()) {
      count += room.ackConflicts
      for (const [offset, id] of room.acked) {
        const delivered = room.delivered.get(offset)
        if (delivered !== undefined && delivered !== id) count++
      }
    }
    return count
  }

  verdicts(): SoakVerdict[] {
    return this.listeners.map((l) => {
      const room = this.#room(l.room)
      let lost = 0
      if (l.live) {
        for (const offset of room.acked.keys()) if (offset > (l.start ?? 0) && !l.has(offset)) lost++
      }
      const { name: listener, live, received, duplicates, outOfOrder, gaps, mismatches, resets } = l
      return { listener, room: l.room, live, received, lost, duplicates, outOfOrder, gaps, mismatches, resets }
    })
  }
}
