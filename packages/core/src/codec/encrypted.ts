/**
 * What convergent and passphrase blocks share on the way out: verify the
 * stored bytes against the id, then open them whole or without a like suffix.
 */
import { BlockVerificationError, DecompressionError, DecryptionError } from '../errors.ts'
import { type BlockId, parseBlockId } from '../id.ts'
import { AES_BLOCK_SIZE } from './aes.ts'
import { withoutLikeSuffix } from './like-suffix.ts'
import { assertReadableSize } from './limits.ts'
import type { DecodeOptions } from './types.ts'
import { namedBytes } from './verify.ts'

/**
 * The ciphertext-with-suffix bytes `stored` stands for under `id`. Verifiers
 * accept a block kept in zlib form when its inflated bytes hash to the id (the
 * plain-block rule), so a peer could hand over an encrypted block that way;
 * decoding accepts the same set, so such a block stays readable.
 */
export function assertStoredMatches(stored: Uint8Array, id: BlockId): Uint8Array {
  parseBlockId(id)
  const named = namedBytes(id, stored)
  if (named === undefined) throw new BlockVerificationError(`stored bytes do not hash to ${id}`)
  return named
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
  const block = options.id === undefined ? stored : assertStoredMatches(stored, options.id)
  if (options.mined === true) {
    const ciphertext = withoutLikeSuffix(block)
    if (ciphertext === undefined) throw new DecryptionError('mined block has no 0x00 before its like suffix')
    return open(ciphertext)
  }
  if (block.byteLength % AES_BLOCK_SIZE !== 0) return open(withoutLikeSuffix(block) ?? block)
  try {
    return open(block)
  } catch (err) {
    const ciphertext =
      err instanceof DecryptionError || err instanceof DecompressionError ? withoutLikeSuffix(block) : undefined
    if (ciphertext === undefined) throw err
    try {
      return open(ciphertext)
    } catch {
      throw err
    }
  }
}
