/**
 * One zlib inflate stream per thread, reset between inputs, inflating into
 * one output buffer per thread (see zlib-stream.ts for why). For a caller
 * that is done with each plaintext before it decodes the next, as a restore
 * writing every block to its file at once is: `inflateSync` made a fresh
 * block-sized output and zlib state for every block, and a restore spent
 * about a tenth of its page faults there (BENCHMARKS.md).
 */
import { Inflate } from 'node:zlib'
import { DecompressionError } from '../errors.ts'
import { keepBuffer } from './release.ts'
import { type ReusableZlibStream, reusable, runWhole } from './zlib-stream.ts'

/** This thread's stream: undefined until first used or after an error, null where streams cannot be reused. */
let stream: ReusableZlibStream | null | undefined
let output = new Uint8Array(0)

/**
 * Inflates one complete zlib stream of at most `limit` bytes into this
 * thread's output buffer and returns a view of it, valid until the next call
 * (copy it to keep it); `undefined` where no stream can be reused, so that
 * the caller inflates the usual way. The same input is refused for the same
 * reasons as by the allocating inflate, with the same errors.
 */
export function inflateWithin(data: Uint8Array, limit: number): Uint8Array | undefined {
  if (stream === undefined) stream = reusable(new Inflate())
  if (stream === null) return undefined
  // One byte more than the limit: output that fills the buffer is over the limit, output that does not is complete.
  const capacity = limit + 1
  if (output.byteLength < capacity) {
    output = new Uint8Array(capacity)
    keepBuffer(output)
  }
  let outputLeft: number
  let inputLeft: number
  try {
    ;[outputLeft, inputLeft] = runWhole(stream, data, output, capacity)
  } catch (err) {
    // zlib's errors (bad data, a stream cut short) close the stream: the next call makes another.
    stream = undefined
    throw new DecompressionError('block is not valid zlib data', { cause: err })
  }
  if (outputLeft === 0) throw new DecompressionError(`block inflates beyond ${limit} bytes`)
  if (inputLeft !== 0) throw new DecompressionError(`${inputLeft} bytes follow the zlib stream`)
  return output.subarray(0, capacity - outputLeft)
}
