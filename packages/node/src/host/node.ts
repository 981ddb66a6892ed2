import { mkdir } from 'node:fs/promises'
import { LibernetBlockstore, parseRootUrl } from '@libernet/blockstore'
import { type BlockId, CodecPool, likeScore, parseBlockId } from '@libernet/core'
import type { BlockSource } from '@libernet/protocol'
import { logger } from '@libp2p/logger'
import { blocksDir, snapshotsDir } from '../data-dir.ts'
import type { LikeAnswer } from '../gateway/backend.ts'
import { SnapshotLog } from '../snapshots.ts'
import { type NodeStatus, type PeerStatus, type SnapshotStatus, storageStatus } from '../status.ts'
import type { NodeConfig } from './config.ts'
import { loadIdentity } from './identity.ts'
import { createHost, type Host } from './libp2p.ts'
import { NetworkStore } from './network-store.ts'
import { PeerBook } from './peers.ts'
import { Replicator } from './replication.ts'
import { type AnnouncePriority, Announcer, findProviders } from './routing.ts'
import { closestPeers } from './xor.ts'

const log = logger('libernet:node')

/** Every block the store holds: the owner's (pinned) announced before copies kept for others. */
function* heldBlocks(blockstore: LibernetBlockstore): Generator<[BlockId, AnnouncePriority]> {
  for (const id of blockstore.ids()) yield [id, blockstore.blockInfo(id)?.pinned === true ? 'owner' : 'copy']
}

/** Peers asked by a like query: the closest to the target, where like-mined blocks are replicated. */
const LIKE_PEERS = 8

export interface StartNodeOptions {
  dataDir: string
  config: NodeConfig
  /** Codec worker threads (default one per core). */
  workers?: number
}

/**
 * A running Libernet node: the libp2p host, the local block store, the
 * network-backed store the engine uses, DHT announcements, replication of
 * the owner's snapshots and the cache of what it fetched for others.
 */
export class LibernetNode {
  readonly dataDir: string
  readonly config: NodeConfig
  readonly host: Host
  readonly blockstore: LibernetBlockstore
  readonly pool: CodecPool
  readonly snapshots: SnapshotLog
  readonly store: NetworkStore
  readonly peers: PeerBook
  readonly announcer: Announcer
  readonly replicator: Replicator
  readonly startedAt = new Date()
  gatewayUrl: string | undefined

  private constructor(fields: {
    dataDir: string
    config: NodeConfig
    host: Host
    blockstore: LibernetBlockstore
    pool: CodecPool
    peers: PeerBook
    announcer: Announcer
    replicator: Replicator
    store: NetworkStore
  }) {
    this.dataDir = fields.dataDir
    this.config = fields.config
    this.host = fields.host
    this.blockstore = fields.blockstore
    this.pool = fields.pool
    this.peers = fields.peers
    this.announcer = fields.announcer
    this.replicator = fields.replicator
    this.store = fields.store
    this.snapshots = new SnapshotLog(snapshotsDir(fields.dataDir))
  }

  static async start(options: StartNodeOptions): Promise<LibernetNode> {
    const { dataDir, config } = options
    await mkdir(dataDir, { recursive: true })
    const privateKey = await loadIdentity(dataDir)
    const blockstore = await LibernetBlockstore.open({
      path: blocksDir(dataDir),
      ...(config.quota !== null ? { quota: config.quota } : {}),
    })
    try {
      let announcer: Announcer | undefined
      const source: BlockSource = {
        has: (id) => blockstore.hasBlock(id),
        async get(id) {
          try {
            return await blockstore.getBlock(id)
          } catch (err) {
            // Missing or corrupt (now quarantined): either way the peer hears DONT_HAVE.
            log('serving %s: %s', id, (err as Error).message)
            return undefined
          }
        },
        async put(id, bytes) {
          if (await blockstore.putBlock(id, bytes)) announcer?.announce(id, 'copy')
        },
        like: (target, query) => blockstore.like(target, { limit: query.limit, minScore: query.minScore }),
      }
      const host = await createHost({
        privateKey,
        listen: config.listen,
        bootstrap: config.bootstrap,
        mdns: config.mdns,
        source,
      })
      const peers = new PeerBook(host)
      const replicator = new Replicator({
        host,
        blockstore,
        peers,
        replicas: config.replicas,
        repairInterval: config.repairInterval * 1000,
        holderGrace: config.holderGrace * 1000,
      })
      announcer = new Announcer(host, { held: () => heldBlocks(blockstore) })
      const store = new NetworkStore({
        host,
        blockstore,
        peers,
        announcer,
        fetchTimeout: config.fetchTimeout * 1000,
        // Its blocks were queued for announcement as they were stored; the root goes first.
        onPinned: (root) => {
          announcer?.announce(parseRootUrl(root).id, 'root')
          replicator.replicate(root)
        },
      })
      const node = new LibernetNode({
        dataDir,
        config,
        host,
        blockstore,
        pool: new CodecPool(options.workers !== undefined ? { size: options.workers } : {}),
        peers,
        announcer,
        replicator,
        store,
      })
      peers.start()
      await host.start()
      host.addEventListener('peer:identify', () => {
        announcer?.retryDeferred()
        // A new peer may be where under-replicated blocks can go.
        replicator.repairSoon()
      })
      announcer.start()
      replicator.start()
      log('node %s listening on %s', host.peerId, host.getMultiaddrs().map(String).join(', '))
      return node
    } catch (err) {
      await blockstore.close()
      throw err
    }
  }

  get peerId(): string {
    return this.host.peerId.toString()
  }

  addresses(): string[] {
    return this.host.getMultiaddrs().map(String)
  }

  peerStatuses(): PeerStatus[] {
    const held = this.replicator.heldBy()
    const byPeer = new Map<string, string[]>()
    for (const connection of this.host.getConnections()) {
      const id = connection.remotePeer.toString()
      byPeer.set(id, [...(byPeer.get(id) ?? []), connection.remoteAddr.toString()])
    }
    return [...byPeer].map(([id, addresses]) => {
      const { discoveredBy, latencyMs } = this.peers.describe(id)
      return {
        id,
        addresses,
        discoveredBy,
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        replicasHeld: held.get(id) ?? 0,
      }
    })
  }

  async status(): Promise<NodeStatus> {
    const stats = this.blockstore.stats()
    const snapshots: SnapshotStatus[] = []
    for (const history of await this.snapshots.all()) {
      const latest = history.snapshots.at(-1)
      if (latest === undefined) continue
      snapshots.push({
        folder: history.folder,
        url: latest.url,
        time: latest.time,
        replication: await this.replicator.health(latest.url),
      })
    }
    const served = this.host.services.blocks.server.stats
    return {
      peerId: this.peerId,
      addresses: this.addresses(),
      ...(this.gatewayUrl !== undefined ? { gateway: this.gatewayUrl } : {}),
      startedAt: this.startedAt.toISOString(),
      replicas: this.config.replicas,
      peers: this.peerStatuses(),
      storage: storageStatus(stats),
      snapshots,
      traffic: {
        blocksServed: served.blocksServed,
        bytesServed: served.bytesServed,
        blocksFetched: this.store.traffic.blocksFetched,
        bytesFetched: this.store.traffic.bytesFetched,
        blocksReplicated: this.replicator.traffic.blocksReplicated,
        bytesReplicated: this.replicator.traffic.bytesReplicated,
      },
    }
  }

  /** Peers the DHT names as providers of a block. */
  async providers(id: BlockId, options: { signal?: AbortSignal; limit?: number } = {}): Promise<string[]> {
    const found = await findProviders(this.host, parseBlockId(id), options)
    return found.map(String)
  }

  /**
   * Blocks most like `target`: the local index and the connected peers
   * closest to it (where such blocks are replicated), merged and ranked by
   * score. Scores are computed here from the ids; a peer cannot inflate
   * them, and an unanswering peer only costs `timeout`.
   */
  async like(
    target: BlockId,
    options: { limit: number; minScore?: number; signal?: AbortSignal; peers?: number; timeout?: number },
  ): Promise<LikeAnswer[]> {
    const id = parseBlockId(target)
    const minScore = options.minScore ?? 0
    const found = new Map<BlockId, LikeAnswer>()
    for (const match of this.blockstore.like(id, { limit: options.limit, minScore })) found.set(match.id, match)
    const asked = closestPeers(id, await this.peers.blockPeers()).slice(0, options.peers ?? LIKE_PEERS)
    const answers = await Promise.allSettled(
      asked.map((peer) =>
        this.host.services.blocks.like(
          peer,
          id,
          { minScore, maxResults: options.limit },
          { signal: options.signal, timeout: options.timeout ?? 5_000 },
        ),
      ),
    )
    for (const answer of answers) {
      if (answer.status !== 'fulfilled') continue
      for (const match of answer.value) {
        const score = likeScore(id, match.id)
        if (score >= minScore && !found.has(match.id)) found.set(match.id, { id: match.id, size: match.size, score })
      }
    }
    return [...found.values()].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, options.limit)
  }

  async stop(): Promise<void> {
    this.announcer.stop()
    await this.replicator.stop()
    this.peers.stop()
    await this.host.stop()
    await this.pool.close()
    await this.blockstore.close()
  }
}
