import { mkdir } from 'node:fs/promises'
import { LibernetBlockstore } from '@libernet/blockstore'
import { type BlockId, CodecPool } from '@libernet/core'
import { blocksDir, snapshotsDir } from './data-dir.ts'
import { SnapshotLog } from './snapshots.ts'
import type { EngineStore } from './store.ts'

/**
 * What commands need from a data directory: its store, snapshot history and
 * codec workers. Opened directly, or through the node running on it.
 */
export interface RepoView {
  dataDir: string
  store: EngineStore
  snapshots: SnapshotLog
  pool: CodecPool
  /** Checks every stored block against its id (corrupt ones are quarantined). */
  verifyStore(options?: { signal?: AbortSignal }): Promise<{ checked: number; corrupt: string[] }>
  /** The pinned backup roots and who pinned them. */
  pinRoots(): Promise<{ owner: string; url: string }[]>
  /** Blocks most like `target`, best first: the local index, and the network's when a node runs. */
  like(
    target: BlockId,
    options: { limit: number; minScore?: number; signal?: AbortSignal },
  ): Promise<{ id: BlockId; size: number; score: number }[]>
  close(): Promise<void>
}

/** A data directory opened directly (no node running on it). */
export interface Repo extends RepoView {
  /** The local block store itself (stats, gc, like...). */
  blockstore: LibernetBlockstore
}

export interface OpenRepoOptions {
  /** Worker threads for hashing, compression and encryption (default: one per core). */
  workers?: number
  /** Bytes kept for others (unpinned blocks); default no bound. */
  quota?: number
}

/** Opens (creating if needed) the data directory's local store. */
export async function openRepo(dataDir: string, options: OpenRepoOptions = {}): Promise<Repo> {
  await mkdir(dataDir, { recursive: true })
  const blockstore = await LibernetBlockstore.open({
    path: blocksDir(dataDir),
    ...(options.quota !== undefined ? { quota: options.quota } : {}),
  })
  const pool = new CodecPool(options.workers !== undefined ? { size: options.workers } : {})
  return {
    dataDir,
    store: blockstoreAdapter(blockstore),
    snapshots: new SnapshotLog(snapshotsDir(dataDir)),
    pool,
    blockstore,
    async verifyStore(verifyOptions = {}) {
      const report = await blockstore.verify(verifyOptions)
      return { checked: report.checked, corrupt: report.corrupt }
    },
    async pinRoots() {
      return blockstore.pins().map(({ owner, url }) => ({ owner, url }))
    },
    async like(target, likeOptions) {
      return blockstore.like(target, { limit: likeOptions.limit, minScore: likeOptions.minScore })
    },
    async close() {
      await pool.close()
      await blockstore.close()
    },
  }
}

/** The engine's view of a local blockstore: a missing block is `undefined`, not an error. */
export function blockstoreAdapter(blockstore: LibernetBlockstore): EngineStore {
  return {
    has: async (id: BlockId) => blockstore.hasBlock(id),
    async get(id: BlockId, options = {}) {
      try {
        return await blockstore.getBlock(id, options)
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return undefined
        throw err
      }
    },
    localFile: (id: BlockId) => blockstore.blockFile(id),
    put: (id: BlockId, bytes: Uint8Array, options = {}) => blockstore.putBlock(id, bytes, options),
    blockFiles: {
      target: blockstore.blockFileTarget(),
      adopt: (blocks) => blockstore.adoptBlockFiles(blocks),
      abandon: () => blockstore.abandonBlockFiles(),
    },
    async pin(url: string, owner: string, options = {}) {
      await blockstore.pin(url, owner, options)
    },
    async unpin(url: string, owner: string) {
      await blockstore.unpin(url, owner)
    },
    close: () => blockstore.close(),
  }
}
