import type { AccessUpdate } from './metadata.ts'

/**
 * Request counts gathered in memory so that `get` never waits on a database
 * write: a read adds one to a map entry, and the map is folded into SQLite in
 * one transaction by a timer, when it grows past `maxPending` ids, before any
 * decision that depends on the counts (eviction, stats) and on close.
 * A crash loses at most one interval of counts, which are soft popularity
 * state, not data.
 */
export class AccessLog {
  readonly #pending = new Map<string, AccessUpdate>()
  readonly #maxPending: number
  readonly #halfLife: number
  readonly #flush: (updates: AccessUpdate[]) => void

  constructor(flush: (updates: AccessUpdate[]) => void, options: { maxPending: number; halfLife: number }) {
    this.#flush = flush
    this.#maxPending = options.maxPending
    this.#halfLife = options.halfLife
  }

  /** Counts one request at `now`. Each request is weighted by when it happened, not by when it is flushed. */
  record(key: string, id: Uint8Array, now: number): void {
    const entry = this.#pending.get(key)
    if (entry === undefined) {
      this.#pending.set(key, { id, since: now, count: 1, lastAccess: now })
      // Flushed on the next turn of the event loop, not inside the read that crossed the threshold.
      if (this.#pending.size === this.#maxPending) setImmediate(() => this.flush())
    } else {
      entry.count += 2 ** ((now - entry.since) / this.#halfLife)
      entry.lastAccess = Math.max(entry.lastAccess, now)
    }
  }

  /** Forgets pending counts of a block that is gone. */
  discard(key: string): void {
    this.#pending.delete(key)
  }

  flush(): void {
    if (this.#pending.size === 0) return
    const updates = [...this.#pending.values()]
    this.#pending.clear()
    this.#flush(updates)
  }
}
