import type { BlockId } from '@libernet/core'

/** What a mining worker is started with (its `workerData`). */
export interface MineJob {
  plaintext: Uint8Array
  /** sha256 of the passphrase: the worker never sees the passphrase itself. */
  key: Uint8Array
  target: BlockId
  minScore: number
  /** This worker's share of the attempt budget; absent for no limit. */
  maxAttempts?: number
}

/** What a mining worker sends back: progress (attempts so far), then one result or error. */
export type MineMessage =
  | { type: 'progress'; attempts: number }
  | { type: 'done'; id: BlockId; bytes: Uint8Array; score: number; attempts: number }
  | { type: 'error'; name: string; message: string; attempts: number; bestScore: number }
