import { AbortError } from '@libernet/core'

/**
 * A token bucket holding up to one second of `bytesPerSecond`. `take` may
 * drive it into debt, then waits until the debt is paid: a megabyte block is
 * never split, and the average pace still holds.
 */
export class ByteRateLimiter {
  readonly #rate: number
  #tokens: number
  #last: number

  constructor(bytesPerSecond: number) {
    this.#rate = bytesPerSecond
    this.#tokens = bytesPerSecond
    this.#last = performance.now()
  }

  get unlimited(): boolean {
    return this.#rate === Number.POSITIVE_INFINITY
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.unlimited) return
    const now = performance.now()
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) / 1000) * this.#rate)
    this.#last = now
    this.#tokens -= bytes
    if (this.#tokens >= 0) return
    await sleep((-this.#tokens / this.#rate) * 1000, signal)
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortError(undefined, { cause: signal.reason }))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new AbortError(undefined, { cause: signal?.reason }))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
