/**
 * Fixed-size chunking, as the original implementation cuts files: every chunk
 * has exactly `size` bytes except the last.
 */
import { LEGACY_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../constants.ts'
import { InvalidChunkerOptionsError, throwIfAborted } from '../errors.ts'
import { ChunkBuffer, plainBytes } from './buffer.ts'

export interface FixedChunkerOptions {
  /**
   * Bytes per chunk, 1 to {@link LEGACY_CHUNK_SIZE}. Default
   * {@link MAX_CHUNK_SIZE}, the current era's chunk. {@link LEGACY_CHUNK_SIZE}
   * reproduces 2022-era chunks (and so their block ids), but an
   * incompressible chunk of that size encrypts to more than the 1 MiB this
   * implementation writes.
   */
  size?: number
  /**
   * Yield one zero-byte chunk for an empty input (default true): the original
   * stores an empty file as one empty block, so the file still has a part.
   * When false, an empty input yields nothing.
   */
  emptyChunk?: boolean
  /** Checked before every input piece and every chunk; aborting throws AbortError. */
  signal?: AbortSignal
}

/** Validates the fixed chunk size, throwing InvalidChunkerOptionsError. */
export function fixedChunkSize(size: number = MAX_CHUNK_SIZE): number {
  if (!Number.isSafeInteger(size) || size < 1 || size > LEGACY_CHUNK_SIZE) {
    throw new InvalidChunkerOptionsError(
      `fixed chunk size must be an integer from 1 to ${LEGACY_CHUNK_SIZE}, not ${size}`,
    )
  }
  return size
}

/**
 * Cuts a stream into chunks of exactly `size` bytes, except a shorter last one.
 * Chunks do not depend on how the input is split into pieces, and each owns
 * all of its `ArrayBuffer` (it can be kept, or transferred to a worker thread).
 * At most one chunk is held in memory besides the current piece. Options are
 * validated when called, before the first chunk is asked for.
 */
export function chunkFixed(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: FixedChunkerOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const size = fixedChunkSize(options.size)
  return cutFixed(source, size, options.emptyChunk ?? true, options.signal)
}

async function* cutFixed(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  emptyChunk: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  throwIfAborted(signal)
  const pending = new ChunkBuffer(size)
  let empty = true
  for await (const input of source) {
    throwIfAborted(signal)
    const piece = plainBytes(input)
    if (piece.length === 0) continue
    empty = false
    let position = 0
    if (pending.length > 0) {
      const missing = size - pending.length
      if (piece.length < missing) {
        pending.append(piece, 0, piece.length)
        continue
      }
      yield pending.take(piece, 0, missing)
      throwIfAborted(signal)
      position = missing
    }
    while (piece.length - position >= size) {
      yield pending.take(piece, position, position + size)
      throwIfAborted(signal)
      position += size
    }
    pending.append(piece, position, piece.length)
  }
  if (pending.length > 0) {
    yield pending.take()
  } else if (empty && emptyChunk) {
    yield new Uint8Array(0)
  }
}
