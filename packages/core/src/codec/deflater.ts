/**
 * One zlib deflate stream per thread and level, reset between inputs, writing
 * into one output buffer per thread. `deflateSync` builds a stream object,
 * allocates and clears zlib's state (a few hundred KiB) and a fresh output
 * buffer for every call: on an 8 KiB chunk that costs more than the
 * compression itself (bench/core/RESULTS.md, "zlib stream reuse").
 *
 * A reset stream gives the same bytes as a fresh one only if its window holds
 * what a fresh one's does: zlib zeroes the window when it makes a stream, and
 * near the end of an input deflate looks a little past it, so the tail of an
 * earlier, longer input would change the matches it finds (by a byte or two
 * in about one small text file in 80). Convergent blocks must not depend on
 * what was compressed before them, so a window holding more than the next
 * input is first cleared by deflating zeros over it (4 µs for 8 KiB).
 *
 * Node has no public API to reset a synchronous stream, so this drives the
 * stream's native handle the way `zlib.deflateSync` itself does
 * (`writeSync`, then `reset`). Where that handle is missing (another
 * runtime), every call falls back to `deflateSync`.
 */
import { constants, Deflate, deflateSync } from 'node:zlib'

/** The native methods `zlib.deflateSync` uses; `state` receives [avail_out, avail_in] after each write. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void
  reset(): void
}

interface ReusableStream {
  handle: ZlibHandle
  state: Uint32Array
  /** Set when zlib reported an error: the stream is dropped and made again. */
  error: Error | undefined
  /** Bytes at the start of the window that may not be zeros (a fresh stream's are all zeros). */
  dirty: number
}

/** zlib's window at the default windowBits (15): 2 × 32 KiB. An input at least this long overwrites all of it. */
const WINDOW_BYTES = 64 * 1024
/** Zeros that clear a whole window, zlib's padding after it included. */
const FULL_WINDOW = WINDOW_BYTES + 1024

/** Room for zlib's output of a whole window of zeros (about 300 bytes), so clearing never stops early. */
const MIN_OUTPUT = 4096

const streams = new Map<number, ReusableStream | null>()
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
  run(stream, level, data, capacity)
  stream.dirty = Math.max(stream.dirty, data.byteLength < WINDOW_BYTES ? data.byteLength : FULL_WINDOW)
  const [outputLeft] = stream.state
  if (outputLeft === 0) return undefined
  return output.subarray(0, capacity - outputLeft!)
}

/** One whole input through the reset stream, into `output`. */
function run(stream: ReusableStream, level: number, data: Uint8Array, capacity: number): void {
  stream.handle.reset()
  stream.handle.writeSync(constants.Z_FINISH, data, 0, data.byteLength, output, 0, capacity)
  if (stream.error !== undefined) {
    streams.delete(level)
    throw stream.error
  }
}

/** Deflates zeros over the part of the window that may hold an earlier input (their output is dropped). */
function clearWindow(stream: ReusableStream, level: number): void {
  if (zeros.byteLength < stream.dirty) zeros = new Uint8Array(FULL_WINDOW)
  run(stream, level, zeros.subarray(0, stream.dirty), output.byteLength)
  const [outputLeft, inputLeft] = stream.state
  if (outputLeft === 0 || inputLeft !== 0) throw new Error('zlib did not take a window of zeros in one go')
  stream.dirty = 0
}

function streamFor(level: number): ReusableStream | null {
  let stream = streams.get(level)
  if (stream !== undefined) return stream
  const deflater = new Deflate({ level }) as Deflate & { _handle?: ZlibHandle; _writeState?: Uint32Array }
  const handle = deflater._handle
  const state = deflater._writeState
  if (
    typeof handle?.writeSync !== 'function' ||
    typeof handle.reset !== 'function' ||
    !(state instanceof Uint32Array)
  ) {
    stream = null
  } else {
    const reusable: ReusableStream = { handle, state, error: undefined, dirty: 0 }
    deflater.on('error', (err: Error) => {
      reusable.error = err
    })
    stream = reusable
  }
  streams.set(level, stream)
  return stream
}
