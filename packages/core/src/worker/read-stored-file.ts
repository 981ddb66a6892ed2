/**
 * A worker's reads of block files, into one buffer it keeps for its life:
 * fresh memory for every 1 MiB block costs page faults that, on a virtual
 * machine, outweigh the read itself.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { type BlockMode, decodeBlock } from '../codec/index.ts'
import { keepBuffer } from '../codec/release.ts'
import { LEGACY_MAX_BLOCK_SIZE } from '../constants.ts'
import { BlockTooLargeError, BlockVerificationError } from '../errors.ts'
import type { BlockId } from '../id.ts'
import type { StoredFile } from './tasks.ts'

// One byte to spare shows a file that grew since its size was recorded.
let readBuffer: Uint8Array | undefined

/** The file's bytes, valid until the next call; a file of another size than expected is refused. */
function readStoredFile(file: StoredFile): Uint8Array {
  if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size > LEGACY_MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`a stored block has at most ${LEGACY_MAX_BLOCK_SIZE} bytes, not ${file.size}`)
  }
  if (readBuffer === undefined) {
    readBuffer = new Uint8Array(LEGACY_MAX_BLOCK_SIZE + 1)
    keepBuffer(readBuffer)
  }
  // Non-blocking: a FIFO where a block file belongs fails the read instead of hanging the worker.
  const fd = openSync(file.path, constants.O_RDONLY | constants.O_NONBLOCK)
  let length = 0
  try {
    // Short reads are legal; a bounded loop gathers the file without trusting one call.
    for (let calls = 0; calls < 64 && length <= file.size; calls++) {
      const read = readSync(fd, readBuffer, length, file.size + 1 - length, length)
      if (read === 0) break
      length += read
    }
  } finally {
    closeSync(fd)
  }
  if (length !== file.size) {
    throw new BlockVerificationError(
      `${file.path} has ${length > file.size ? 'more than ' : ''}${length} bytes, expected ${file.size}`,
    )
  }
  const bytes = readBuffer.subarray(0, length)
  if (file.crc !== undefined && crc32(bytes) !== file.crc) {
    throw new BlockVerificationError(`${file.path} does not match the CRC-32 recorded when it was stored`)
  }
  return bytes
}

/**
 * Reads a block file and decodes it. A file with a recorded CRC-32 is checked
 * against it, and a convergent block then is not hashed against its id again
 * (its plaintext must hash to the key); anything else is checked against the
 * id. The result may lie in the read buffer (see {@link sharesReadBuffer}),
 * or with `reuse` in the thread's inflate buffer.
 */
export function decodeStoredFile(
  mode: BlockMode,
  file: StoredFile,
  id: BlockId,
  key: BlockId | undefined,
  options: { mined?: boolean; size?: number; reuse?: boolean } = {},
): Uint8Array {
  const stored = readStoredFile(file)
  return decodeBlock(mode, stored, id, key, { ...options, storedChecked: file.crc !== undefined })
}

/** Whether `bytes` lies in the read buffer (and must be copied before it leaves the worker). */
export function sharesReadBuffer(bytes: Uint8Array): boolean {
  return readBuffer !== undefined && bytes.buffer === readBuffer.buffer
}
