/**
 * FastCDC content-defined chunking (Xia et al., "The Design of Fast
 * Content-Defined Chunking for Data Deduplication Based Storage Systems",
 * IEEE TPDS 2020): a gear hash rolls over the data and a chunk ends before
 * the first byte at which the hash has zeros under a mask. Cut points follow
 * the content, so inserting or deleting bytes changes only the chunks around
 * the edit, and an edited file still shares most of its blocks.
 *
 * As in the paper:
 * - no cut is looked for in the first `min` bytes of a chunk (the hash starts
 *   from zero at offset `min`), and a chunk that reaches `max` bytes is cut;
 * - normalized chunking, level 2: up to offset `avg` the mask has
 *   log2(avg) + 2 bits (cuts are rare), beyond it log2(avg) − 2 bits (cuts are
 *   frequent), which narrows the spread of chunk sizes around `avg`;
 * - the matching byte at index `i` starts the next chunk (the chunk is `[start, i)`);
 * - the loop rolls two bytes per step with a pre-shifted table, which is
 *   faster in V8 (bench/core/CHUNKER.md) and cuts where one byte per step would.
 *
 * The hash is 32 bits wide ({@link GEAR}); masks are contiguous runs ending at
 * bit 30, because high bits depend on the most preceding bytes (bit k on the
 * last k + 1) and because rolling two bytes per step drops bit 31 of the
 * intermediate hash.
 */
import { MAX_CHUNK_SIZE } from '../constants.ts'
import { InvalidChunkerOptionsError, throwIfAborted } from '../errors.ts'
import { ChunkBuffer, plainBytes } from './buffer.ts'
import { GEAR, GEAR_SHIFTED } from './gear.ts'

/** Chunk size bounds of FastCDC. Plain data, so it crosses worker threads as is. */
export interface FastCdcParams {
  /** Smallest chunk, except the last one of a stream. */
  readonly min: number
  /** Target size, a power of two: where normalized chunking switches masks. */
  readonly avg: number
  /** Largest chunk: a chunk that reaches it is cut there. */
  readonly max: number
}

export interface FastCdcOptions {
  /** Default {@link DEFAULT_FASTCDC_PARAMS}.min, 64 KiB. */
  min?: number
  /** Default {@link DEFAULT_FASTCDC_PARAMS}.avg, 256 KiB. */
  avg?: number
  /** Default {@link DEFAULT_FASTCDC_PARAMS}.max, {@link MAX_CHUNK_SIZE}. */
  max?: number
  /**
   * Yield one zero-byte chunk for an empty input (default true), as the
   * fixed-size chunker does: an empty file is stored as one empty block.
   */
  emptyChunk?: boolean
  /** Checked before every input piece and every chunk; aborting throws AbortError. */
  signal?: AbortSignal
}

export const DEFAULT_FASTCDC_PARAMS: FastCdcParams = Object.freeze({
  min: 64 * 1024,
  avg: 256 * 1024,
  max: MAX_CHUNK_SIZE,
})

/** Normalization level of the paper: mask widths are log2(avg) ± this. */
const NORMALIZATION = 2
const SMALLEST_AVG = 16

/** Parameters with their masks, ready for the hash loop. */
interface CutParams {
  readonly min: number
  readonly avg: number
  readonly max: number
  /** Mask before offset `avg`, and the same shifted left by one bit. */
  readonly maskSmall: number
  readonly maskSmallShifted: number
  /** Mask from offset `avg` on, and the same shifted left by one bit. */
  readonly maskLarge: number
  readonly maskLargeShifted: number
}

/** `bits` ones ending at bit 30. */
function highMask(bits: number): number {
  return (((1 << bits) - 1) << (31 - bits)) | 0
}

function isSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1
}

/**
 * Fills in defaults and checks that `1 <= min < avg < max <= MAX_CHUNK_SIZE`
 * and that `avg` is a power of two (at least 16), throwing
 * InvalidChunkerOptionsError otherwise.
 */
export function fastCdcParams(options: Omit<FastCdcOptions, 'emptyChunk' | 'signal'> = {}): FastCdcParams {
  const { min, avg, max } = compile({
    min: options.min ?? DEFAULT_FASTCDC_PARAMS.min,
    avg: options.avg ?? DEFAULT_FASTCDC_PARAMS.avg,
    max: options.max ?? DEFAULT_FASTCDC_PARAMS.max,
  })
  return Object.freeze({ min, avg, max })
}

function compile(params: FastCdcParams): CutParams {
  const { min, avg, max } = params
  if (!isSize(min) || !isSize(avg) || !isSize(max)) {
    throw new InvalidChunkerOptionsError(`chunk sizes must be positive integers (min ${min}, avg ${avg}, max ${max})`)
  }
  if (!(min < avg && avg < max && max <= MAX_CHUNK_SIZE)) {
    throw new InvalidChunkerOptionsError(
      `chunk sizes must satisfy min < avg < max <= ${MAX_CHUNK_SIZE} (min ${min}, avg ${avg}, max ${max})`,
    )
  }
  if (avg < SMALLEST_AVG || (avg & (avg - 1)) !== 0) {
    throw new InvalidChunkerOptionsError(`avg must be a power of two of at least ${SMALLEST_AVG}, not ${avg}`)
  }
  const bits = Math.log2(avg)
  const maskSmall = highMask(bits + NORMALIZATION)
  const maskLarge = highMask(bits - NORMALIZATION)
  return {
    min,
    avg,
    max,
    maskSmall,
    maskSmallShifted: maskSmall << 1,
    maskLarge,
    maskLargeShifted: maskLarge << 1,
  }
}

/** Hash carried from one input piece to the next while a chunk spans them. */
interface RollState {
  hash: number
}

/**
 * Rolls the gear hash over `data[from..to)` for the chunk that starts at
 * index `chunkStart` (negative when it began in earlier pieces). Returns the
 * index where the chunk ends, or -1 when it goes on past `to`; then
 * `state.hash` holds the hash to continue with.
 */
function roll(data: Uint8Array, from: number, to: number, chunkStart: number, p: CutParams, state: RollState): number {
  const begin = Math.max(from, chunkStart + p.min)
  const smallEnd = Math.min(to, chunkStart + p.avg)
  if (begin < smallEnd) {
    const cut = rollUntilMatch(data, begin, smallEnd, p.maskSmall, p.maskSmallShifted, state)
    if (cut !== -1) return cut
  }
  const maxEnd = chunkStart + p.max
  const largeEnd = Math.min(to, maxEnd)
  const largeBegin = Math.max(begin, smallEnd)
  if (largeBegin < largeEnd) {
    const cut = rollUntilMatch(data, largeBegin, largeEnd, p.maskLarge, p.maskLargeShifted, state)
    if (cut !== -1) return cut
  }
  return largeEnd === maxEnd ? maxEnd : -1
}

/**
 * The hot loop: the index of the first byte in `data[from..to)` that brings
 * the hash to zeros under `mask` (that byte starts the next chunk), or -1 with
 * the hash left in `state`. Both phases of
 * normalized chunking share it, so the JIT sees one loop with rich type
 * feedback rather than two.
 */
function rollUntilMatch(
  data: Uint8Array,
  from: number,
  to: number,
  mask: number,
  maskShifted: number,
  state: RollState,
): number {
  const gear = GEAR
  const gearShifted = GEAR_SHIFTED
  let hash = state.hash
  let i = from
  for (; i + 1 < to; i += 2) {
    // The hash after the first byte, shifted left one bit: its lost bit 31 is under no mask.
    hash = ((hash << 2) + gearShifted[data[i]!]!) | 0
    if ((hash & maskShifted) === 0) return i
    hash = (hash + gear[data[i + 1]!]!) | 0
    if ((hash & mask) === 0) return i + 1
  }
  if (i < to) {
    hash = ((hash << 1) + gear[data[i]!]!) | 0
    if ((hash & mask) === 0) return i
  }
  state.hash = hash
  return -1
}

/**
 * Where the chunk that starts at `data[start]` ends, taking `end` as the end
 * of the input: an index in `(start, end]` at most `start + max`, or `start`
 * when `start === end`. Synchronous, for callers that hold a whole file or
 * region (worker threads); a caller with partial input must pass at least
 * `max` bytes unless it is at the end, or it may cut early.
 * Throws InvalidChunkerOptionsError for bad params, RangeError for bad indices.
 */
export function findCutPoint(data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  const p = compile(params)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > data.length) {
    throw new RangeError(`no region [${start}, ${end}) in ${data.length} bytes`)
  }
  if (end - start <= p.min) return end
  const cut = roll(data, start, end, start, p, { hash: 0 })
  return cut === -1 ? end : cut
}

/**
 * Cuts a stream into content-defined chunks. The chunks are the same however
 * the input is split into pieces (and the same as repeated
 * {@link findCutPoint} over the whole input). Each chunk owns all of its
 * `ArrayBuffer`, so it can be kept, or transferred to a worker thread, without
 * affecting anything else. Less than `max` bytes are held besides the current
 * piece. Options are validated when called, before the first chunk is asked for.
 */
export function chunkFastCdc(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: FastCdcOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const params = compile(fastCdcParams(options))
  return cutFastCdc(source, params, options.emptyChunk ?? true, options.signal)
}

async function* cutFastCdc(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  params: CutParams,
  emptyChunk: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  throwIfAborted(signal)
  const pending = new ChunkBuffer(params.max)
  const state: RollState = { hash: 0 }
  let empty = true
  for await (const input of source) {
    throwIfAborted(signal)
    const piece = plainBytes(input)
    if (piece.length === 0) continue
    empty = false
    // The current chunk's bytes in this piece start at `begin`; any earlier
    // ones are in `pending` and have been hashed already.
    let begin = 0
    while (begin < piece.length) {
      const cut = roll(piece, begin, piece.length, begin - pending.length, params, state)
      if (cut === -1) {
        pending.append(piece, begin, piece.length)
        break
      }
      yield pending.take(piece, begin, cut)
      throwIfAborted(signal)
      state.hash = 0
      begin = cut
    }
  }
  if (pending.length > 0) {
    yield pending.take()
  } else if (empty && emptyChunk) {
    yield new Uint8Array(0)
  }
}
