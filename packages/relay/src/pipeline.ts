/** The two points of a publish that keep the connection's order: its store append is issued, it is answered. */
const ISSUE = 0
const ANSWER = 1
type Stage = typeof ISSUE | typeof ANSWER

/**
 * One publish's place in its connection's order. Its checks (ban, mute,
 * `beforePublish`) run at once, beside those of the publishes around it, but
 * its store append is issued only after every earlier one's, and its answer
 * (ack or error) is written only after every earlier one's. Since ioredis
 * sends the commands of one connection in the order they were issued, and
 * the memory and SQLite stores append synchronously, issue order is the
 * order offsets are given in: the client's send order.
 *
 * A step whose earlier turn has passed that point runs at once, in the same
 * tick, and so do the later turns' steps it was holding up. No promise hop is
 * added where nothing waits: appends that complete in offset order are acked
 * and fanned out in offset order, across connections too, so the rooms never
 * see a gap to refill from the store.
 */
export class Turn {
  /** Until this turn is answered: the turn before it, whose progress it waits on. */
  #earlier: Turn | null
  #later: Turn | null = null
  readonly #passed: [boolean, boolean] = [false, false]
  /** A step waiting for the earlier turn to pass its point, per point. */
  readonly #held: [(() => void) | null, (() => void) | null] = [null, null]

  constructor(earlier: Turn | null) {
    this.#earlier = earlier
    if (earlier !== null) earlier.#later = this
  }

  /**
   * Calls `append` once every earlier publish has issued its own: nothing
   * asynchronous may stand between this call and the store's command.
   */
  append<T>(append: () => Promise<T>): Promise<T> {
    let appended: Promise<T> | undefined
    const held = this.#at(ISSUE, () => {
      appended = append()
    })
    return held === undefined ? (appended as Promise<T>) : held.then(() => appended as Promise<T>)
  }

  /**
   * Calls `answer` once every earlier publish has been answered: at once when
   * they have (and then returns undefined), else later (the promise settles
   * then). An answer ends the publish's part in the append order.
   */
  answer(answer: () => void): Promise<void> | undefined {
    this.#skip(ISSUE)
    return this.#at(ANSWER, answer)
  }

  /** Releases whatever this publish has not done, in its turn, so later ones stop waiting for it. */
  end(): void {
    this.#skip(ISSUE)
    this.#skip(ANSWER)
  }

  #skip(stage: Stage): void {
    if (!this.#passed[stage] && this.#held[stage] === null) void this.#at(stage, () => {})
  }

  /** Runs `step` at `stage` now if the earlier turn has passed it (returns undefined), else when it does. */
  #at(stage: Stage, step: () => void): Promise<void> | undefined {
    const earlier = this.#earlier
    if (earlier === null || earlier.#passed[stage] || this.#passed[stage]) {
      this.#pass(stage, step)
      return undefined
    }
    return new Promise<void>((resolve, reject) => {
      this.#held[stage] = () => {
        try {
          step()
          resolve()
        } catch (error) {
          reject(error)
        }
      }
    })
  }

  /** Runs `step`, marks the point passed, then runs the later turns' steps held at that point. */
  #pass(stage: Stage, step: () => void): void {
    try {
      step()
    } finally {
      this.#passed[stage] = true
      if (stage === ANSWER) this.#earlier = null
      for (let later = this.#later; later !== null; later = later.#later) {
        const held = later.#held[stage]
        if (held === null) break
        later.#held[stage] = null
        later.#passed[stage] = true
        if (stage === ANSWER) later.#earlier = null
        held()
      }
    }
  }
}

/**
 * A connection's publishes in flight, at most `limit` at a time: hands out
 * turns in the order the frames were read and tells the reading loop when
 * there is room for another, or when all are done (a frame that is not a
 * publish waits for that, so it sees their effects).
 */
export class Pipeline {
  readonly #limit: number
  #size = 0
  #last: Turn | null = null
  /** The reading loop, waiting until fewer than `below` are in flight: only that loop waits here. */
  #waiter: { below: number; resolve: () => void } | null = null

  constructor(limit: number) {
    this.#limit = limit
  }

  /** Publishes in flight. */
  get size(): number {
    return this.#size
  }

  /** The next turn, after every one handed out so far; call `finished` when its publish is over. */
  next(): Turn {
    const turn = new Turn(this.#last)
    this.#last = turn
    this.#size++
    return turn
  }

  /** A publish is over (answered or refused): its slot is free. */
  finished(turn: Turn): void {
    turn.end()
    this.#size--
    const waiter = this.#waiter
    if (waiter !== null && this.#size < waiter.below) {
      this.#waiter = null
      waiter.resolve()
    }
  }

  /** Settles once another publish may start. */
  room(): Promise<void> {
    return this.#below(this.#limit)
  }

  /** Settles once no publish is in flight. */
  drained(): Promise<void> {
    return this.#below(1)
  }

  #below(count: number): Promise<void> {
    if (this.#size < count) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.#waiter = { below: count, resolve }
    })
  }
}
