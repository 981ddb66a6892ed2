import { type BundlePart, type CodecPool, contentUrl } from '@libernet/core'
import type { EngineStore } from '../store.ts'
import { Semaphore } from '../util/semaphore.ts'

export interface BlockWriterOptions {
  store: EngineStore
  pool: CodecPool
  /** Plaintext bytes encoding or being stored at once (default 8 MiB): bounds memory. */
  inFlightBytes?: number
  /** zlib level (default: core's, which skips data that looks incompressible); 0 never compresses. */
  level?: number
  signal?: AbortSignal
}

/** Totals of what a {@link BlockWriter} encoded and stored. */
export interface BlockWriterStats {
  /** Chunks encoded. */
  blocks: number
  /** Blocks that were not in the store before. */
  newBlocks: number
  /** Stored bytes of those new blocks. */
  newBytes: number
}

/**
 * Encodes chunks (convergent) in the worker pool and stores them, with a
 * bounded number of bytes in flight: `submit` waits while the budget is
 * spent, which is the back-pressure that keeps reading from running ahead of
 * hashing, compression, encryption and storage.
 */
export class BlockWriter {
  readonly stats: BlockWriterStats = { blocks: 0, newBlocks: 0, newBytes: 0 }
  readonly #store: EngineStore
  readonly #pool: CodecPool
  readonly #budget: Semaphore
  readonly #level: number | undefined
  readonly #signal: AbortSignal | undefined

  constructor(options: BlockWriterOptions) {
    this.#store = options.store
    this.#pool = options.pool
    this.#budget = new Semaphore(options.inFlightBytes ?? 8 * 1024 * 1024)
    this.#level = options.level
    this.#signal = options.signal
  }

  /**
   * Waits for room, then starts encoding and storing `chunk` (whose buffer is
   * handed to a worker: the caller must not touch it again). Resolves as soon
   * as the work is started, to a holder of the part's promise (a promise
   * cannot resolve to a promise: awaiting it would wait for the store).
   */
  async submit(chunk: Uint8Array): Promise<{ part: Promise<BundlePart> }> {
    const cost = Math.max(chunk.byteLength, 1024)
    await this.#budget.acquire(cost, this.#signal)
    const part = this.#encodeAndStore(chunk).finally(() => this.#budget.release(cost))
    // The caller awaits it later; until then a rejection must not count as unhandled.
    part.catch(() => {})
    return { part }
  }

  /** Encodes and stores one block of bytes outside the chunk stream (bundles); resolves to its URL. */
  async storeContent(json: Uint8Array): Promise<{ url: string; added: boolean; stored: number }> {
    const block = await this.#pool.encode('convergent', json, { signal: this.#signal })
    const added = await this.#store.put(block.id, block.bytes, { signal: this.#signal })
    this.stats.blocks++
    if (added) {
      this.stats.newBlocks++
      this.stats.newBytes += block.bytes.byteLength
    }
    return { url: contentUrl('convergent', block.id, block.key!), added, stored: block.bytes.byteLength }
  }

  async #encodeAndStore(chunk: Uint8Array): Promise<BundlePart> {
    const size = chunk.byteLength
    const block = await this.#pool.encode('convergent', chunk, {
      ...(this.#level !== undefined ? { level: this.#level } : {}),
      transfer: true,
      signal: this.#signal,
    })
    const added = await this.#store.put(block.id, block.bytes, { signal: this.#signal })
    this.stats.blocks++
    if (added) {
      this.stats.newBlocks++
      this.stats.newBytes += block.bytes.byteLength
    }
    return { url: contentUrl('convergent', block.id, block.key!), size }
  }
}
