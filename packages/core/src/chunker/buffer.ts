/**
 * Holds the start of a chunk that spans input pieces. Input pieces may be
 * reused by whoever produced them once the next piece is requested, so the
 * bytes are copied in; chunks come out as fresh arrays that nothing else
 * references, so consumers may keep them as long as they like.
 *
 * The storage grows by doubling up to `limit` and is reused from one chunk to
 * the next, so that each byte is copied at most twice (in, then out) and a
 * small file never costs a whole chunk of memory.
 */
export class ChunkBuffer {
  readonly #limit: number
  #bytes: Uint8Array | undefined
  #nextCapacity: number
  #length = 0

  constructor(limit: number, initialCapacity = 64 * 1024) {
    this.#limit = limit
    this.#nextCapacity = Math.min(limit, initialCapacity)
  }

  /** Bytes held for the current chunk. */
  get length(): number {
    return this.#length
  }

  /** Copies `data[from..to)` after the bytes already held. */
  append(data: Uint8Array, from: number, to: number): void {
    const count = to - from
    if (count === 0) return
    const needed = this.#length + count
    if (needed > this.#limit) {
      throw new RangeError(`a chunk may not exceed ${this.#limit} bytes`)
    }
    const bytes = this.#reserve(needed)
    bytes.set(data.subarray(from, to), this.#length)
    this.#length = needed
  }

  /**
   * Returns the bytes held followed by `data[from..to)` as one new array, and
   * starts the next chunk empty.
   */
  take(data?: Uint8Array, from = 0, to = from): Uint8Array {
    const tail = data === undefined ? new Uint8Array(0) : data.subarray(from, to)
    const total = this.#length + tail.length
    const bytes = this.#bytes
    if (bytes === undefined || this.#length === 0) {
      const chunk = new Uint8Array(total)
      chunk.set(tail)
      return chunk
    }
    this.#length = 0
    if (total === bytes.length) {
      // An exactly full buffer is handed over instead of copied (every chunk
      // of a fixed-size chunker); the next chunk gets a new one.
      bytes.set(tail, total - tail.length)
      this.#bytes = undefined
      return bytes
    }
    const chunk = new Uint8Array(total)
    chunk.set(bytes.subarray(0, total - tail.length))
    chunk.set(tail, total - tail.length)
    return chunk
  }

  #reserve(needed: number): Uint8Array {
    let bytes = this.#bytes
    if (bytes !== undefined && bytes.length >= needed) return bytes
    let capacity = Math.max(this.#nextCapacity, bytes?.length ?? 0)
    while (capacity < needed) capacity = Math.min(this.#limit, capacity * 2)
    const grown = new Uint8Array(capacity)
    if (bytes !== undefined) grown.set(bytes.subarray(0, this.#length))
    bytes = grown
    this.#bytes = bytes
    this.#nextCapacity = capacity
    return bytes
  }
}

/**
 * A plain `Uint8Array` view of an input piece, without copying: the hash loop
 * then sees one array type whether callers pass `Uint8Array`s or Node
 * `Buffer`s, and stays monomorphic.
 */
export function plainBytes(piece: unknown): Uint8Array {
  if (!(piece instanceof Uint8Array)) {
    throw new TypeError('a chunker reads Uint8Array pieces')
  }
  return piece.constructor === Uint8Array ? piece : new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength)
}
