/**
 * One zlib deflate stream per thread and level, reset between inputs, writing
 * into one output buffer per thread (see zlib-stream.ts for why).
 *
 * A reset stream gives the same bytes as a fresh one only if its window holds
 * what a fresh one's does: zlib zeroes the window when it makes a stream, and
 * near the end of an input deflate looks a little past it, so the tail of an
 * earlier, longer input would change the matches it finds (by a byte or two
 * in about one small text file in 80). Convergent blocks must not depend on
 * what was compressed before them, so a window holding more than the next
 * input is first cleared by deflating zeros over it (4 µs for 8 KiB).
 */
import { Deflate, deflateSync } from 'node:zlib'
import { type ReusableZlibStream, reusable, runWhole } from './zlib-stream.ts'

interface ReusableDeflate extends ReusableZlibStream {
  /** Bytes at the start of the window that may not be zeros (a fresh stream's are all zeros). */
  dirty: number
}

/** zlib's window at the default windowBits (15): 2 × 32 KiB. An input at least this long overwrites all of it. */
const WINDOW_BYTES = 64 * 1024
/** Zeros that clear a whole window, zlib's padding after it included. */
const FULL_WINDOW = WINDOW_BYTES + 1024

/** Room for zlib's output of a whole window of zeros (about 300 bytes), so clearing never stops early. */
const MIN_OUTPUT = 4096

const streams = new Map<number, ReusableDeflate | null>()
let output = new Uint8Array(0)
let zeros = new Uint8Array(0)

/**
 * `zlib(data)` at `level` when it takes at most `limit` bytes, else
 * `undefined` (deflate stops as soon as the output is full, so data that
 * does not compress costs no more than the attempt). The result is a view of
 * this thread's output buffer, valid until the next call: copy it to keep it.
 */
export function deflateWithin(data: Uint8Array, level: number, limit: number): Uint8Array | undefined {
  const stream = streamFor(level)
  if (stream === null) {
    const compressed = deflateSync(data, { level, chunkSize: Math.max(64, limit + 1) })
    return compressed.byteLength <= limit ? compressed : undefined
  }
  // One byte more than the limit: output that fills the buffer is over the limit, output that does not is complete.
  const capacity = limit + 1
  if (output.byteLength < capacity) output = new Uint8Array(Math.max(capacity, 2 * output.byteLength, MIN_OUTPUT))
  if (data.byteLength < WINDOW_BYTES && stream.dirty > data.byteLength) clearWindow(stream, level)
  const [outputLeft] = run(stream, level, data, capacity)
  stream.dirty = Math.max(stream.dirty, data.byteLength < WINDOW_BYTES ? data.byteLength : FULL_WINDOW)
  if (outputLeft === 0) return undefined
  return output.subarray(0, capacity - outputLeft)
}

function run(stream: ReusableDeflate, level: number, data: Uint8Array, capacity: number): [number, number] {
  try {
    return runWhole(stream, data, output, capacity)
  } catch (err) {
    streams.delete(level)
    throw err
  }
}

/** Deflates zeros over the part of the window that may hold an earlier input (their output is dropped). */
function clearWindow(stream: ReusableDeflate, level: number): void {
  if (zeros.byteLength < stream.dirty) zeros = new Uint8Array(FULL_WINDOW)
  const [outputLeft, inputLeft] = run(stream, level, zeros.subarray(0, stream.dirty), output.byteLength)
  if (outputLeft === 0 || inputLeft !== 0) throw new Error('zlib did not take a window of zeros in one go')
  stream.dirty = 0
}

function streamFor(level: number): ReusableDeflate | null {
  let stream = streams.get(level)
  if (stream !== undefined) return stream
  const made = reusable(new Deflate({ level }))
  stream = made === null ? null : Object.assign(made, { dirty: 0 })
  streams.set(level, stream)
  return stream
}
