import { LEGACY_MAX_BLOCK_SIZE } from '@libernet/core'

/**
 * The protocol id. An incompatible change to the wire format gets a new
 * major version (`/libernet/block/2.0.0`); a node may serve several.
 */
export const BLOCK_PROTOCOL = '/libernet/block/1.0.0'

/** Largest frame body either side accepts: a whole block plus generous room for the envelope. */
export const MAX_FRAME_SIZE = 1_048_576 + 65_536

/** Largest block data a BLOCK or STORE frame may carry: the largest block the 2022 era wrote. */
export const MAX_BLOCK_DATA = LEGACY_MAX_BLOCK_SIZE

/** Most ids one WANT, HAVE or DONT_HAVE frame may list. */
export const MAX_IDS_PER_FRAME = 1024

/** Most entries a LIKE answer carries, whatever the request asks (the original caps it at 100 too). */
export const MAX_LIKE_RESULTS = 100

/** Bytes of a SHA-256 digest: how a block id travels. */
export const ID_BYTES = 32

/** Defaults of the limits a node applies; every one can be changed through the init options. */
export const DEFAULT_LIMITS = {
  /** Requests (wants, stores, likes) a peer may have queued or in progress at a server before its streams pause. */
  maxWantsPerPeer: 256,
  /** Bytes of STORE offers a peer may have queued or in progress at a server before its streams pause. */
  maxStoreBytesPerPeer: 16 * 1024 * 1024,
  /** Requests one server stream works on at once (store reads in parallel with sending). */
  serverConcurrency: 4,
  /** Bytes per second a server sends one peer; Infinity leaves the pace to the transport. */
  maxBytesPerSecondPerPeer: Number.POSITIVE_INFINITY,
  /** Inbound streams of this protocol open at once, over all peers. */
  maxInboundStreams: 256,
  /** Inbound streams of this protocol one connection may have open at once. */
  maxInboundStreamsPerConnection: 8,
  /** Outbound streams of this protocol one connection may have open at once. */
  maxOutboundStreamsPerConnection: 8,
  /** Milliseconds without any traffic after which a stream is closed. */
  streamIdleTimeout: 60_000,
  /** Wants a client keeps in flight per peer. */
  wantsPerPeer: 32,
  /** Milliseconds a client waits for one answer before moving the want to another peer. */
  wantTimeout: 15_000,
  /** Milliseconds to open a stream to a peer. */
  openTimeout: 10_000,
  /** Fault points after which a peer is disconnected and shunned. */
  faultThreshold: 3,
  /** Milliseconds a peer stays shunned after crossing the threshold. */
  banDuration: 10 * 60_000,
} as const

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number }
