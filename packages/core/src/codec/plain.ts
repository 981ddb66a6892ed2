/**
 * Plain blocks: unencrypted, named by the hash of their content rather than
 * of their stored bytes, so the same content has one id however (or whether)
 * it was compressed. Verifying one may therefore need an inflate.
 */
import { MAX_PLAIN_SIZE } from '../constants.ts'
import { BlockTooLargeError, BlockVerificationError } from '../errors.ts'
import { type BlockId, parseBlockId } from '../id.ts'
import { compressIfSmaller, hasZlibHeader, type InflateOptions, inflate, resolveLevel } from './compress.ts'
import { digest, digestHexEquals } from './hash.ts'
import { withoutLikeSuffix } from './like-suffix.ts'
import { assertReadableSize } from './limits.ts'
import type { EncodedBlock, EncodeOptions } from './types.ts'

export function assertPlainSize(length: number): void {
  if (length > MAX_PLAIN_SIZE) {
    throw new BlockTooLargeError(`plain plaintext of ${length} bytes exceeds ${MAX_PLAIN_SIZE}`)
  }
}

/** Stored `zlib(P)` when shorter than `P`, else `P`; `id = sha256(P)`. */
export function encodePlain(plaintext: Uint8Array, options: EncodeOptions = {}): EncodedBlock {
  const level = resolveLevel(options.level)
  assertPlainSize(plaintext.byteLength)
  const bytes = compressIfSmaller(plaintext, level, { allowEqual: false, keep: true }) ?? plaintext
  return { mode: 'plain', id: digest(plaintext).toString('hex'), bytes, size: plaintext.byteLength }
}

/**
 * The content of a plain block. `mined` strips the like suffix from the
 * decoded content; without it the content is returned as named by the id.
 * May return `stored` itself (or a view of it) when it was not compressed.
 */
export function decodePlain(
  stored: Uint8Array,
  id: BlockId,
  options: { mined?: boolean; size?: number; reuse?: boolean } = {},
): Uint8Array {
  parseBlockId(id)
  const content = plainContent(stored, id, { size: options.size, reuse: options.reuse })
  if (options.mined !== true) return content
  const plaintext = withoutLikeSuffix(content)
  if (plaintext === undefined) throw new BlockVerificationError('mined plain block has no 0x00 before its like suffix')
  return plaintext
}

/** The content `id` names: `stored` itself, or what it inflates to. */
function plainContent(stored: Uint8Array, id: BlockId, inflateOptions: InflateOptions): Uint8Array {
  assertReadableSize(stored)
  // Compressed blocks are recognised by their header, which saves hashing
  // the stored bytes first; the id decides in every case.
  let inflateError: unknown
  if (hasZlibHeader(stored)) {
    try {
      const content = inflate(stored, inflateOptions)
      if (digestHexEquals(content, id)) return content
    } catch (err) {
      inflateError = err
    }
  }
  if (digestHexEquals(stored, id)) return stored
  // Data that claims to be zlib and does not inflate is reported as such; anything else simply fails the id.
  throw inflateError ?? new BlockVerificationError(`plain block does not match ${id}, stored or inflated`)
}
