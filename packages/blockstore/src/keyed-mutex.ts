/**
 * Runs tasks one at a time per key, in call order; tasks on different keys run
 * concurrently. Serializes puts, deletes and repairs of the same block so two
 * of them never race on its file and metadata row.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>()

  isBusy(key: string): boolean {
    return this.#tails.has(key)
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key)
    const result = (previous === undefined ? task() : previous.then(task, task)) as Promise<T>
    const tail = result.then(
      () => {},
      () => {},
    )
    this.#tails.set(key, tail)
    try {
      return await result
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}
