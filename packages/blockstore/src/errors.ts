import { BlockVerificationError, LibernetError } from '@libernet/core/errors'

/**
 * Errors of the block store. Each has a stable `.name` and `.code` so callers
 * (the protocol handler, the gateway, the CLI) can branch without parsing
 * messages. A missing block is interface-store's `NotFoundError`, the name
 * every libp2p/IPFS component already checks for.
 */

/** A block kept for others does not fit in the quota, even after evicting every unpinned block. */
export class QuotaExceededError extends LibernetError {
  static override readonly code = 'ERR_QUOTA_EXCEEDED'
}

/** The file system ran out of space (ENOSPC, EDQUOT or SQLITE_FULL); nothing of the failed write is visible. */
export class DiskFullError extends LibernetError {
  static override readonly code = 'ERR_DISK_FULL'
}

/**
 * A stored file no longer matches its id. It has been moved to the quarantine
 * directory and forgotten. Its `code` stays ERR_BLOCK_VERIFICATION (core
 * fixes it for the whole family); `.name` tells the two apart.
 */
export class CorruptBlockError extends BlockVerificationError {}

/** Another live process (or another instance in this one) has the store open. */
export class StoreLockedError extends LibernetError {
  static override readonly code = 'ERR_STORE_LOCKED'
}

/** The store was used after `close()`. */
export class StoreClosedError extends LibernetError {
  static override readonly code = 'ERR_STORE_CLOSED'
}

/** Deleting a block that a backup root still pins; unpin the root first. */
export class BlockPinnedError extends LibernetError {
  static override readonly code = 'ERR_BLOCK_PINNED'
}
