/**
 * zlib for the codec: compression that is skipped cheaply when it cannot pay,
 * and bounded inflation that refuses anything but one exact zlib stream.
 */
import { inflateSync } from 'node:zlib'
import { LEGACY_MAX_BLOCK_SIZE } from '../constants.ts'
import { DecompressionError } from '../errors.ts'
import { deflateWithin } from './deflater.ts'
import { inflateWithin } from './inflater.ts'

/**
 * Default zlib level, chosen by measurement (bench/core/RESULTS.md, "zlib
 * levels", 1 MiB chunks): level 1 deflates text-like data 5-7 times as fast
 * as levels 6-9, and mixed data (a quarter random) 3-4 times as fast, for
 * output 17 % larger on text (0.328 of the input against 0.281) and 7 % on
 * mixed data (0.520 against 0.487). Levels 2-5 lose speed faster than they
 * save bytes. Deflate is most of a compressible block's encoding time, ingest
 * speed is a design target (at least restic's MB/s), and every level decodes
 * the same, so the fast end wins. The original used level 9; this zlib build
 * gives other bytes even at level 9, so its compressed blocks could not be
 * reproduced anyway. Callers that prefer size pass `level` explicitly.
 */
export const DEFAULT_ZLIB_LEVEL = 1

/** `level: 0` means "never compress" (not zlib's stored mode, which only adds bytes). */
export const NO_COMPRESSION = 0

/**
 * Largest output an inflate may produce: a 2022-era 1 MiB chunk, or a plain
 * block's 1 MiB plus its like suffix, both fit; zlib bombs stop here.
 */
export const INFLATE_LIMIT = LEGACY_MAX_BLOCK_SIZE

const MAX_DEFLATE_RATIO = 1032

/** Smallest zlib output buffer. */
const MIN_CHUNK_SIZE = 64 * 1024
/** The smallest output piece zlib accepts. */
const MIN_ZLIB_CHUNK = 64

/** Returns the level to use, or throws a RangeError for anything but an integer 0..9. */
export function resolveLevel(level: number | undefined): number {
  if (level === undefined) return DEFAULT_ZLIB_LEVEL
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`zlib level must be an integer from 0 (never compress) to 9, got ${level}`)
  }
  return level
}

/**
 * Inputs shorter than this are compressed without looking first. Above it,
 * sampling costs a few microseconds (the first sample of text already
 * decides) against some 100 µs for deflating even a few kilobytes of noise,
 * whose zlib output would be longer than the input and be dropped anyway: a
 * backup of many small random files (media thumbnails, keys, archives) is
 * spared most of its deflate time. Smaller samples than this do not measure
 * random data reliably above the threshold.
 */
const SAMPLING_THRESHOLD = 2 * 1024
const SAMPLE_COUNT = 8
const SAMPLE_SIZE = 1024
/**
 * Order-0 entropy (bits per byte) above which a sample counts as
 * incompressible. A 1 KiB sample of uniformly random bytes measures about 7.8
 * (the estimate is biased low on small samples); text measures 4-5, base64 6,
 * machine code 6-6.5. Even a perfect Huffman coder saves under 7 % at 7.5.
 */
const INCOMPRESSIBLE_BITS_PER_BYTE = 7.5

/** `c * log2(c)` for every count a sample can produce, so the entropy needs no logarithms per sample. */
const COUNT_LOG_COUNT = Float64Array.from({ length: SAMPLE_SIZE + 1 }, (_, count) =>
  count === 0 ? 0 : count * Math.log2(count),
)
const histogram = new Uint32Array(256)

/**
 * Cheap guess that deflate cannot shrink `data`: every one of eight 1 KiB
 * samples, spread evenly over it, has near-maximal byte entropy. Random,
 * encrypted and already-compressed data are recognised in about 10 µs per
 * chunk; one sample of text (say a quarter of a mixed chunk) is enough to try
 * compressing. Data that is high-entropy byte by byte yet repetitive (a
 * random block repeated) is missed and stored uncompressed: a rare, bounded
 * loss that buys skipping deflate on every truly incompressible chunk.
 */
export function looksIncompressible(data: Uint8Array): boolean {
  const length = data.byteLength
  if (length < SAMPLING_THRESHOLD) return false
  const stride = Math.floor((length - SAMPLE_SIZE) / (SAMPLE_COUNT - 1))
  for (let sample = 0; sample < SAMPLE_COUNT; sample++) {
    const start = sample * stride
    histogram.fill(0)
    for (let index = start; index < start + SAMPLE_SIZE; index++) histogram[data[index]!]!++
    let sum = 0
    for (let value = 0; value < 256; value++) sum += COUNT_LOG_COUNT[histogram[value]!]!
    const bitsPerByte = Math.log2(SAMPLE_SIZE) - sum / SAMPLE_SIZE
    if (bitsPerByte < INCOMPRESSIBLE_BITS_PER_BYTE) return false
  }
  return true
}

export interface CompressRule {
  /** Convergent blocks keep zlib output that is not longer than the input, plain blocks only output that is shorter. */
  allowEqual: boolean
  /**
   * The output is kept (as the stored block) and gets a buffer of its own;
   * otherwise it is a view that the next compression in this thread
   * overwrites, for output that is encrypted right away.
   */
  keep: boolean
}

/** `zlib(data)` when that is worth storing, else `undefined`. */
export function compressIfSmaller(data: Uint8Array, level: number, rule: CompressRule): Uint8Array | undefined {
  if (level === NO_COMPRESSION || looksIncompressible(data)) return undefined
  const compressed = deflateWithin(data, level, rule.allowEqual ? data.byteLength : data.byteLength - 1)
  return rule.keep && compressed !== undefined ? compressed.slice() : compressed
}

/**
 * True when `data` starts with a zlib header (RFC 1950: deflate method, window
 * ≤ 32 KiB, no preset dictionary, valid check bits). Decoders try inflating
 * such data first and hash it only if that fails; other data is never inflated.
 */
export function hasZlibHeader(data: Uint8Array): boolean {
  if (data.byteLength < 2) return false
  const cmf = data[0]!
  const flg = data[1]!
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (flg & 0x20) === 0 && ((cmf << 8) | flg) % 31 === 0
}

export interface InflateOptions {
  /** Largest output accepted (default {@link INFLATE_LIMIT}). */
  limit?: number
  /** The length to expect (a part's size from its bundle), a hint that sizes the output. */
  size?: number
  /** Inflate into this thread's reused output buffer (see inflater.ts): the result is valid until its next inflate. */
  reuse?: boolean
}

/**
 * Inflates one complete zlib stream of at most `limit` bytes.
 * Bad data, a truncated stream, bytes after the end of the stream and output
 * beyond the limit are all a {@link DecompressionError}: the trailing-bytes
 * rule keeps a plain block from verifying under its id with junk appended.
 */
export function inflate(data: Uint8Array, options: InflateOptions = {}): Uint8Array {
  const limit = options.limit ?? INFLATE_LIMIT
  if (options.reuse === true) {
    const inflated = inflateWithin(data, limit)
    if (inflated !== undefined) return inflated
  }
  const expected = options.size
  // Room for any output in one buffer (inflating into 16 KiB pieces and
  // joining them costs about as much again as inflating): zlib data never
  // inflates more than 1032 to 1. A caller that knows the length to expect
  // (a part's size from its bundle) gets a buffer of that size and a byte
  // more, so the output is neither copied to fit nor given a fresh 1 MiB;
  // a wrong hint only costs a second piece.
  const chunkSize = isLengthHint(expected, limit)
    ? Math.max(MIN_ZLIB_CHUNK, expected + 1)
    : Math.min(limit, Math.max(MIN_CHUNK_SIZE, data.byteLength * MAX_DEFLATE_RATIO))
  let result: { buffer: Buffer; engine: { bytesWritten: number } }
  try {
    result = inflateSync(data, { info: true, maxOutputLength: limit, chunkSize }) as unknown as typeof result
  } catch (err) {
    const reason = err instanceof RangeError ? `inflates beyond ${limit} bytes` : 'is not valid zlib data'
    throw new DecompressionError(`block ${reason}`, { cause: err })
  }
  if (result.engine.bytesWritten !== data.byteLength) {
    throw new DecompressionError(`${data.byteLength - result.engine.bytesWritten} bytes follow the zlib stream`)
  }
  return compact(result.buffer)
}

function isLengthHint(expected: number | undefined, limit: number): expected is number {
  return expected !== undefined && Number.isSafeInteger(expected) && expected >= 0 && expected < limit
}

/** The output, copied to a buffer of its own size when it fills less than half of zlib's. */
function compact(output: Buffer): Uint8Array {
  return output.byteLength * 2 < output.buffer.byteLength ? new Uint8Array(output) : view(output)
}

function view(output: Buffer): Uint8Array {
  return new Uint8Array(output.buffer, output.byteOffset, output.byteLength)
}
