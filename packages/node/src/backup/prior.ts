import type { BundleFile, BundleFileEntry } from '@libernet/core'
import { compareCodePoints } from '../util/code-points.ts'

/**
 * The files of the previous snapshot, walked in step with the folder: both
 * come in code point order of their paths, so finding a file's previous
 * entry is a merge join that holds one entry at a time, not a map of the
 * whole tree.
 */
export class PriorCursor {
  readonly #entries: AsyncIterator<BundleFileEntry>
  #current: BundleFileEntry | undefined
  #done = false
  #started = false
  /** The prior listed files out of order: lookups past that point may miss (files are then read again, never wrongly reused). */
  unordered = false

  constructor(entries: AsyncIterable<BundleFileEntry>) {
    this.#entries = entries[Symbol.asyncIterator]()
  }

  /** The previous entry for `path`; calls must come in increasing path order. */
  async find(path: string): Promise<BundleFile | undefined> {
    if (!this.#started) {
      this.#started = true
      await this.#advance()
    }
    while (this.#current !== undefined && compareCodePoints(this.#current.path, path) < 0) await this.#advance()
    if (this.#current?.path === path) {
      const { file } = this.#current
      await this.#advance()
      return file
    }
    return undefined
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#entries.return?.()
    this.#done = true
  }

  async #advance(): Promise<void> {
    if (this.#done) {
      this.#current = undefined
      return
    }
    const previous = this.#current?.path
    const next = await this.#entries.next()
    if (next.done === true) {
      this.#done = true
      this.#current = undefined
      return
    }
    if (previous !== undefined && compareCodePoints(previous, next.value.path) >= 0) this.unordered = true
    this.#current = next.value
  }
}
