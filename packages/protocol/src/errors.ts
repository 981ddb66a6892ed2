import type { BlockId } from '@libernet/core'
import { LibernetError } from '@libernet/core'

/**
 * A frame that breaks the wire format: does not decode, exceeds the frame
 * limit, carries an id that is not 32 bytes, or is not a request (server) or
 * an answer (client). It ends the stream it arrived on, nothing more.
 */
export class ProtocolError extends LibernetError {
  static override readonly code: string = 'ERR_PROTOCOL'
}

/** A frame whose length prefix announces more than {@link MAX_FRAME_SIZE} bytes. */
export class FrameTooLargeError extends ProtocolError {
  static override readonly code = 'ERR_FRAME_TOO_LARGE'
}

/** A server limit was hit: too many streams, or a peer that keeps sending after being paused. */
export class LimitExceededError extends LibernetError {
  static override readonly code = 'ERR_LIMIT_EXCEEDED'
}

/** Blocks no given peer could supply (each was asked, or gave up, or proved hostile). */
export class BlockNotFoundError extends LibernetError {
  static override readonly code = 'ERR_BLOCK_NOT_FOUND'
  readonly ids: BlockId[]

  constructor(ids: BlockId[], options?: ErrorOptions) {
    const shown = ids.slice(0, 3).join(', ') + (ids.length > 3 ? `, ... (${ids.length} in all)` : '')
    super(`no peer supplied ${ids.length === 1 ? 'block' : 'blocks'} ${shown}`, options)
    this.ids = ids
  }
}

/** A peer that cannot be reached over this protocol, or whose stream ended with requests outstanding. */
export class PeerUnavailableError extends LibernetError {
  static override readonly code = 'ERR_PEER_UNAVAILABLE'
}

/** A request that got no answer in time. */
export class RequestTimeoutError extends LibernetError {
  static override readonly code = 'ERR_REQUEST_TIMEOUT'
}

/**
 * Thrown by a {@link BlockSource} whose quota has no room for a block; the
 * server answers the STORE with reason `quota`. An error from another store
 * whose `name` is `QuotaExceededError` (or `code` is `ERR_QUOTA_EXCEEDED`)
 * is treated the same way, so adapters may pass their own through.
 */
export class QuotaExceededError extends LibernetError {
  static override readonly code = 'ERR_QUOTA_EXCEEDED'
}
