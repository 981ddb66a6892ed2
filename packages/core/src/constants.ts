/** Largest block this implementation writes: 1 MiB. */
export const MAX_BLOCK_SIZE = 1_048_576

/**
 * Largest raw chunk: 1 MiB − 16, so that an incompressible chunk plus its
 * AES-CBC PKCS#7 padding (16 bytes when the length is a multiple of 16) still
 * fits in {@link MAX_BLOCK_SIZE}.
 */
export const MAX_CHUNK_SIZE = MAX_BLOCK_SIZE - 16

/** The 2022 era cut files into whole 1 MiB chunks. */
export const LEGACY_CHUNK_SIZE = MAX_BLOCK_SIZE

/**
 * Largest stored block accepted on read: a 2022-era incompressible 1 MiB
 * chunk plus a whole padding block.
 */
export const LEGACY_MAX_BLOCK_SIZE = MAX_BLOCK_SIZE + 16

/** Largest plaintext a plain (unencrypted) block may carry. */
export const MAX_PLAIN_SIZE = MAX_BLOCK_SIZE

/** Largest serialized bundle: it is encrypted as a single block. */
export const MAX_BUNDLE_SIZE = MAX_CHUNK_SIZE

/** Seconds between the POSIX epoch and 2001-01-01T00:00:00Z, the current era's time origin. */
export const EPOCH_2001_OFFSET = 978_307_200

/** Score a like-mined block must reach by default (leading bits shared with its target). */
export const DEFAULT_LIKE_SCORE = 12
