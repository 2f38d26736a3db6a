/** A promise with its resolve function, settled once. */
class Signal {
  readonly promise: Promise<void>
  #resolve: (() => void) | null = null

  constructor() {
    this.promise = new Promise<void>((resolve) => {
      this.#resolve = resolve
    })
  }

  get done(): boolean {
    return this.#resolve === null
  }

  fire(): void {
    this.#resolve?.()
    this.#resolve = null
  }
}

const SETTLED = Promise.resolve()

/**
 * Fires `signal` once `earlier` settles: a turn skipped (a refusal) must not
 * let a later one go ahead of the turns before it that are still waiting.
 */
function pass(signal: Signal, earlier: Promise<void>): void {
  if (!signal.done) void earlier.then(() => signal.fire())
}

/**
 * One publish's place in its connection's order. Its checks (ban, mute,
 * `beforePublish`) run at once, beside those of the publishes around it, but
 * its store append is issued only after every earlier one's, and its answer
 * (ack or error) is written only after every earlier one's. Since ioredis
 * sends the commands of one connection in the order they were issued, and
 * the memory and SQLite stores append synchronously, issue order is the
 * order offsets are given in: the client's send order.
 */
export class Turn {
  readonly #earlierIssued: Promise<void>
  readonly #earlierAnswered: Promise<void>
  readonly #issued = new Signal()
  readonly #answered = new Signal()

  constructor(earlierIssued: Promise<void>, earlierAnswered: Promise<void>) {
    this.#earlierIssued = earlierIssued
    this.#earlierAnswered = earlierAnswered
  }

  /** Settles once this publish has issued its append, or will not. */
  get issued(): Promise<void> {
    return this.#issued.promise
  }

  /** Settles once this publish has been answered, or will not be. */
  get answered(): Promise<void> {
    return this.#answered.promise
  }

  /**
   * Calls `append` once every earlier publish has issued its own: nothing
   * asynchronous may stand between this call and the store's command.
   */
  async append<T>(append: () => Promise<T>): Promise<T> {
    await this.#earlierIssued
    try {
      return append()
    } finally {
      this.#issued.fire()
    }
  }

  /**
   * Calls `answer` once every earlier publish has been answered. An answer
   * ends the publish's part in the append order: a refusal lets later
   * appends go ahead at once.
   */
  async answer(answer: () => void): Promise<void> {
    pass(this.#issued, this.#earlierIssued)
    await this.#earlierAnswered
    try {
      answer()
    } finally {
      this.#answered.fire()
    }
  }

  /** Releases whatever this publish has not done, so later ones stop waiting for it (a refusal, a failure). */
  end(): void {
    pass(this.#issued, this.#earlierIssued)
    pass(this.#answered, this.#earlierAnswered)
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
  #lastIssued: Promise<void> = SETTLED
  #lastAnswered: Promise<void> = SETTLED
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
    const turn = new Turn(this.#lastIssued, this.#lastAnswered)
    this.#lastIssued = turn.issued
    this.#lastAnswered = turn.answered
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
    if (this.#size < count) return SETTLED
    return new Promise<void>((resolve) => {
      this.#waiter = { below: count, resolve }
    })
  }
}
