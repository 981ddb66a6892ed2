export { ApiClient } from './api/client.ts'
export {
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  type BackupWarning,
  backup,
  createBackupProgress,
} from './backup/backup.ts'
export { compileExcludes, type ExcludeMatcher } from './backup/exclude.ts'
export { type PutOptions, type PutResult, putFile } from './backup/put.ts'
export { type WalkEntry, type WalkOptions, walk } from './backup/walk.ts'
export { type CheckOptions, type CheckResult, checkRepository, type SnapshotCheck } from './check.ts'
export { EXIT, type ExitCode } from './cli/exit-codes.ts'
export { type MainOptions, main } from './cli.ts'
export { type ContentContext, fileContents, loadPlaintext, openBundle } from './content.ts'
export { resolveDataDir } from './data-dir.ts'
export {
  DataDirectoryError,
  MissingBlocksError,
  NodeUnavailableError,
  NotADirectoryError,
  NotFoundError,
  RestoreConflictError,
} from './errors.ts'
export {
  type Gateway,
  type GatewayBackend,
  type GatewayOptions,
  type LikeAnswer,
  localGatewayBackend,
  startGateway,
} from './gateway/index.ts'
export { DEFAULT_CONFIG, loadConfig, type NodeConfig } from './host/config.ts'
export { LibernetNode, type StartNodeOptions } from './host/node.ts'
export { blockIdOfFile, type ImportOptions, type ImportResult, importBlocks } from './import.ts'
export { blockstoreAdapter, type OpenRepoOptions, openRepo, type Repo } from './repo.ts'
export {
  createRestoreProgress,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  type RestoreWarning,
  restore,
} from './restore/restore.ts'
export { type FolderHistory, SnapshotLog, type SnapshotRecord } from './snapshots.ts'
export type {
  DiscoveryMethod,
  NodeStatus,
  PeerStatus,
  ReplicationHealth,
  SnapshotStatus,
  StorageStatus,
  TrafficStatus,
} from './status.ts'
export type { EngineStore } from './store.ts'
