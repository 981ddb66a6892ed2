/**
 * Passphrase blocks: the key is sha256 of a UTF-8 passphrase (unsalted, as the
 * original does), the content is never compressed (callers compress first
 * when they want to, as backup settings are), and nothing inside the block
 * confirms the key.
 */
import { createHash } from 'node:crypto'
import type { BlockId } from '../id.ts'
import { decrypt, encrypt, encryptedLength, parseBlockKey } from './aes.ts'
import { openEncrypted } from './encrypted.ts'
import { digest } from './hash.ts'
import { assertWritableSize } from './limits.ts'
import type { DecodeOptions, EncodedBlock } from './types.ts'

/** The hex key of a passphrase: what its URLs carry. */
export function passphraseKey(passphrase: string): BlockId {
  return createHash('sha256').update(passphrase, 'utf8').digest('hex')
}

/** Key bytes from a passphrase, or from a 32-byte key as taken from a URL. */
export function passphraseKeyBytes(passphraseOrKey: string | Uint8Array): Uint8Array {
  if (typeof passphraseOrKey === 'string') return createHash('sha256').update(passphraseOrKey, 'utf8').digest()
  return parseBlockKey(passphraseOrKey)
}

/** Stored `E = AES-256-CBC(key, P)`, `id = sha256(E)`. */
export function encodePassphrase(plaintext: Uint8Array, passphraseOrKey: string | Uint8Array): EncodedBlock {
  const key = passphraseKeyBytes(passphraseOrKey)
  assertWritableSize(encryptedLength(plaintext.byteLength), 'passphrase block')
  const bytes = encrypt(key, plaintext)
  return {
    mode: 'passphrase',
    id: digest(bytes).toString('hex'),
    key: Buffer.from(key).toString('hex'),
    bytes,
    size: plaintext.byteLength,
  }
}

/**
 * Verifies `stored` against `options.id` when given and decrypts it. There is
 * no content hash to check, so a wrong key shows only as bad padding
 * (DecryptionError); in about 1 case in 256 a wrong key pads correctly and the
 * result is garbage (slightly more often without `mined`, as a block that
 * fails whole is retried without a like suffix). Callers that can check what
 * they decoded (bundle JSON, zlib) should.
 */
export function decodePassphrase(
  stored: Uint8Array,
  key: BlockId | Uint8Array,
  options: DecodeOptions = {},
): Uint8Array {
  const keyBytes = parseBlockKey(key)
  return openEncrypted(stored, options, (ciphertext) => decrypt(keyBytes, ciphertext))
}
