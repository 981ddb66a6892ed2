/**
 * Typed errors. Every failure on untrusted input (URLs, blocks, bundles,
 * frames) is one of these, so callers can branch on `.name` (or `instanceof`)
 * and map them to exit codes or HTTP statuses without parsing messages.
 */

/** Base class of every error Libernet raises on purpose. */
export class LibernetError extends Error {
  static readonly code: string = 'ERR_LIBERNET'
  readonly code: string

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = (new.target as typeof LibernetError).code
  }
}

/** A string that should have been a 64-hex-digit SHA-256 id, or a CID that is not raw/sha2-256. */
export class InvalidIdError extends LibernetError {
  static override readonly code = 'ERR_INVALID_ID'
}

/** A URL outside the grammar of DESIGN §2. */
export class InvalidUrlError extends LibernetError {
  static override readonly code = 'ERR_INVALID_URL'
}

/** A key that is not 32 bytes / 64 hex digits. */
export class InvalidKeyError extends LibernetError {
  static override readonly code = 'ERR_INVALID_KEY'
}

/** Input or stored bytes beyond the block size limits. */
export class BlockTooLargeError extends LibernetError {
  static override readonly code = 'ERR_BLOCK_TOO_LARGE'
}

/** Stored bytes whose hash does not match the id they were fetched or offered under. */
export class BlockVerificationError extends LibernetError {
  static override readonly code = 'ERR_BLOCK_VERIFICATION'
}

/**
 * Decryption produced garbage: bad length, bad PKCS#7 padding, or content whose
 * hash does not match the key. With AES-CBC a wrong key almost always shows up
 * here; it is never reported as a wrong result.
 */
export class DecryptionError extends LibernetError {
  static override readonly code = 'ERR_DECRYPTION'
}

/** zlib data that does not inflate, or inflates beyond the block limit. */
export class DecompressionError extends LibernetError {
  static override readonly code = 'ERR_DECOMPRESSION'
}

/** A bundle that is not valid JSON of the bundle shape, or whose content is hostile. */
export class InvalidBundleError extends LibernetError {
  static override readonly code: string = 'ERR_INVALID_BUNDLE'
}

/** A bundle path that is absolute, contains `..`, `.`, empty segments, NUL or backslashes. */
export class UnsafePathError extends InvalidBundleError {
  static override readonly code = 'ERR_UNSAFE_PATH'
}

/** The same path twice, or a path that is both a file and a directory (or lies below a file or link). */
export class DuplicateEntryError extends InvalidBundleError {
  static override readonly code = 'ERR_DUPLICATE_ENTRY'
}

/** A file whose declared size disagrees with its parts, or sizes that are negative, fractional or absurd. */
export class SizeMismatchError extends InvalidBundleError {
  static override readonly code = 'ERR_SIZE_MISMATCH'
}

/** A bundle that cannot be serialized within the block limit, even after splitting. */
export class BundleTooLargeError extends LibernetError {
  static override readonly code = 'ERR_BUNDLE_TOO_LARGE'
}

/** Chunker parameters that break the format's limits or the algorithm's assumptions. */
export class InvalidChunkerOptionsError extends LibernetError {
  static override readonly code = 'ERR_INVALID_CHUNKER_OPTIONS'
}

/** Mining gave up after `maxAttempts` without reaching the score. */
export class MaxAttemptsExceededError extends LibernetError {
  static override readonly code = 'ERR_MAX_ATTEMPTS_EXCEEDED'
  readonly attempts: number
  /** The highest score any attempt reached. */
  readonly bestScore: number

  constructor(message: string, attempts = 0, bestScore = 0) {
    super(message)
    this.attempts = attempts
    this.bestScore = bestScore
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends LibernetError {
  static override readonly code = 'ERR_ABORTED'

  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options)
  }
}

/** Throws an AbortError if the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted === true) {
    throw new AbortError(undefined, { cause: signal.reason })
  }
}

/** A value as an error message quotes it: hostile input can be any length, a message stays under 81 characters. */
export function excerpt(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value
}
