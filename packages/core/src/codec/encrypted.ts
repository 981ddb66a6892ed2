/**
 * What convergent and passphrase blocks share on the way out: verify the
 * stored bytes against the id, then open them whole or without a like suffix.
 */
import { BlockVerificationError, DecompressionError, DecryptionError } from '../errors.ts'
import { type BlockId, parseBlockId } from '../id.ts'
import { AES_BLOCK_SIZE } from './aes.ts'
import { digestHexEquals } from './hash.ts'
import { withoutLikeSuffix } from './like-suffix.ts'
import { assertReadableSize } from './limits.ts'
import type { DecodeOptions } from './types.ts'

export function assertStoredMatches(stored: Uint8Array, id: BlockId): void {
  parseBlockId(id)
  if (!digestHexEquals(stored, id)) {
    throw new BlockVerificationError(`stored bytes do not hash to ${id}`)
  }
}

/**
 * Runs `open` on the ciphertext inside `stored`. A mined block carries its
 * suffix after the ciphertext; unless told, the block is first taken whole
 * (an unmined block must never pay for the guess) and, when that fails its
 * checks, without the suffix. The whole block's failure is the one reported,
 * except when its length alone rules it out as ciphertext.
 */
export function openEncrypted(
  stored: Uint8Array,
  options: DecodeOptions,
  open: (ciphertext: Uint8Array) => Uint8Array,
): Uint8Array {
  assertReadableSize(stored)
  if (options.id !== undefined) assertStoredMatches(stored, options.id)
  if (options.mined === true) {
    const ciphertext = withoutLikeSuffix(stored)
    if (ciphertext === undefined) throw new DecryptionError('mined block has no 0x00 before its like suffix')
    return open(ciphertext)
  }
  if (stored.byteLength % AES_BLOCK_SIZE !== 0) return open(withoutLikeSuffix(stored) ?? stored)
  try {
    return open(stored)
  } catch (err) {
    const ciphertext =
      err instanceof DecryptionError || err instanceof DecompressionError ? withoutLikeSuffix(stored) : undefined
    if (ciphertext === undefined) throw err
    try {
      return open(ciphertext)
    } catch {
      throw err
    }
  }
}
