import type { BlockFileTarget, WrittenBlock } from '@libernet/blockstore'
import type { BlockId, StoredFile } from '@libernet/core'

/**
 * What the backup and restore engine needs from a block store. The local
 * `@libernet/blockstore` provides it today; a running node (network fetches,
 * replication) will provide the same interface later, so the engine does not
 * change when blocks start coming from peers.
 */
export interface EngineStore {
  has(id: BlockId, options?: { signal?: AbortSignal }): Promise<boolean>
  /**
   * The stored bytes, or `undefined` when the block is not available.
   * `verify: false` lets a store skip checking them against the id, for a
   * caller that does (decoding does); a verified read afterwards must
   * quarantine and report a corrupt block. The caller owns the returned
   * bytes (it may transfer them to a worker).
   */
  get(id: BlockId, options?: { signal?: AbortSignal; verify?: boolean }): Promise<Uint8Array | undefined>
  /**
   * Where the block's stored bytes lie on this machine, so a worker can read
   * and decode them without the bytes passing through the main thread; the
   * worker checks them against the id and, when they fail, the caller uses
   * {@link get}. Absent, or `undefined` for a block, when the store has no
   * local file to offer.
   */
  localFile?(id: BlockId): StoredFile | undefined
  /**
   * Present when workers of this process may write block files into the
   * store themselves (a `BlockFileWriter` on `target` in each) and hand
   * them to `adopt`, which resolves, per block, to true when it is new to the
   * store: what a backup's encoding workers do instead of passing every
   * block through {@link put}.
   */
  blockFiles?: {
    target: BlockFileTarget
    adopt(blocks: readonly WrittenBlock[]): Promise<boolean[]>
    /** The workers were stopped mid-write: a half-written file may lie where a block goes (see `abandonBlockFiles`). */
    abandon(): void
  }
  /** Stores a block (verified against its id); resolves to true when it was not there before. */
  put(id: BlockId, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<boolean>
  /**
   * Keeps a snapshot's blocks (the root and everything it refers to) from
   * eviction. `references`: those blocks, from a caller that has just
   * written the bundle, so that a local store need not read it back.
   */
  pin(rootUrl: string, owner: string, options?: { references?: Iterable<BlockId> }): Promise<void>
  unpin?(rootUrl: string, owner: string): Promise<void>
  close(): Promise<void>
}
