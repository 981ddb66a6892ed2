import { type BlockId, idToCid } from '@libernet/core'
import type { FsBlockstore } from 'blockstore-fs'
import { AccessLog } from './access-log.ts'
import { DirectorySyncer } from './atomic-write.ts'
import { asDiskFull } from './disk-full.ts'
import { StoreClosedError } from './errors.ts'
import { KeyedMutex } from './keyed-mutex.ts'
import type { StoreLayout } from './layout.ts'
import type { BlockRow, MetadataDb, Totals } from './metadata.ts'
import { DEFAULT_HALF_LIFE, type FsyncPolicy, type LibernetBlockstoreOptions } from './options.ts'

/**
 * Everything the store's modules share: where things are, the metadata, the
 * per-block locks and the running totals. The write path, read path, pins,
 * eviction and recovery are functions of this state; `LibernetBlockstore`
 * is the facade that orders them.
 */
export class StoreState {
  readonly layout: StoreLayout
  #files: Promise<FsBlockstore> | undefined
  /** Replaced when a damaged database is rebuilt. */
  db: MetadataDb
  readonly quota: number
  readonly halfLife: number
  readonly now: () => number
  readonly fsync: FsyncPolicy
  readonly concurrency: number
  readonly mutex = new KeyedMutex()
  readonly dirs = new DirectorySyncer()
  readonly access: AccessLog
  /**
   * Blocks renamed into place without an fsync since open (policy 'pinned'),
   * each with the sequence number of its write: a whole-file-system sync
   * covers exactly the writes numbered before it started.
   */
  readonly unsynced = new Map<BlockId, number>()
  writes = 0
  totals: Totals = { blocks: 0, bytes: 0, pinnedBlocks: 0, pinnedBytes: 0 }
  /** Bytes of unpinned puts between their room being made and their row being written. */
  reserved = 0
  /** Numbers quarantined files, so two of one block never collide. */
  quarantined = 0
  closed = false
  /** Block file writers stopped mid-work (see `abandonBlockFiles`): closing leaves the shutdown unclean. */
  blockFilesAbandoned = false

  constructor(options: LibernetBlockstoreOptions, layout: StoreLayout, db: MetadataDb) {
    this.layout = layout
    this.db = db
    this.quota = options.quota ?? Number.POSITIVE_INFINITY
    this.halfLife = options.halfLife ?? DEFAULT_HALF_LIFE
    this.now = options.now ?? Date.now
    this.fsync = options.fsync ?? 'pinned'
    this.concurrency = options.concurrency ?? 8
    this.access = new AccessLog(
      (updates) => {
        try {
          this.db.applyAccesses(updates, this.halfLife)
        } catch {
          // Request counts are soft state; losing one batch (say, on a full disk) only blurs popularity.
        }
      },
      { maxPending: options.maxPendingAccesses ?? 4096, halfLife: this.halfLife },
    )
  }

  assertOpen(): void {
    if (this.closed) throw new StoreClosedError('the block store is closed')
  }

  /** A metadata transaction; running out of space is a DiskFullError like any other. */
  write<T>(work: () => T): T {
    try {
      return this.db.transaction(work)
    } catch (err) {
      throw asDiskFull(err) ?? err
    }
  }

  countRow(row: { size: number; pinned: boolean }, sign: 1 | -1): void {
    this.totals.blocks += sign
    this.totals.bytes += sign * row.size
    if (row.pinned) {
      this.totals.pinnedBlocks += sign
      this.totals.pinnedBytes += sign * row.size
    }
  }

  /** Accounts for a row just deleted: totals, pending request counts, pending fsyncs. */
  forgetRow(id: BlockId, row: BlockRow): void {
    this.countRow(row, -1)
    this.access.discard(id)
    this.unsynced.delete(id)
  }

  /** Bytes of unpinned blocks: what counts against the quota. */
  cachedBytes(): number {
    return this.totals.bytes - this.totals.pinnedBytes
  }

  /**
   * blockstore-fs over the blocks directory, for listing and deleting files.
   * Loaded on first use: its module graph (a glob library) is most of what
   * a command that only reads and writes blocks would otherwise load.
   */
  files(): Promise<FsBlockstore> {
    this.#files ??= import('blockstore-fs').then(async ({ FsBlockstore }) => {
      const files = new FsBlockstore(this.layout.blocks)
      await files.open()
      return files
    })
    return this.#files
  }

  /** Removes a block's file (its row is the caller's business). */
  async removeFile(id: BlockId): Promise<void> {
    await (await this.files()).delete(idToCid(id))
    this.unsynced.delete(id)
  }
}
