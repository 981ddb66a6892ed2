/**
 * A zlib stream kept for the life of a thread and reset between inputs.
 * `zlib.deflateSync` and `inflateSync` build a stream object, allocate and
 * clear zlib's state (a few hundred KiB to deflate) and a fresh output
 * buffer for every call; in a backup or a restore that is new memory each
 * time, page faults and all, which on an 8 KiB chunk costs more than the
 * compression (bench/core/RESULTS.md, "zlib stream reuse").
 *
 * Node has no public API to reset a synchronous stream, so this drives the
 * stream's native handle the way `deflateSync` does (`writeSync`, then
 * `reset`). Where that handle is missing (another runtime), there is no
 * reusable stream and callers use `deflateSync` or `inflateSync`.
 */
import { constants, type Deflate, type Inflate } from 'node:zlib'

/** The native methods `deflateSync` uses; `state` receives [avail_out, avail_in] after each write. */
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

export interface ReusableZlibStream {
  /** Destroyed, with the error as `errored`, as soon as zlib reports one: it must then be made again. */
  stream: Deflate | Inflate
  handle: ZlibHandle
  state: Uint32Array
}

/** The reusable form of a new `Deflate` or `Inflate`, or null where its handle is not there. */
export function reusable(stream: Deflate | Inflate): ReusableZlibStream | null {
  const internals = stream as typeof stream & { _handle?: ZlibHandle; _writeState?: Uint32Array }
  const handle = internals._handle
  const state = internals._writeState
  if (
    typeof handle?.writeSync !== 'function' ||
    typeof handle.reset !== 'function' ||
    !(state instanceof Uint32Array)
  ) {
    return null
  }
  // The stream also emits the error later, on the next tick; it is reported synchronously below.
  stream.on('error', () => {})
  return { stream, handle, state }
}

/**
 * One whole input through the reset stream into `output[0, capacity)`.
 * Returns [output bytes left, input bytes left]; throws what zlib reported
 * (the stream is then done for).
 */
export function runWhole(
  stream: ReusableZlibStream,
  input: Uint8Array,
  output: Uint8Array,
  capacity: number,
): [outputLeft: number, inputLeft: number] {
  stream.handle.reset()
  stream.handle.writeSync(constants.Z_FINISH, input, 0, input.byteLength, output, 0, capacity)
  // zlib's errors destroy the stream at once (and close its handle): it must not be written again.
  if (stream.stream.destroyed) throw stream.stream.errored ?? new Error('zlib stream closed')
  return [stream.state[0]!, stream.state[1]!]
}
