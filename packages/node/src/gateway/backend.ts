import type { BlockId, CodecPool } from '@libernet/core'
import type { NodeStatus } from '../status.ts'
import type { EngineStore } from '../store.ts'

/** One answer to a like query: a block and its stored size. */
export interface LikeAnswer {
  id: BlockId
  size: number
  /** Leading bits the id shares with the target. */
  score: number
}

/**
 * What the gateway needs from the node it fronts. A running node passes a
 * network-backed store (a missing block is fetched from peers; `get`
 * resolves `undefined` when none supplies it in time); a node-less gateway
 * passes the local store.
 */
export interface GatewayBackend {
  /** Blocks: local first, then the network. */
  store: EngineStore
  /** Workers that decode blocks. */
  pool: CodecPool
  /** Blocks most like `target`, best first (local index, and peers when the node has them). */
  like(target: BlockId, options: { limit: number; minScore?: number; signal?: AbortSignal }): Promise<LikeAnswer[]>
  /** The node's status (status page, `/metrics`). */
  status(): Promise<NodeStatus>
}
