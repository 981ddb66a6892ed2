import { LibernetError } from '@libernet/core'

/**
 * Errors of the backup and restore engine. Errors about untrusted input come
 * from `@libernet/core` (InvalidUrlError, DecryptionError, UnsafePathError...);
 * these cover what only the engine knows.
 */

/** Blocks a snapshot or file needs are not in the store. */
export class MissingBlocksError extends LibernetError {
  static override readonly code = 'ERR_MISSING_BLOCKS'
  readonly ids: string[]

  constructor(ids: string[], message = `${ids.length} block(s) missing from the store`) {
    super(message)
    this.ids = ids
  }
}

/** A path inside a bundle that does not exist, or is a directory where a file was asked for. */
export class NotFoundError extends LibernetError {
  static override readonly code = 'ERR_NOT_FOUND'
}

/** The command needs a running node (`libernet start`), which this version cannot provide yet. */
export class NodeUnavailableError extends LibernetError {
  static override readonly code = 'ERR_NODE_UNAVAILABLE'
}

/** A restore target that already holds something in the way (a directory where a file goes, or the reverse). */
export class RestoreConflictError extends LibernetError {
  static override readonly code = 'ERR_RESTORE_CONFLICT'
}

/** The folder to back up does not exist or is not a directory. */
export class NotADirectoryError extends LibernetError {
  static override readonly code = 'ERR_NOT_A_DIRECTORY'
}

/** A data directory that cannot be used (bad snapshot records, wrong layout). */
export class DataDirectoryError extends LibernetError {
  static override readonly code = 'ERR_DATA_DIRECTORY'
}

/** A command-line or configuration value that cannot be used. */
export class InvalidArgumentError extends LibernetError {
  static override readonly code = 'ERR_INVALID_ARGUMENT'
}
