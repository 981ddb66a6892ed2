import { collectBundleIds, type LibernetBlockstore } from '@libernet/blockstore'
import type { BlockId } from '@libernet/core'
import type { PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { ReplicationHealth } from '../status.ts'
import { Semaphore } from '../util/semaphore.ts'
import type { Host } from './libp2p.ts'
import type { PeerBook } from './peers.ts'
import { closestPeers } from './xor.ts'

const log = logger('libernet:replication')

export interface ReplicatorInit {
  host: Host
  blockstore: LibernetBlockstore
  peers: PeerBook
  /** Replicas wanted per block. */
  replicas: number
  /** ms between repair passes over every pinned root. */
  repairInterval: number
  /** ms a holder may stay away before its replicas are made elsewhere. */
  holderGrace: number
  /** Blocks offered at once. */
  concurrency?: number
}

export interface ReplicationTraffic {
  blocksReplicated: number
  bytesReplicated: number
}

/**
 * Keeps `r` copies of every block of the owner's pinned roots on other
 * peers (DESIGN §4). Each block goes to the connected peers closest to its
 * id by XOR distance that accept it (a peer refusing for quota is skipped
 * for the rest of the pass); confirmed copies are recorded in the block
 * store. A repair pass, on a schedule, asks holders whether they still have
 * their copies and re-replicates what lost holders: a peer gone for longer
 * than `holderGrace` no longer counts, the way a storage cluster waits
 * before declaring a disk out.
 */
export class Replicator {
  readonly #init: ReplicatorInit
  readonly #roots = new Map<string, Promise<BlockId[]>>()
  /** Ids of roots already walked, for synchronous reads. */
  readonly #known = new Map<string, BlockId[]>()
  /** Roots waiting for a pass, each with whether that pass also asks holders what they still have. */
  readonly #queued = new Map<string, boolean>()
  #soon: ReturnType<typeof setTimeout> | undefined
  readonly #semaphore: Semaphore
  readonly traffic: ReplicationTraffic = { blocksReplicated: 0, bytesReplicated: 0 }
  #timer: ReturnType<typeof setInterval> | undefined
  #running: Promise<void> | undefined
  readonly #controller = new AbortController()

  constructor(init: ReplicatorInit) {
    this.#init = init
    this.#semaphore = new Semaphore(init.concurrency ?? 16)
  }

  start(): void {
    this.#timer = setInterval(() => this.repairAll(), this.#init.repairInterval)
    this.#timer.unref()
    this.repairAll()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    this.#controller.abort()
    await this.#running?.catch(() => {})
  }

  /** Replicates a root's blocks soon (after a backup pinned it). */
  replicate(rootUrl: string): void {
    if (!this.#queued.has(rootUrl)) this.#queued.set(rootUrl, false)
    this.#drain()
  }

  /** Queues every pinned root; holders are re-checked. */
  repairAll(): void {
    for (const { url } of this.#init.blockstore.pins()) this.#queued.set(url, true)
    this.#drain()
  }

  /** A repair pass shortly (a peer arrived): coalesces bursts of arrivals into one pass. */
  repairSoon(delay = 1000): void {
    if (this.#soon !== undefined) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.repairAll()
    }, delay)
    this.#soon.unref()
  }

  /** Waits until nothing is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  /** How well a root's blocks are replicated, counting holders that are connected now. */
  async health(rootUrl: string): Promise<ReplicationHealth> {
    const ids = await this.idsOf(rootUrl).catch(() => [] as BlockId[])
    const health: ReplicationHealth = {
      blocks: ids.length,
      replicated: 0,
      underReplicated: 0,
      localOnly: 0,
      minReplicas: ids.length === 0 ? 0 : Number.POSITIVE_INFINITY,
    }
    const connected = this.#init.peers.connected()
    for (const id of ids) {
      const live = this.#init.blockstore.replicasOf(id).filter((peer) => connected.has(peer)).length
      if (live >= this.#init.replicas) health.replicated++
      else if (live > 0) health.underReplicated++
      else health.localOnly++
      health.minReplicas = Math.min(health.minReplicas, live)
    }
    return health
  }

  /** Confirmed copies each peer holds for this node. */
  heldBy(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const { url } of this.#init.blockstore.pins()) {
      const ids = this.#known.get(url)
      if (ids === undefined) continue
      for (const id of ids) {
        for (const peer of this.#init.blockstore.replicasOf(id)) counts.set(peer, (counts.get(peer) ?? 0) + 1)
      }
    }
    return counts
  }

  /** Every block a root refers to (walked once, then remembered: roots never change). */
  idsOf(rootUrl: string): Promise<BlockId[]> {
    let ids = this.#roots.get(rootUrl)
    if (ids === undefined) {
      const { blockstore } = this.#init
      ids = collectBundleIds(rootUrl, (id, options) => blockstore.getBlock(id, options)).then((set) => {
        const list = [...set]
        this.#known.set(rootUrl, list)
        return list
      })
      ids.catch(() => this.#roots.delete(rootUrl))
      this.#roots.set(rootUrl, ids)
    }
    return ids
  }

  #drain(): void {
    if (this.#running !== undefined || this.#controller.signal.aborted) return
    this.#running = (async () => {
      while (this.#queued.size > 0 && !this.#controller.signal.aborted) {
        const [root, checkHolders] = this.#queued.entries().next().value as [string, boolean]
        this.#queued.delete(root)
        try {
          await this.#replicateRoot(root, checkHolders)
        } catch (err) {
          log.error('replicating %s failed: %s', root, (err as Error).message)
        }
      }
    })().finally(() => {
      this.#running = undefined
    })
  }

  async #replicateRoot(rootUrl: string, checkHolders: boolean): Promise<void> {
    const ids = await this.idsOf(rootUrl)
    const candidates = await this.#init.peers.blockPeers()
    if (candidates.length === 0) return
    if (checkHolders) await this.#forgetLostCopies(ids)
    const full = new Set<string>()
    const work = ids.map(async (id) => {
      await this.#semaphore.acquire(1, this.#controller.signal)
      try {
        await this.#replicateBlock(id, candidates, full)
      } finally {
        this.#semaphore.release(1)
      }
    })
    const results = await Promise.allSettled(work)
    const failed = results.filter((result) => result.status === 'rejected').length
    if (failed > 0) log('%s: %d block(s) could not be offered this pass', rootUrl, failed)
  }

  async #replicateBlock(id: BlockId, candidates: PeerId[], full: Set<string>): Promise<void> {
    const { blockstore, peers, replicas, holderGrace, host } = this.#init
    const holders = blockstore.replicasOf(id)
    for (const holder of holders) {
      if (peers.absentFor(holder) > holderGrace) blockstore.forgetReplica(id, holder)
    }
    const current = blockstore.replicasOf(id)
    let live = current.filter((peer) => peers.absentFor(peer) <= holderGrace).length
    if (live >= replicas) return
    let bytes: Uint8Array | undefined
    for (const peer of closestPeers(id, candidates)) {
      if (live >= replicas) break
      const key = peer.toString()
      if (current.includes(key) || full.has(key)) continue
      bytes ??= await blockstore.getBlock(id)
      const outcome = await host.services.blocks.store(peer, id, bytes, { signal: this.#controller.signal })
      if (outcome.accepted) {
        blockstore.recordReplica(id, key)
        live++
        this.traffic.blocksReplicated++
        this.traffic.bytesReplicated += bytes.length
      } else if (outcome.reason === 'quota') {
        full.add(key)
      } else {
        log('%s refused %s: %s %s', key, id, outcome.reason, outcome.detail)
      }
    }
  }

  /** Asks each connected holder which of its recorded copies it still has. */
  async #forgetLostCopies(ids: BlockId[]): Promise<void> {
    const { blockstore, peers, host } = this.#init
    // Grouped by holder; only the holders among the connected block peers (below) are asked.
    const byPeer = new Map<string, BlockId[]>()
    for (const id of ids) {
      for (const peer of blockstore.replicasOf(id)) {
        const asked = byPeer.get(peer)
        if (asked === undefined) byPeer.set(peer, [id])
        else asked.push(id)
      }
    }
    for (const peerId of await peers.blockPeers()) {
      const asked = byPeer.get(peerId.toString())
      if (asked === undefined) continue
      try {
        const held = await host.services.blocks.has(peerId, asked, { signal: this.#controller.signal })
        for (const id of asked) if (!held.has(id)) blockstore.forgetReplica(id, peerId.toString())
      } catch (err) {
        log('asking %s for its copies failed: %s', peerId, (err as Error).message)
      }
    }
  }
}
