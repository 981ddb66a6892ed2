import { AbortError } from '@libernet/core'

interface Waiter {
  amount: number
  resolve: () => void
  reject: (error: Error) => void
}

/**
 * A counting semaphore over an amount (bytes, tasks): bounds how much work is
 * in flight so memory stays flat whatever the input size. Waiters are served
 * in order, so a large request is not starved by small ones; a request larger
 * than the whole capacity is granted when nothing else holds any.
 */
export class Semaphore {
  readonly capacity: number
  #available: number
  readonly #waiters: Waiter[] = []

  constructor(capacity: number) {
    if (!(capacity > 0)) throw new RangeError('a semaphore needs a positive capacity')
    this.capacity = capacity
    this.#available = capacity
  }

  get available(): number {
    return this.#available
  }

  async acquire(amount = 1, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
    if (this.#waiters.length === 0 && this.#fits(amount)) {
      this.#available -= amount
      return
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    const waiter: Waiter = { amount, resolve, reject }
    this.#waiters.push(waiter)
    if (signal !== undefined) {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter)
        if (index === -1) return
        this.#waiters.splice(index, 1)
        reject(new AbortError(undefined, { cause: signal.reason }))
        this.#drain()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      )
    }
    return promise
  }

  release(amount = 1): void {
    this.#available += amount
    this.#drain()
  }

  /** Runs `task` holding `amount`, releasing it however the task ends. */
  async use<T>(amount: number, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(amount, signal)
    try {
      return await task()
    } finally {
      this.release(amount)
    }
  }

  #fits(amount: number): boolean {
    return amount <= this.#available || this.#available === this.capacity
  }

  #drain(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]!.amount)) {
      const waiter = this.#waiters.shift()!
      this.#available -= waiter.amount
      waiter.resolve()
    }
  }
}
