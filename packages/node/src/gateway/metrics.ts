import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { NodeStatus } from '../status.ts'

/** What a request was, for the latency histogram and request counts. */
export type RouteKind =
  | 'status'
  | 'metrics'
  | 'block'
  | 'content'
  | 'listing'
  | 'file'
  | 'like'
  | 'put'
  | 'redirect'
  | 'other'

/** Node traffic since it started; gauges because the node, not this registry, keeps the counts. */
const TRAFFIC: Array<[keyof NodeStatus['traffic'], string, string]> = [
  ['blocksServed', 'blocks_served', 'Blocks the node sent to peers'],
  ['bytesServed', 'bytes_out', 'Block bytes the node sent to peers'],
  ['blocksFetched', 'blocks_fetched', 'Blocks the node fetched from peers'],
  ['bytesFetched', 'bytes_in', 'Block bytes the node fetched from peers'],
  ['blocksReplicated', 'blocks_replicated', 'Blocks the node pushed to peers as replicas'],
  ['bytesReplicated', 'bytes_replicated', 'Block bytes the node pushed to peers as replicas'],
]

/**
 * The gateway's Prometheus metrics, in a registry of its own (two gateways in
 * one process, as in tests, never share counters). Node-wide figures are
 * read from `backend.status()` once per scrape; the gateway counts its own
 * requests, latencies and bytes.
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  readonly #requests: Counter<'kind' | 'code'>
  readonly #latency: Histogram<'kind'>
  readonly #bytesSent: Counter
  readonly #bytesReceived: Counter
  readonly #blocksRead: Counter
  readonly #blockBytesRead: Counter
  readonly #traffic: Map<keyof NodeStatus['traffic'], Gauge>
  readonly #peers: Gauge<'discovered_by'>
  readonly #storage: Gauge<'kind'>
  readonly #snapshots: Gauge

  constructor() {
    const registers = [this.registry]
    this.#requests = new Counter({
      name: 'libernet_gateway_requests_total',
      help: 'HTTP requests answered by the gateway, by route kind and status code',
      labelNames: ['kind', 'code'],
      registers,
    })
    this.#latency = new Histogram({
      name: 'libernet_gateway_request_duration_seconds',
      help: 'Time from request to the last byte of the answer, by route kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.#bytesSent = new Counter({
      name: 'libernet_gateway_sent_bytes_total',
      help: 'Content bytes the gateway sent to HTTP clients',
      registers,
    })
    this.#bytesReceived = new Counter({
      name: 'libernet_gateway_received_bytes_total',
      help: 'Block bytes HTTP clients stored through PUT',
      registers,
    })
    this.#blocksRead = new Counter({
      name: 'libernet_gateway_blocks_read_total',
      help: 'Blocks the gateway read (locally or from the network) to answer requests',
      registers,
    })
    this.#blockBytesRead = new Counter({
      name: 'libernet_gateway_block_read_bytes_total',
      help: 'Stored bytes of the blocks the gateway read',
      registers,
    })
    this.#traffic = new Map(
      TRAFFIC.map(([key, name, help]) => [key, new Gauge({ name: `libernet_node_${name}`, help, registers })]),
    )
    this.#peers = new Gauge({
      name: 'libernet_peers',
      help: 'Connected peers, by how they were found',
      labelNames: ['discovered_by'],
      registers,
    })
    this.#storage = new Gauge({
      name: 'libernet_store',
      help: 'Block store: used_bytes, pinned_bytes, quota_bytes (absent when unbounded), blocks',
      labelNames: ['kind'],
      registers,
    })
    this.#snapshots = new Gauge({
      name: 'libernet_snapshots',
      help: 'Pinned snapshots of the owner',
      registers,
    })
  }

  observeRequest(kind: RouteKind, code: number, seconds: number): void {
    this.#requests.inc({ kind, code: String(code) })
    this.#latency.observe({ kind }, seconds)
  }

  addBytesSent(bytes: number): void {
    this.#bytesSent.inc(bytes)
  }

  addBytesReceived(bytes: number): void {
    this.#bytesReceived.inc(bytes)
  }

  addBlockRead(bytes: number): void {
    this.#blocksRead.inc()
    this.#blockBytesRead.inc(bytes)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The Prometheus text, with the node's figures taken from `status`. */
  async render(status: NodeStatus): Promise<string> {
    const { traffic, storage } = status
    for (const [key, gauge] of this.#traffic) gauge.set(traffic[key])
    this.#peers.reset()
    for (const method of ['mdns', 'dht', 'bootstrap', 'inbound'] as const) {
      this.#peers.set({ discovered_by: method }, status.peers.filter((peer) => peer.discoveredBy === method).length)
    }
    this.#storage.reset()
    this.#storage.set({ kind: 'used_bytes' }, storage.usedBytes)
    this.#storage.set({ kind: 'pinned_bytes' }, storage.pinnedBytes)
    this.#storage.set({ kind: 'blocks' }, storage.blocks)
    if (storage.quotaBytes !== null) this.#storage.set({ kind: 'quota_bytes' }, storage.quotaBytes)
    this.#snapshots.set(status.snapshots.length)
    return this.registry.metrics()
  }
}
