import type { BlockId } from '@libernet/core'

export interface SourceOptions {
  signal?: AbortSignal
}

/** One answer to a like query. */
export interface LikeMatch {
  id: BlockId
  /** Stored size in bytes. */
  size: number
}

export interface LikeQuery {
  /** Most matches wanted; the server never asks for more than {@link MAX_LIKE_RESULTS}. */
  limit: number
  /** Fewest leading bits a match must share with the target. */
  minScore: number
}

/**
 * What the block server needs from local storage. The protocol depends on
 * this shape only; a node adapts its blockstore to it.
 *
 * Contract:
 * - `get` returns the bytes exactly as stored, already known to match `id`
 *   (the store verified them when they were written), or `undefined`.
 * - `put` is only called with bytes the server has verified against `id`. It
 *   may still refuse: throw {@link QuotaExceededError} (or any error named
 *   `QuotaExceededError`) when there is no room; any other error is reported
 *   to the peer as reason `error`. Storing a block that is already there
 *   succeeds.
 * - `like` returns the blocks whose ids share the most leading bits with
 *   `target`, best first, each sharing at least `minScore` bits. Without it
 *   the server answers like queries with an empty list.
 * - `recordRequest` is told each time a peer asks for a block the store
 *   holds, so popular blocks can be kept longer and copied further.
 * - A source without `put` refuses every STORE with reason `unavailable`.
 */
export interface BlockSource {
  has(id: BlockId, options?: SourceOptions): Promise<boolean> | boolean
  get(id: BlockId, options?: SourceOptions): Promise<Uint8Array | undefined> | Uint8Array | undefined
  put?(id: BlockId, bytes: Uint8Array, options?: SourceOptions): Promise<void> | void
  like?(target: BlockId, query: LikeQuery, options?: SourceOptions): Promise<LikeMatch[]> | LikeMatch[]
  recordRequest?(id: BlockId): void
}

/** Why a STORE was refused, as it travels in `StoreResult.reason`. */
export type RefusalReason = 'quota' | 'invalid' | 'too-large' | 'unavailable' | 'error'

export const REFUSAL_REASONS: readonly RefusalReason[] = ['quota', 'invalid', 'too-large', 'unavailable', 'error']

/** The answer to a STORE. */
export type StoreOutcome = { accepted: true } | { accepted: false; reason: RefusalReason; detail: string }
