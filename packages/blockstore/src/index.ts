export { type BlockFileTarget, BlockFileWriter, type WrittenBlock } from './block-files.ts'
export {
  type AbortOptions,
  type BlockInfo,
  type FsyncPolicy,
  type GcOptions,
  type GcResult,
  type GetBlockOptions,
  LibernetBlockstore,
  type LibernetBlockstoreOptions,
  type LikeMatch,
  type LikeOptions,
  type PinOptions,
  type PinResult,
  type PutBlockOptions,
  type RecoveryReport,
  type StoreStats,
  type VerifyReport,
} from './blockstore.ts'
export { collectBundleIds, type LoadBlock, parseRootUrl, type WalkOptions } from './bundle-walk.ts'
export {
  BlockPinnedError,
  CorruptBlockError,
  DiskFullError,
  QuotaExceededError,
  StoreClosedError,
  StoreLockedError,
} from './errors.ts'
export type { PinRoot } from './pins-file.ts'
