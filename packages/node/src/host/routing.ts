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
  /** Every id the node holds, for re-announcement. */
  held: () => Promise<Iterable<BlockId>>
}

/**
 * Announces held blocks on the DHT. Ids queue up as they are stored and are
 * provided a few at a time; a failed announcement (no DHT peers yet) is
 * retried on the next round, and everything held is announced again on a
 * schedule, before provider records expire.
 */
export class Announcer {
  readonly #host: Host
  readonly #queue = new Set<BlockId>()
  /** Ids whose announcement failed (no peers yet, or the query failed). */
  readonly #deferred = new Set<BlockId>()
  readonly #concurrency: number
  readonly #interval: number
  readonly #held: () => Promise<Iterable<BlockId>>
  #running = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = false
  readonly #controller = new AbortController()
  announced = 0

  constructor(host: Host, init: AnnouncerInit) {
    this.#host = host
    this.#concurrency = init.concurrency ?? 8
    this.#interval = init.reannounceInterval ?? 12 * 3600
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
    this.#controller.abort()
    this.#queue.clear()
    this.#deferred.clear()
  }

  /** Queues one id. */
  announce(id: BlockId): void {
    if (this.#stopped) return
    this.#queue.add(id)
    this.#pump()
  }

  announceAll(): void {
    this.#held().then(
      (ids) => {
        for (const id of ids) this.#queue.add(id)
        this.#pump()
      },
      (err: Error) => log('listing held blocks failed: %s', err.message),
    )
  }

  get pending(): number {
    return this.#queue.size + this.#running + this.#deferred.size
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#concurrency && this.#queue.size > 0) {
      const id = this.#queue.values().next().value as BlockId
      this.#queue.delete(id)
      this.#running++
      this.#provide(id).finally(() => {
        this.#running--
        this.#pump()
      })
    }
  }

  async #provide(id: BlockId): Promise<void> {
    if (this.#host.getPeers().length === 0) return this.#retryLater(id)
    try {
      const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(30_000)])
      await this.#host.contentRouting.provide(idToCid(id), { signal })
      this.announced++
    } catch (err) {
      if (this.#stopped) return
      log('provide %s failed: %s', id, (err as Error).message)
      this.#retryLater(id)
    }
  }

  #retryLater(id: BlockId): void {
    this.#deferred.add(id)
  }

  /** Queues again what could not be announced (call when a peer connects). */
  retryDeferred(): void {
    for (const id of this.#deferred) this.#queue.add(id)
    this.#deferred.clear()
    this.#pump()
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
