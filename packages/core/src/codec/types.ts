import type { BlockId } from '../id.ts'

/**
 * How a block's bytes relate to its content (DESIGN §2): `convergent`
 * (`/sha256/{id}/aes256/{key}`, key = sha256 of the plaintext), `passphrase`
 * (`/sha256/{id}/passphrase/{key}`, key = sha256 of the passphrase) and
 * `plain` (`/sha256/{id}`, id = sha256 of the plaintext).
 */
export type BlockMode = 'convergent' | 'passphrase' | 'plain'

export interface EncodedBlock {
  mode: BlockMode
  id: BlockId
  /** Hex key of an encrypted block; absent for plain blocks. */
  key?: BlockId
  /**
   * The stored bytes: what goes on disk and on the wire under `id`. For a
   * plain block that was not compressed this is the plaintext array itself.
   */
  bytes: Uint8Array
  /** Plaintext length. */
  size: number
}

export interface EncodeOptions {
  /**
   * zlib level 1-9, or 0 to never compress. Every level decodes the same;
   * the default favours speed (see DEFAULT_ZLIB_LEVEL).
   */
  level?: number
}

export interface DecodeOptions {
  /** Verify the stored bytes against this id before decrypting. */
  id?: BlockId
  /**
   * The block is like-mined: strip the suffix from the last 0x00 without first
   * trying the bytes as they are. Without the flag an encrypted block is tried
   * whole, then unpadded.
   */
  mined?: boolean
  /**
   * The plaintext's length, when the caller knows it (a part's size from its
   * bundle): sizes the inflate buffer. A hint only; the content is checked as
   * always, and a wrong size costs time, never a wrong result.
   */
  size?: number
  /**
   * The plaintext may lie in a buffer this thread reuses for its next decode
   * (no fresh memory per block), for a caller done with it before then, such
   * as one that writes it to a file at once. `releaseBuffer` leaves that
   * buffer alone.
   */
  reuse?: boolean
}
