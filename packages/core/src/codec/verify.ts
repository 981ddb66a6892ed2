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
 * The bytes `stored` stands for under `id`: `stored` itself when it hashes to
 * the id, or its inflated form when that does (how plain blocks are kept,
 * DESIGN §2); `undefined` when neither. Never throws on garbage.
 */
export function namedBytes(id: BlockId, stored: Uint8Array): Uint8Array | undefined {
  if (!isBlockId(id) || !(stored instanceof Uint8Array) || stored.byteLength > LEGACY_MAX_BLOCK_SIZE) return undefined
  // Nearly every block is encrypted and named by its stored bytes: hash first.
  if (digestHexEquals(stored, id)) return stored
  if (!hasZlibHeader(stored)) return undefined
  try {
    const inflated = inflate(stored)
    return digestHexEquals(inflated, id) ? inflated : undefined
  } catch {
    return undefined
  }
}

/**
 * true when `stored` is a valid block for `id`: sha256(stored) == id, or
 * (plain blocks) sha256(inflate(stored)) == id. Never throws on garbage; false
 * instead.
 */
export function isValidStoredBlock(id: BlockId, stored: Uint8Array): boolean {
  return namedBytes(id, stored) !== undefined
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
