import type { BlockId } from '@libernet/core'
import type { AbortOptions, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import { BlockClient, type FetchedBlock, type FetchOptions, type RequestOptions } from './client.ts'
import { BLOCK_PROTOCOL, DEFAULT_LIMITS, type Limits } from './constants.ts'
import { PeerScores } from './scores.ts'
import { BlockServer } from './server.ts'
import type { BlockSource, LikeMatch, StoreOutcome } from './store.ts'
import type { BlockVerifier } from './verify.ts'

/** The libp2p components the service uses (a libp2p node passes its own). */
export interface BlockProtocolComponents {
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  connectionManager: {
    openStream(
      peer: PeerId,
      protocol: string,
      options?: AbortOptions & { runOnLimitedConnection?: boolean },
    ): Promise<Stream>
    closeConnections(peer: PeerId, options?: AbortOptions): Promise<void>
  }
}

export interface BlockProtocolInit {
  /** Where served blocks come from and offered blocks go. */
  source: BlockSource
  /** Checks received and offered blocks; default core's stored-block check. */
  verify?: BlockVerifier
  limits?: Partial<Limits>
}

/**
 * The /libernet/block/1.0.0 libp2p service: serves `source` to peers and
 * fetches from them. Peers that send bad blocks or broken frames gather
 * faults; past the threshold they are disconnected and shunned both ways.
 */
export class BlockProtocol implements Startable {
  readonly [Symbol.toStringTag] = '@libernet/protocol'
  readonly protocol = BLOCK_PROTOCOL
  readonly scores: PeerScores
  readonly server: BlockServer
  readonly client: BlockClient
  readonly limits: Limits
  readonly #components: BlockProtocolComponents
  #started = false

  constructor(components: BlockProtocolComponents, init: BlockProtocolInit) {
    this.#components = components
    this.limits = { ...DEFAULT_LIMITS, ...init.limits }
    this.scores = new PeerScores({
      faultThreshold: this.limits.faultThreshold,
      banDuration: this.limits.banDuration,
      onBan: (peer) => {
        components.connectionManager.closeConnections(peer).catch(() => {})
      },
    })
    this.server = new BlockServer({
      source: init.source,
      verify: init.verify,
      scores: this.scores,
      limits: this.limits,
    })
    this.client = new BlockClient({
      verify: init.verify,
      scores: this.scores,
      limits: this.limits,
      open: (peer, options) =>
        components.connectionManager.openStream(peer, BLOCK_PROTOCOL, { ...options, runOnLimitedConnection: false }),
    })
  }

  async start(): Promise<void> {
    await this.#components.registrar.handle(BLOCK_PROTOCOL, this.server.handleStream, {
      maxInboundStreams: this.limits.maxInboundStreamsPerConnection,
      maxOutboundStreams: this.limits.maxOutboundStreamsPerConnection,
      runOnLimitedConnection: false,
    })
    this.#started = true
  }

  async stop(): Promise<void> {
    this.#started = false
    await this.#components.registrar.unhandle(BLOCK_PROTOCOL)
    this.client.close()
    this.server.close()
  }

  isStarted(): boolean {
    return this.#started
  }

  /** See {@link BlockClient.fetch}. */
  fetch(ids: Iterable<BlockId>, options: FetchOptions): AsyncGenerator<FetchedBlock, void, undefined> {
    return this.client.fetch(ids, options)
  }

  /** See {@link BlockClient.get}. */
  get(id: BlockId, options: FetchOptions): Promise<Uint8Array> {
    return this.client.get(id, options)
  }

  /** See {@link BlockClient.has}. */
  has(peer: PeerId, ids: Iterable<BlockId>, options?: RequestOptions): Promise<Set<BlockId>> {
    return this.client.has(peer, ids, options)
  }

  /** See {@link BlockClient.store}. */
  store(peer: PeerId, id: BlockId, bytes: Uint8Array, options?: RequestOptions): Promise<StoreOutcome> {
    return this.client.store(peer, id, bytes, options)
  }

  /** See {@link BlockClient.like}. */
  like(
    peer: PeerId,
    target: BlockId,
    query?: { minScore?: number; maxResults?: number },
    options?: RequestOptions,
  ): Promise<LikeMatch[]> {
    return this.client.like(peer, target, query, options)
  }
}

/**
 * libp2p service factory:
 * `createLibp2p({ services: { blocks: blockProtocol({ source }) } })`.
 */
export function blockProtocol(init: BlockProtocolInit): (components: BlockProtocolComponents) => BlockProtocol {
  return (components) => new BlockProtocol(components, init)
}
