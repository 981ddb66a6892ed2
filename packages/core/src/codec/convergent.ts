/**
 * Convergent blocks (the default for backups): the key is the plaintext's own
 * hash, so identical chunks encrypt to identical blocks and deduplicate
 * across users, while only someone who already knows the content can read it.
 */
import { MAX_BLOCK_SIZE } from '../constants.ts'
import { BlockTooLargeError, DecryptionError } from '../errors.ts'
import type { BlockId } from '../id.ts'
import { decrypt, encrypt, encryptedLength, parseBlockKey } from './aes.ts'
import { compressIfSmaller, hasZlibHeader, inflate, resolveLevel } from './compress.ts'
import { openEncrypted } from './encrypted.ts'
import { digest, digestEquals } from './hash.ts'
import { assertWritableSize } from './limits.ts'
import { releaseBuffer } from './release.ts'
import type { DecodeOptions, EncodedBlock, EncodeOptions } from './types.ts'

/**
 * `key = sha256(P)`, `C = zlib(P)` when not longer than `P` (else `P`),
 * stored `E = AES-256-CBC(key, C)`, `id = sha256(E)`.
 */
export function encodeConvergent(plaintext: Uint8Array, options: EncodeOptions = {}): EncodedBlock {
  const level = resolveLevel(options.level)
  // Nothing larger can be read back: decoders bound inflation at about 1 MiB.
  if (plaintext.byteLength > MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`convergent plaintext of ${plaintext.byteLength} bytes exceeds ${MAX_BLOCK_SIZE}`)
  }
  const key = digest(plaintext)
  const content = compressIfSmaller(plaintext, level, { allowEqual: true, keep: false }) ?? plaintext
  assertWritableSize(encryptedLength(content.byteLength), 'convergent block')
  const bytes = encrypt(key, content)
  return {
    mode: 'convergent',
    id: digest(bytes).toString('hex'),
    key: key.toString('hex'),
    bytes,
    size: plaintext.byteLength,
  }
}

/**
 * Verifies `stored` against `options.id` when given, decrypts, and returns the
 * plaintext, which must hash to the key. A wrong key is a DecryptionError
 * (bad padding 255 times in 256, else content that does not hash to the key);
 * never a wrong result, because the plaintext must hash to the key. Content
 * with a zlib header that does not inflate is a DecompressionError.
 */
export function decodeConvergent(
  stored: Uint8Array,
  key: BlockId | Uint8Array,
  options: DecodeOptions = {},
): Uint8Array {
  const keyBytes = parseBlockKey(key)
  return openEncrypted(stored, options, (ciphertext) => openConvergent(ciphertext, keyBytes, options))
}

function openConvergent(ciphertext: Uint8Array, key: Uint8Array, options: DecodeOptions): Uint8Array {
  const content = decrypt(key, ciphertext)
  // Compressed content is recognised by its header, which saves hashing it
  // before inflating; the key decides in every case.
  let inflateError: unknown
  if (hasZlibHeader(content)) {
    try {
      const plaintext = inflate(content, { size: options.size, reuse: options.reuse })
      if (digestEquals(plaintext, key)) {
        // The decrypted bytes were only the way to the plaintext.
        releaseBuffer(content)
        return plaintext
      }
    } catch (err) {
      inflateError = err
    }
  }
  if (digestEquals(content, key)) return content
  // Data that claims to be zlib and does not inflate is reported as such; anything else simply fails the key.
  throw inflateError ?? new DecryptionError('decrypted content does not match its key: wrong key or corrupt block')
}
