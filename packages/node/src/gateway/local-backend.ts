import { type BlockId, InvalidUrlError, iterateBundleFiles, parseUrl } from '@libernet/core'
import { type ContentContext, loadPlaintext, openBundle } from '../content.ts'
import type { Repo } from '../repo.ts'
import { type ReplicationHealth, type SnapshotStatus, storageStatus } from '../status.ts'
import type { GatewayBackend } from './backend.ts'

export interface LocalBackendOptions {
  /** Replicas wanted per owner block, as reported (default 3, DESIGN §4). */
  replicas?: number
}

/**
 * A gateway over a local data directory with no node running: blocks come
 * only from the local store (a missing one is a 504, as when no peer has it),
 * like queries use the local index, and the status has no peers.
 */
export function localGatewayBackend(repo: Repo, options: LocalBackendOptions = {}): GatewayBackend {
  const startedAt = new Date().toISOString()
  const replicas = options.replicas ?? 3
  // A snapshot's blocks never change: walk each root once.
  const blocksOf = new Map<string, Promise<BlockId[]>>()
  const context: ContentContext = { store: repo.store, pool: repo.pool }
  const snapshotBlocks = (url: string): Promise<BlockId[]> => {
    let walk = blocksOf.get(url)
    if (walk === undefined) {
      walk = collectBlocks(context, url)
      blocksOf.set(url, walk)
      walk.catch(() => blocksOf.delete(url))
    }
    return walk
  }

  return {
    store: repo.store,
    pool: repo.pool,
    async like(target, likeOptions) {
      return repo.blockstore.like(target, { limit: likeOptions.limit, minScore: likeOptions.minScore })
    },
    async status() {
      const stats = repo.blockstore.stats()
      const pinned = new Set(repo.blockstore.pins().map((root) => root.url))
      const snapshots: SnapshotStatus[] = []
      for (const history of await repo.snapshots.all()) {
        for (const snapshot of history.snapshots) {
          if (!pinned.has(snapshot.url)) continue
          const replication = await snapshotBlocks(snapshot.url).then(
            (ids) => replicationOf(ids, (id) => repo.blockstore.replicasOf(id).length, replicas),
            () => unknownReplication(),
          )
          snapshots.push({ folder: history.folder, url: snapshot.url, time: snapshot.time, replication })
        }
      }
      snapshots.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
      return {
        peerId: '',
        addresses: [],
        startedAt,
        replicas,
        peers: [],
        storage: storageStatus(stats),
        snapshots,
        traffic: {
          blocksServed: 0,
          bytesServed: 0,
          blocksFetched: 0,
          bytesFetched: 0,
          blocksReplicated: 0,
          bytesReplicated: 0,
        },
      }
    },
  }
}

/** Every block a snapshot needs: its bundles and the parts of its files. */
async function collectBlocks(context: ContentContext, url: string): Promise<BlockId[]> {
  const ids = new Set<BlockId>([idOf(url)])
  const top = await openBundle(context, url)
  const load = (sub: string): Promise<Uint8Array> => {
    ids.add(idOf(sub))
    return loadPlaintext(context, sub)
  }
  for await (const { file } of iterateBundleFiles(top, load, { url })) {
    for (const part of file.parts) ids.add(idOf(part.url))
  }
  return [...ids]
}

function idOf(url: string): BlockId {
  const parsed = parseUrl(url)
  if (parsed.kind === 'like') throw new InvalidUrlError(`${url} is a like query, not a block`)
  return parsed.id
}

export function replicationOf(ids: BlockId[], replicasOf: (id: BlockId) => number, wanted: number): ReplicationHealth {
  const health: ReplicationHealth = {
    blocks: ids.length,
    replicated: 0,
    underReplicated: 0,
    localOnly: 0,
    minReplicas: 0,
  }
  let min = Number.POSITIVE_INFINITY
  for (const id of ids) {
    const count = replicasOf(id)
    if (count >= wanted) health.replicated++
    else if (count > 0) health.underReplicated++
    else health.localOnly++
    min = Math.min(min, count)
  }
  health.minReplicas = ids.length === 0 ? 0 : min
  return health
}

function unknownReplication(): ReplicationHealth {
  return { blocks: 0, replicated: 0, underReplicated: 0, localOnly: 0, minReplicas: 0 }
}
