/** Collects what a callback receives and lets a test wait for a matching item, with a timeout instead of a sleep. */
export class Inbox<T> {
  readonly items: T[] = []
  readonly #waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>()

  /** The callback to hand to the code under test. */
  readonly push = (item: T): void => {
    this.items.push(item)
    for (const waiter of this.#waiters) {
      if (waiter.match(item)) {
        this.#waiters.delete(waiter)
        waiter.resolve(item)
      }
    }
  }

  /** Resolves with the first item (already received or to come) that matches. */
  next(match: (item: T) => boolean, timeout = 5000, what = 'an item'): Promise<T> {
    const seen = this.items.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer)
          resolve(item)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}; got ${JSON.stringify(this.items)}`))
      }, timeout)
      this.#waiters.add(waiter)
    })
  }
}
