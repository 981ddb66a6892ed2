import { LEGACY_MAX_BLOCK_SIZE, MAX_BLOCK_SIZE } from '../constants.ts'
import { BlockTooLargeError } from '../errors.ts'

/** Decoders accept 2022-era blocks: up to 1 MiB + 16 stored bytes. */
export function assertReadableSize(stored: Uint8Array): void {
  if (stored.byteLength > LEGACY_MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`stored block of ${stored.byteLength} bytes exceeds ${LEGACY_MAX_BLOCK_SIZE}`)
  }
}

/** Encoders write at most 1 MiB. */
export function assertWritableSize(storedLength: number, what: string): void {
  if (storedLength > MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`${what}: stored block would be ${storedLength} bytes, over ${MAX_BLOCK_SIZE}`)
  }
}
