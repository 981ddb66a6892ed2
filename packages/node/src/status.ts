/**
 * What a node reports about itself: the status page, `libernet status`,
 * `libernet peers` and `/metrics` all read this one shape.
 */

/** How a peer became known. */
export type DiscoveryMethod = 'mdns' | 'bootstrap' | 'dht' | 'inbound'

export interface PeerStatus {
  id: string
  addresses: string[]
  discoveredBy: DiscoveryMethod
  /** Round-trip time of the last ping, when one was measured. */
  latencyMs?: number
  /** Blocks this node confirmed the peer keeps for it. */
  replicasHeld: number
}

export interface StorageStatus {
  /** Bytes of every stored block. */
  usedBytes: number
  /** Bytes kept for the owner's own snapshots (never evicted). */
  pinnedBytes: number
  /** Bound on what is kept for others; `null` when unbounded. */
  quotaBytes: number | null
  blocks: number
}

export interface ReplicationHealth {
  /** Blocks of the snapshot. */
  blocks: number
  /** Blocks with at least the target number of confirmed replicas. */
  replicated: number
  /** Blocks with at least one confirmed replica but fewer than the target. */
  underReplicated: number
  /** Blocks only this node holds. */
  localOnly: number
  /** Fewest confirmed replicas over the snapshot's blocks. */
  minReplicas: number
}

export interface SnapshotStatus {
  folder: string
  url: string
  /** ISO 8601. */
  time: string
  replication: ReplicationHealth
}

export interface TrafficStatus {
  blocksServed: number
  bytesServed: number
  blocksFetched: number
  bytesFetched: number
  blocksReplicated: number
  bytesReplicated: number
}

export interface NodeStatus {
  peerId: string
  /** Multiaddrs this node listens on, with its peer id. */
  addresses: string[]
  /** Base URL of the HTTP gateway, when it runs. */
  gateway?: string
  startedAt: string
  /** Replicas wanted for each owner block. */
  replicas: number
  peers: PeerStatus[]
  storage: StorageStatus
  snapshots: SnapshotStatus[]
  traffic: TrafficStatus
}

/** The storage part of a status, from the block store's counters. */
export function storageStatus(stats: {
  bytes: number
  pinnedBytes: number
  quota: number
  blocks: number
}): StorageStatus {
  return {
    usedBytes: stats.bytes,
    pinnedBytes: stats.pinnedBytes,
    quotaBytes: Number.isFinite(stats.quota) ? stats.quota : null,
    blocks: stats.blocks,
  }
}
