/**
 * Whether stored bytes belong under an id, without knowing the block's mode:
 * what a blockstore or a peer checks before keeping or using a block.
 */
import { LEGACY_MAX_BLOCK_SIZE } from '../constants.ts'
import { BlockTooLargeError, BlockVerificationError } from '../errors.ts'
import { type BlockId, isBlockId } from '../id.ts'
import { hasZlibHeader, inflate } from './compress.ts'
import { digestHexEquals } from './hash.ts'

/**
 * true when `stored` is a valid block for `id`: sha256(stored) == id, or
 * (plain blocks) sha256(inflate(stored)) == id. Never throws on garbage; false
 * instead.
 */
export function isValidStoredBlock(id: BlockId, stored: Uint8Array): boolean {
  if (!isBlockId(id) || !(stored instanceof Uint8Array) || stored.byteLength > LEGACY_MAX_BLOCK_SIZE) return false
  // Nearly every block is encrypted and named by its stored bytes: hash first.
  if (digestHexEquals(stored, id)) return true
  if (!hasZlibHeader(stored)) return false
  try {
    return digestHexEquals(inflate(stored), id)
  } catch {
    return false
  }
}

/** Throws BlockVerificationError (or BlockTooLargeError) unless {@link isValidStoredBlock}. */
export function verifyStoredBlock(id: BlockId, stored: Uint8Array): void {
  if (stored.byteLength > LEGACY_MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`stored block of ${stored.byteLength} bytes exceeds ${LEGACY_MAX_BLOCK_SIZE}`)
  }
  if (!isValidStoredBlock(id, stored)) {
    const name = isBlockId(id) ? id : JSON.stringify(String(id).slice(0, 80))
    throw new BlockVerificationError(`stored bytes (${stored.byteLength}) are not the block ${name}`)
  }
}
