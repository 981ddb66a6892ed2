import { BLOCK_PROTOCOL } from '@libernet/protocol'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { KEEP_ALIVE, type PeerDiscovery, peerDiscoverySymbol } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { DiscoveryMethod } from '../status.ts'
import type { Host } from './libp2p.ts'

const log = logger('libernet:peers')

interface KnownPeer {
  discoveredBy: DiscoveryMethod
  /** When the peer was last connected, ms. */
  lastSeen: number
  latencyMs?: number
}

/**
 * Who this node knows and how it found them. Peers found by mDNS or given
 * as bootstrap addresses are dialed and kept connected (tagged keep-alive,
 * so libp2p redials them); DHT discoveries are dialed once.
 */
export class PeerBook {
  readonly #host: Host
  readonly #peers = new Map<string, KnownPeer>()
  readonly #now: () => number
  #pinger: ReturnType<typeof setInterval> | undefined

  constructor(host: Host, now: () => number = Date.now) {
    this.#host = host
    this.#now = now
  }

  start(): void {
    const { services } = this.#host
    services.mdns?.addEventListener('peer', (event) => this.#discovered(event.detail, 'mdns'))
    services.bootstrap?.addEventListener('peer', (event) => this.#discovered(event.detail, 'bootstrap'))
    // The DHT is a discovery source too: peers it meets in queries.
    const dht = (services.dht as unknown as Partial<Record<typeof peerDiscoverySymbol, PeerDiscovery>>)[
      peerDiscoverySymbol
    ]
    dht?.addEventListener('peer', (event) => this.#discovered(event.detail, 'dht'))
    this.#host.addEventListener('connection:open', (event) => {
      const peer = event.detail.remotePeer.toString()
      const known = this.#peers.get(peer)
      if (known === undefined) this.#peers.set(peer, { discoveredBy: 'inbound', lastSeen: this.#now() })
      else known.lastSeen = this.#now()
    })
    this.#host.addEventListener('peer:disconnect', (event) => {
      const known = this.#peers.get(event.detail.toString())
      if (known !== undefined) known.lastSeen = this.#now()
    })
    // Latency for the status page, and a liveness signal for replica holders.
    this.#pinger = setInterval(() => void this.#pingAll(), 15_000)
    this.#pinger.unref()
  }

  stop(): void {
    clearInterval(this.#pinger)
  }

  /** Peers connected now that speak the block protocol. */
  async blockPeers(): Promise<PeerId[]> {
    const peers: PeerId[] = []
    for (const peer of this.#host.getPeers()) {
      try {
        const stored = await this.#host.peerStore.get(peer)
        if (stored.protocols.includes(BLOCK_PROTOCOL)) peers.push(peer)
      } catch {
        // Not identified yet: not usable for blocks.
      }
    }
    return peers
  }

  /** Ids of the peers connected now (one snapshot, for checks over many blocks). */
  connected(): Set<string> {
    return new Set(this.#host.getPeers().map(String))
  }

  isConnected(peer: string): boolean {
    return this.#host.getPeers().some((id) => id.toString() === peer)
  }

  /** ms since the peer was last connected; 0 while it is; Infinity for a stranger. */
  absentFor(peer: string): number {
    if (this.isConnected(peer)) return 0
    const known = this.#peers.get(peer)
    return known === undefined ? Number.POSITIVE_INFINITY : this.#now() - known.lastSeen
  }

  describe(peer: string): { discoveredBy: DiscoveryMethod; latencyMs?: number } {
    const known = this.#peers.get(peer)
    return { discoveredBy: known?.discoveredBy ?? 'inbound', latencyMs: known?.latencyMs }
  }

  #discovered(info: PeerInfo, method: DiscoveryMethod): void {
    const key = info.id.toString()
    if (info.id.equals(this.#host.peerId)) return
    const known = this.#peers.get(key)
    // The first way a peer was found is the one shown; mDNS and bootstrap beat a later DHT sighting.
    if (known === undefined || (known.discoveredBy === 'inbound' && method !== 'dht')) {
      this.#peers.set(key, { discoveredBy: method, lastSeen: known?.lastSeen ?? 0 })
    }
    if (this.#host.getConnections(info.id).length > 0) return
    void this.#connect(info, method !== 'dht')
  }

  async #connect(info: PeerInfo, keepAlive: boolean): Promise<void> {
    try {
      if (keepAlive) {
        await this.#host.peerStore.merge(info.id, {
          multiaddrs: info.multiaddrs,
          tags: { [KEEP_ALIVE]: { value: 1 } },
        })
      }
      await this.#host.dial(info.multiaddrs.length > 0 ? info.multiaddrs : info.id, {
        signal: AbortSignal.timeout(10_000),
      })
    } catch (err) {
      log('dial %s failed: %s', info.id, (err as Error).message)
    }
  }

  async #pingAll(): Promise<void> {
    for (const peer of this.#host.getPeers()) {
      try {
        const latency = await this.#host.services.ping.ping(peer, { signal: AbortSignal.timeout(5_000) })
        const known = this.#peers.get(peer.toString())
        if (known !== undefined) {
          known.latencyMs = latency
          known.lastSeen = this.#now()
        }
      } catch {
        // An unanswered ping is not a disconnection; the connection manager decides that.
      }
    }
  }
}
