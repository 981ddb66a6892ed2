import type { LibernetBlockstore } from '@libernet/blockstore'
import { AbortError, type BlockId, type StoredFile } from '@libernet/core'
import type { BlockProtocol } from '@libernet/protocol'
import type { PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { blockstoreAdapter } from '../repo.ts'
import type { EngineStore } from '../store.ts'
import type { Host } from './libp2p.ts'
import type { PeerBook } from './peers.ts'
import { type Announcer, findProviders } from './routing.ts'
import { closestPeers } from './xor.ts'

const log = logger('libernet:fetch')

export interface NetworkStoreInit {
  host: Host
  blockstore: LibernetBlockstore
  peers: PeerBook
  announcer: Announcer
  /** Called after a root is pinned, so its blocks get replicated. */
  onPinned?: (rootUrl: string) => void
  /** ms to wait for the network to supply a missing block. */
  fetchTimeout: number
}

export interface NetworkTraffic {
  blocksFetched: number
  bytesFetched: number
}

/**
 * The engine's store on a running node: the local blockstore first, then
 * the network. A missing block is asked of connected peers (closest to the
 * id first, where replicas are placed), then of the providers the DHT
 * names. What arrives is verified by the protocol, kept as cache (unpinned,
 * so popular blocks spread and only unrequested ones are evicted) and
 * announced. Blocks written here are announced too.
 */
export class NetworkStore implements EngineStore {
  readonly #local: EngineStore
  readonly #init: NetworkStoreInit
  readonly #inFlight = new Map<BlockId, Promise<Uint8Array | undefined>>()
  readonly traffic: NetworkTraffic = { blocksFetched: 0, bytesFetched: 0 }

  constructor(init: NetworkStoreInit) {
    this.#init = init
    this.#local = blockstoreAdapter(init.blockstore)
  }

  has(id: BlockId): Promise<boolean> {
    return this.#local.has(id)
  }

  async get(id: BlockId, options: { signal?: AbortSignal; verify?: boolean } = {}): Promise<Uint8Array | undefined> {
    const local = await this.#local.get(id, options)
    if (local !== undefined) return local
    let pending = this.#inFlight.get(id)
    if (pending === undefined) {
      pending = this.#fetch(id).finally(() => this.#inFlight.delete(id))
      this.#inFlight.set(id, pending)
    } else {
      // Callers own what they get (the codec pool may transfer it away): a second asker gets a copy.
      pending = pending.then((bytes) => bytes?.slice())
    }
    return options.signal === undefined ? pending : raceAbort(pending, options.signal)
  }

  localFile(id: BlockId): StoredFile | undefined {
    return this.#local.localFile?.(id)
  }

  async put(id: BlockId, bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const added = await this.#local.put(id, bytes, options)
    if (added) this.#init.announcer.announce(id)
    return added
  }

  async pin(rootUrl: string, owner: string, options: { references?: Iterable<BlockId> } = {}): Promise<void> {
    await this.#local.pin(rootUrl, owner, options)
    this.#init.onPinned?.(rootUrl)
  }

  async unpin(rootUrl: string, owner: string): Promise<void> {
    await this.#local.unpin?.(rootUrl, owner)
  }

  /** The node owns the blockstore; closing the engine's view of it closes nothing. */
  async close(): Promise<void> {}

  async #fetch(id: BlockId): Promise<Uint8Array | undefined> {
    const { host, peers, blockstore, fetchTimeout } = this.#init
    const signal = AbortSignal.timeout(fetchTimeout)
    const holders = blockstore.replicasOf(id)
    const connected = await peers.blockPeers()
    // Recorded holders first, then the rest by XOR closeness (where replicas and caches go).
    const ordered = closestPeers(id, connected).sort(
      (a, b) => Number(holders.includes(b.toString())) - Number(holders.includes(a.toString())),
    )
    const bytes =
      (await this.#fetchFrom(id, ordered, signal)) ??
      (await this.#fetchFrom(
        id,
        (await findProviders(host, id, { signal })).filter((peer) => !ordered.some((tried) => tried.equals(peer))),
        signal,
      ))
    if (bytes === undefined) return undefined
    this.traffic.blocksFetched++
    this.traffic.bytesFetched += bytes.length
    try {
      if (await blockstore.putBlock(id, bytes)) this.#init.announcer.announce(id, 'copy')
    } catch (err) {
      // A full cache still serves the block it fetched; it just does not keep it.
      log('not caching %s: %s', id, (err as Error).message)
    }
    return bytes
  }

  async #fetchFrom(id: BlockId, peers: PeerId[], signal: AbortSignal): Promise<Uint8Array | undefined> {
    if (peers.length === 0 || signal.aborted) return undefined
    const blocks: BlockProtocol = this.#init.host.services.blocks
    try {
      for await (const block of blocks.fetch([id], { peers, signal })) return block.bytes
    } catch (err) {
      log('fetch %s from %d peer(s) failed: %s', id, peers.length, (err as Error).message)
    }
    return undefined
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortError())
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
