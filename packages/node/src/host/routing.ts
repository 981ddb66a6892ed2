import { type BlockId, idToCid } from '@libernet/core'
import type { PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { Host } from './libp2p.ts'

const log = logger('libernet:routing')

export interface AnnouncerInit {
  /** Provide queries in flight. */
  concurrency?: number
  /** Seconds between re-announcements of everything held (DHT provider records expire). */
  reannounceInterval?: number
  /**
   * Provides started per second at most. Each is a DHT query that costs its
   * peers CPU too (tens of ms on these machines); unpaced, announcing a
   * backup's blocks halves the speed of replicating them.
   */
  rate?: number
  /** Every id the node holds, for re-announcement, with how soon each goes. */
  held: () => Iterable<[BlockId, AnnouncePriority]>
}

/**
 * How soon an id is announced: snapshot roots first (a restore starts from
 * one, and the peers that provide it hold the rest), then the owner's other
 * blocks, then copies kept for others (replicas, cache), which are also
 * findable where replication put them, at the peers closest to their ids.
 */
export type AnnouncePriority = 'root' | 'owner' | 'copy'

const PRIORITIES: readonly AnnouncePriority[] = ['root', 'owner', 'copy']

/**
 * Announces held blocks on the DHT. Ids queue up as they are stored and are
 * provided in the background, paced and by priority; a failed announcement
 * (no DHT peers yet) is retried when a peer arrives, and everything held is
 * announced again on a schedule, before provider records expire.
 */
export class Announcer {
  readonly #host: Host
  readonly #queues: Record<AnnouncePriority, Set<BlockId>> = { root: new Set(), owner: new Set(), copy: new Set() }
  /** Ids whose announcement failed (no peers yet, or the query failed). */
  readonly #deferred = new Map<BlockId, AnnouncePriority>()
  readonly #concurrency: number
  readonly #interval: number
  readonly #spacing: number
  #nextStart = 0
  #wake: ReturnType<typeof setTimeout> | undefined
  readonly #held: () => Iterable<[BlockId, AnnouncePriority]>
  #running = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = false
  readonly #controller = new AbortController()
  announced = 0

  constructor(host: Host, init: AnnouncerInit) {
    this.#host = host
    this.#concurrency = init.concurrency ?? 2
    this.#interval = init.reannounceInterval ?? 12 * 3600
    this.#spacing = 1000 / (init.rate ?? 4)
    this.#held = init.held
  }

  start(): void {
    this.announceAll()
    this.#timer = setInterval(() => this.announceAll(), this.#interval * 1000)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    clearTimeout(this.#wake)
    this.#controller.abort()
    for (const queue of Object.values(this.#queues)) queue.clear()
    this.#deferred.clear()
  }

  /** Queues one id. */
  announce(id: BlockId, priority: AnnouncePriority = 'owner'): void {
    if (this.#stopped) return
    const rank = PRIORITIES.indexOf(priority)
    // Queued already at this priority or a higher one: nothing to do; at a lower one: move it up.
    if (PRIORITIES.slice(0, rank + 1).some((level) => this.#queues[level].has(id))) return
    for (const level of PRIORITIES.slice(rank + 1)) this.#queues[level].delete(id)
    this.#queues[priority].add(id)
    this.#pump()
  }

  announceAll(): void {
    try {
      for (const [id, priority] of this.#held()) this.announce(id, priority)
    } catch (err) {
      log('listing held blocks failed: %s', (err as Error).message)
    }
  }

  get pending(): number {
    const queued = PRIORITIES.reduce((sum, level) => sum + this.#queues[level].size, 0)
    return queued + this.#running + this.#deferred.size
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#concurrency && this.#wake === undefined) {
      const priority = PRIORITIES.find((level) => this.#queues[level].size > 0)
      if (priority === undefined) return
      const queue = this.#queues[priority]
      const id = queue.values().next().value as BlockId
      const wait = this.#nextStart - Date.now()
      if (wait > 0) {
        this.#wake = setTimeout(() => {
          this.#wake = undefined
          this.#pump()
        }, wait)
        this.#wake.unref()
        return
      }
      this.#nextStart = Math.max(this.#nextStart, Date.now() - this.#spacing) + this.#spacing
      queue.delete(id)
      this.#running++
      this.#provide(id, priority).finally(() => {
        this.#running--
        this.#pump()
      })
    }
  }

  async #provide(id: BlockId, priority: AnnouncePriority): Promise<void> {
    if (this.#host.getPeers().length === 0) return this.#retryLater(id, priority)
    try {
      const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(30_000)])
      await this.#host.contentRouting.provide(idToCid(id), { signal })
      this.announced++
    } catch (err) {
      if (this.#stopped) return
      log('provide %s failed: %s', id, (err as Error).message)
      this.#retryLater(id, priority)
    }
  }

  #retryLater(id: BlockId, priority: AnnouncePriority): void {
    this.#deferred.set(id, priority)
  }

  /** Queues again what could not be announced (call when a peer connects). */
  retryDeferred(): void {
    const deferred = [...this.#deferred]
    this.#deferred.clear()
    for (const [id, priority] of deferred) this.announce(id, priority)
  }
}

/** Peers the DHT says provide `id`, excluding this node; stops at `limit` or when the signal fires. */
export async function findProviders(
  host: Host,
  id: BlockId,
  options: { signal?: AbortSignal; limit?: number } = {},
): Promise<PeerId[]> {
  const found: PeerId[] = []
  const limit = options.limit ?? 20
  try {
    for await (const provider of host.contentRouting.findProviders(idToCid(id), { signal: options.signal })) {
      if (provider.id.equals(host.peerId) || found.some((peer) => peer.equals(provider.id))) continue
      if (provider.multiaddrs.length > 0) {
        await host.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
      }
      found.push(provider.id)
      if (found.length >= limit) break
    }
  } catch (err) {
    if (found.length === 0 && options.signal?.aborted !== true) {
      log('find providers of %s failed: %s', id, (err as Error).message)
    }
  }
  return found
}
