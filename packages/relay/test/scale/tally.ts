// The failover checker: it knows only what the publisher was told (acks) and
// what each listener's app saw, never anything inside the relay.
import type { Message } from '@confab/sdk/protocol'

/** What one listener saw, judged against the acks. */
export interface Verdict {
  listener: string
  received: number
  /** Acked messages this listener never got. */
  lost: number
  /** Deliveries of an offset it had already seen. */
  duplicates: number
  /** Deliveries with an offset lower than the previous one. */
  outOfOrder: number
  /** Offsets skipped between two deliveries (the store hands out gap-free offsets). */
  gaps: number
}

/** Acks on one side, deliveries per listener on the other. */
export class Tally {
  /** Client id -> offset, for every publish the relay acknowledged. */
  readonly acked = new Map<string, number>()
  readonly #seen = new Map<string, Message[]>()

  ack(message: Message): void {
    this.acked.set(message.id, message.offset)
  }

  /** The callback recording one listener's deliveries. */
  listener(name: string): (message: Message) => void {
    const seen: Message[] = []
    this.#seen.set(name, seen)
    return (message) => seen.push(message)
  }

  /** Offsets a listener has received so far. */
  offsets(name: string): number[] {
    return (this.#seen.get(name) ?? []).map((m) => m.offset)
  }

  /** True once every listener holds every acked message. */
  complete(): boolean {
    return [...this.#seen.values()].every((seen) => {
      const ids = new Set(seen.map((m) => m.id))
      return [...this.acked.keys()].every((id) => ids.has(id))
    })
  }

  verdicts(): Verdict[] {
    return [...this.#seen].map(([listener, seen]) => {
      const ids = new Set(seen.map((m) => m.id))
      const offsets = new Set<number>()
      let duplicates = 0
      let outOfOrder = 0
      let gaps = 0
      seen.forEach((message, i) => {
        if (offsets.has(message.offset)) duplicates++
        offsets.add(message.offset)
        const previous = seen[i - 1]
        if (previous && message.offset < previous.offset) outOfOrder++
        if (previous && message.offset > previous.offset + 1) gaps++
      })
      const lost = [...this.acked.keys()].filter((id) => !ids.has(id)).length
      return { listener, received: seen.length, lost, duplicates, outOfOrder, gaps }
    })
  }
}
