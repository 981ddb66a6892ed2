/**
 * @libernet/protocol: the /libernet/block/1.0.0 block exchange.
 *
 * - {@link blockProtocol}: the libp2p service (server + client in one).
 * - {@link BlockServer}, {@link BlockClient}: the two halves, usable alone.
 * - {@link BlockSource}: what the server needs from storage.
 * - {@link encodeFrame}, {@link decodeMessage}, {@link FrameDecoder}: the wire codec.
 */
export { PeerChannel, type PeerChannelInit, type Pending, type StreamOpener, type WantAnswer } from './channel.ts'
export {
  BlockClient,
  type BlockClientInit,
  type ClientLimits,
  type ClientStats,
  type FetchedBlock,
  type FetchOptions,
  type RequestOptions,
} from './client.ts'
export { decodeMessage, encodeFrame, encodeMessage, FrameDecoder, type Message, type MessageType } from './codec.ts'
export {
  BLOCK_PROTOCOL,
  DEFAULT_LIMITS,
  ID_BYTES,
  type Limits,
  MAX_BLOCK_DATA,
  MAX_FRAME_SIZE,
  MAX_IDS_PER_FRAME,
  MAX_LIKE_RESULTS,
} from './constants.ts'
export {
  BlockNotFoundError,
  FrameTooLargeError,
  LimitExceededError,
  PeerUnavailableError,
  ProtocolError,
  QuotaExceededError,
  RequestTimeoutError,
} from './errors.ts'
export { ByteRateLimiter } from './rate-limiter.ts'
export { FAULT_WEIGHTS, type Fault, PeerScores, type PeerScoresInit } from './scores.ts'
export {
  BlockServer,
  type BlockServerInit,
  type RemotePeer,
  type ServerLimits,
  type ServerStats,
} from './server.ts'
export {
  BlockProtocol,
  type BlockProtocolComponents,
  type BlockProtocolInit,
  blockProtocol,
} from './service.ts'
export {
  type BlockSource,
  type LikeMatch,
  type LikeQuery,
  REFUSAL_REASONS,
  type RefusalReason,
  type SourceOptions,
  type StoreOutcome,
} from './store.ts'
export { type BlockVerifier, verifyBlock } from './verify.ts'
