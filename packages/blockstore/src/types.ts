import type { BlockId } from '@libernet/core'

/** What the store's operations take and report (the options of `open` are in options.ts). */

export interface AbortOptions {
  signal?: AbortSignal
}

export interface GetBlockOptions extends AbortOptions {
  /**
   * How the bytes read are checked before they are returned:
   *
   * - `true` (default): against the size and CRC-32 recorded when the block
   *   was put, after its SHA-256 was checked against the id. This catches
   *   what happens to a file on disk (bit rot, truncation, a file replaced
   *   or edited); a mismatch is confirmed with a full SHA-256, and a file
   *   failing it is quarantined (CorruptBlockError), never returned.
   * - `'full'`: SHA-256 against the id, as `verify()` does.
   * - `false`: unchecked, for a caller that verifies the bytes itself
   *   (decoding checks sha256(stored) against the id).
   */
  verify?: boolean | 'full'
}

export interface PutBlockOptions extends AbortOptions {
  /**
   * Pin the block to this owner at once, before the backup root that will
   * reference it exists, so it can never be evicted mid-backup. Such staged
   * pins are released when the owner pins a root (which then holds whatever
   * it references) or by `unpinStaged`.
   */
  pinnedBy?: string
}

export interface LikeOptions {
  /** At most this many matches (default 100, at most 10,000). */
  limit?: number
  /** Only ids sharing at least this many leading bits with the target (default 0). */
  minScore?: number
}

export interface LikeMatch {
  id: BlockId
  size: number
  /** Leading bits shared with the target, 0..256. */
  score: number
}

export interface BlockInfo {
  id: BlockId
  size: number
  pinned: boolean
  /** Owners whose roots (or staged puts) pin the block. */
  pinnedBy: string[]
  /** Request count decayed to now. */
  requests: number
  lastAccess: number
  addedAt: number
}

export interface StoreStats {
  blocks: number
  bytes: number
  pinnedBlocks: number
  pinnedBytes: number
  /** Unpinned blocks: what is kept for others and counts against the quota. */
  cachedBlocks: number
  cachedBytes: number
  quota: number
  pinRoots: number
}

export interface PinOptions extends AbortOptions {
  /** Also pin the earlier snapshots named by `prior`, all the way back. */
  followPrior?: boolean
  /**
   * Every block the root references (its sub-bundles and every part), when
   * the caller has just written that bundle and knows them: its pieces are
   * then not read back and parsed. The root's own block is added. Not with
   * `followPrior`.
   */
  references?: Iterable<BlockId>
}

export interface PinResult {
  owner: string
  url: string
  /** Blocks the root references (bundles and parts). */
  blocks: number
  /** Of those, how many are in this store now. */
  present: number
}

export interface GcOptions extends AbortOptions {
  /** Evict unpinned blocks, least requested first, until they take at most this many bytes. Default: the quota. */
  target?: number
}

export interface GcResult {
  removed: number
  bytes: number
}

export interface VerifyReport {
  /** Files read and hashed. */
  checked: number
  bytes: number
  /** Ids whose files did not match; moved to the quarantine directory and forgotten. */
  corrupt: BlockId[]
  /** Valid files that had no metadata. */
  added: number
  /** Metadata rows whose file was missing. */
  removed: number
  /** Rows whose recorded size was wrong. */
  resized: number
  /** The database failed its integrity check and was rebuilt from the blocks. */
  metadataRebuilt: boolean
}

/** What `open` found and repaired. */
export interface RecoveryReport {
  /** `created`: new store; `clean`: closed properly; `unclean`: reconciled after a crash; `rebuilt`: metadata was lost or corrupt. */
  state: 'created' | 'clean' | 'unclean' | 'rebuilt'
  reason?: string
  tempFilesRemoved: number
  /** Valid blocks found without metadata and indexed. */
  added: number
  /** Metadata rows dropped because their file was gone. */
  removed: number
  quarantined: BlockId[]
  /** Pin roots re-walked from pins.json. */
  rootsRewalked: number
  /** Roots that could not be walked completely (a bundle block is missing or unreadable). */
  unresolvedRoots: string[]
}

export function emptyRecovery(state: RecoveryReport['state']): RecoveryReport {
  return { state, tempFilesRemoved: 0, added: 0, removed: 0, quarantined: [], rootsRewalked: 0, unresolvedRoots: [] }
}
