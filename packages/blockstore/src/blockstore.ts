import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type BlockId,
  BlockTooLargeError,
  idToCid,
  isValidStoredBlock,
  LEGACY_MAX_BLOCK_SIZE,
  parseBlockId,
  throwIfAborted,
  verifyStoredBlock,
} from '@libernet/core'
import { FsBlockstore } from 'blockstore-fs'
import type { Blockstore, InputPair, Pair } from 'interface-blockstore'
import { NotFoundError } from 'interface-store'
import type { CID } from 'multiformats/cid'
import { AccessLog } from './access-log.ts'
import { DirectorySyncer, syncDirectory, writeFileAtomic } from './atomic-write.ts'
import { collectBundleIds } from './bundle-walk.ts'
import { collectBlockBytes } from './bytes.ts'
import { idOfCid } from './cid.ts'
import {
  BlockPinnedError,
  CorruptBlockError,
  DiskFullError,
  QuotaExceededError,
  StoreClosedError,
  StoreLockedError,
} from './errors.ts'
import { addRequests, requestsAt } from './heat.ts'
import { KeyedMutex } from './keyed-mutex.ts'
import { StoreLayout } from './layout.ts'
import { queryLike } from './like-index.ts'
import { acquireLock } from './lock.ts'
import {
  type BlockRow,
  isDamagedMetadata,
  MetadataDb,
  SQLITE_BUSY,
  SQLITE_FULL,
  SQLITE_LOCKED,
  STAGING_URL,
  sqliteResultCode,
  type Totals,
} from './metadata.ts'
import { orderedParallel } from './ordered-parallel.ts'
import { type PinRoot, readPinsFile, writePinsFile } from './pins-file.ts'
import { syncFileSystem } from './sync-fs.ts'

/** Pending files from which one whole-file-system sync beats an fsync each. */
const WHOLE_FS_SYNC_THRESHOLD = 64

/**
 * When block data is fsynced before it becomes visible:
 *
 * - `'pinned'` (default): the owner's blocks (put with `pinnedBy`, or already
 *   pinned) are fsynced before the rename, and `pin()` makes any block of the
 *   root that was written without it durable before recording the pin (an
 *   fsync each, or past a few dozen one syncfs(2) of the store's file system,
 *   which gives the same guarantee for everything written before it). Blocks kept
 *   for others are renamed into place without an fsync: a process crash
 *   (SIGKILL) loses nothing either way, because the page cache survives it;
 *   a power cut may lose or truncate such a block, which costs only a
 *   re-fetch, since every read is verified and a bad file is quarantined
 *   instead of served. This keeps the write path near raw disk speed for
 *   replication traffic while the owner's backups are durable.
 * - `'always'`: every block is fsynced before its rename.
 *
 * In both, directory entries are fsynced in batches (every `flushInterval`,
 * and before `pin()`, `sync()` and `close()` return), and writes are atomic:
 * temp file, then rename, so no partial block is ever visible.
 */
export type FsyncPolicy = 'pinned' | 'always'

export interface LibernetBlockstoreOptions {
  /** The store's directory (created if missing). */
  path: string
  /** Bytes the node keeps for others (unpinned blocks). Default: unlimited. */
  quota?: number
  /** Half-life of request counts, ms. Default 7 days. */
  halfLife?: number
  /** Clock, ms since the POSIX epoch. Default `Date.now`. */
  now?: () => number
  fsync?: FsyncPolicy
  /** How often batched request counts and directory syncs are flushed, ms. Default 1000. */
  flushInterval?: number
  /** Flush request counts once this many distinct blocks are pending. Default 4096. */
  maxPendingAccesses?: number
  /** Blocks in flight in `putMany`/`getMany`/`deleteMany`. Default 8. */
  concurrency?: number
}

export interface AbortOptions {
  signal?: AbortSignal
}

export interface GetBlockOptions extends AbortOptions {
  /** false: skip hashing the bytes, for a caller that verifies them itself (default true). */
  verify?: boolean
}

export interface PutBlockOptions extends AbortOptions {
  /**
   * Pin the block to this owner at once, before the backup root that will
   * reference it exists, so it can never be evicted mid-backup. Such staged
   * pins are released when the owner pins a root (which then holds whatever
   * it references) or by {@link LibernetBlockstore.unpinStaged}.
   */
  pinnedBy?: string
}

export interface LikeOptions {
  /** At most this many matches (default 100, at most 10,000). */
  limit?: number
  /** Only ids sharing at least this many leading bits with the target (default 0). */
  minScore?: number
}

export interface LikeMatch {
  id: BlockId
  size: number
  /** Leading bits shared with the target, 0..256. */
  score: number
}

export interface BlockInfo {
  id: BlockId
  size: number
  pinned: boolean
  /** Owners whose roots (or staged puts) pin the block. */
  pinnedBy: string[]
  /** Request count decayed to now. */
  requests: number
  lastAccess: number
  addedAt: number
}

export interface StoreStats {
  blocks: number
  bytes: number
  pinnedBlocks: number
  pinnedBytes: number
  /** Unpinned blocks: what is kept for others and counts against the quota. */
  cachedBlocks: number
  cachedBytes: number
  quota: number
  pinRoots: number
}

export interface PinOptions extends AbortOptions {
  /** Also pin the earlier snapshots named by `prior`, all the way back. */
  followPrior?: boolean
}

export interface PinResult {
  owner: string
  url: string
  /** Blocks the root references (bundles and parts). */
  blocks: number
  /** Of those, how many are in this store now. */
  present: number
}

export interface GcOptions extends AbortOptions {
  /** Evict unpinned blocks, least requested first, until they take at most this many bytes. Default: the quota. */
  target?: number
}

export interface GcResult {
  removed: number
  bytes: number
}

export interface VerifyReport {
  /** Files read and hashed. */
  checked: number
  bytes: number
  /** Ids whose files did not match; moved to the quarantine directory and forgotten. */
  corrupt: BlockId[]
  /** Valid files that had no metadata. */
  added: number
  /** Metadata rows whose file was missing. */
  removed: number
  /** Rows whose recorded size was wrong. */
  resized: number
  /** The database failed its integrity check and was rebuilt from the blocks. */
  metadataRebuilt: boolean
}

/** What `open` found and repaired. */
export interface RecoveryReport {
  /** `created`: new store; `clean`: closed properly; `unclean`: reconciled after a crash; `rebuilt`: metadata was lost or corrupt. */
  state: 'created' | 'clean' | 'unclean' | 'rebuilt'
  reason?: string
  tempFilesRemoved: number
  /** Valid blocks found without metadata and indexed. */
  added: number
  /** Metadata rows dropped because their file was gone. */
  removed: number
  quarantined: BlockId[]
  /** Pin roots re-walked from pins.json. */
  rootsRewalked: number
  /** Roots that could not be walked completely (a bundle block is missing or unreadable). */
  unresolvedRoots: string[]
}

const DAY = 86_400_000
const DEFAULT_HALF_LIFE = 7 * DAY
const MAX_LIKE_LIMIT = 10_000
const PAGE = 512

/**
 * A durable, verified, quota-bounded block store (DESIGN §3): blocks in a
 * blockstore-fs layout keyed by CID, metadata in SQLite.
 *
 * It implements interface-blockstore's `Blockstore` (CID keys, streams of
 * chunks, AbortSignal), so libp2p/Helia components can use it directly, and
 * offers the same operations keyed by Libernet block ids, plus pins, the like
 * index, replicas, quota, gc and an integrity scan.
 *
 * Invariants: a block file is only ever visible complete (temp + rename); a
 * metadata row exists only for a file already renamed into place; nothing is
 * returned that does not hash to its id. After a crash the open-time
 * reconcile restores "row ⇔ valid file".
 *
 * Reads are one positional read of the size the metadata records rather
 * than blockstore-fs's chunked read stream: a block must be whole and
 * checked before any of it is returned.
 * Writes go through our own temp-file writer rather than blockstore-fs's
 * (steno), which never fsyncs and gives concurrent writers of one block the
 * same temp file; the hash check runs while the bytes are being written.
 * Listing and deleting files use blockstore-fs itself, and the directory
 * layout is exactly its own.
 */
export class LibernetBlockstore implements Blockstore {
  readonly path: string
  readonly quota: number
  readonly halfLife: number
  /** What opening the store found and repaired. */
  recovery: RecoveryReport

  readonly #layout: StoreLayout
  readonly #files: FsBlockstore
  #db: MetadataDb
  readonly #now: () => number
  readonly #fsync: FsyncPolicy
  readonly #concurrency: number
  readonly #mutex = new KeyedMutex()
  readonly #dirs = new DirectorySyncer()
  readonly #access: AccessLog
  /**
   * Blocks renamed into place without an fsync since open (policy 'pinned'),
   * each with the sequence number of its write: a whole-file-system sync
   * covers exactly the writes numbered before it started.
   */
  readonly #unsynced = new Map<BlockId, number>()
  #writes = 0
  readonly #operations = new Set<Promise<unknown>>()
  /** Shard directories known to exist (blockstore-fs never removes them). */
  readonly #shards = new Set<string>()
  readonly #releaseLock: () => Promise<void>
  #totals: Totals = { blocks: 0, bytes: 0, pinnedBlocks: 0, pinnedBytes: 0 }
  /** Bytes of unpinned puts between their room being made and their row being written. */
  #reserved = 0
  #timer: NodeJS.Timeout | undefined
  #quarantined = 0
  #closed = false

  /** Opens (creating or repairing as needed) the store at `options.path`. */
  static async open(options: LibernetBlockstoreOptions): Promise<LibernetBlockstore> {
    checkOptions(options)
    const layout = new StoreLayout(options.path)
    await mkdir(layout.root, { recursive: true })
    const files = new FsBlockstore(layout.blocks)
    await files.open()
    await Promise.all([mkdir(layout.tmp, { recursive: true }), mkdir(layout.quarantine, { recursive: true })])
    const releaseLock = await acquireLock(layout.lockFile, layout.root)
    let db: MetadataDb | undefined
    try {
      const existed = await exists(layout.database)
      let reason: string | undefined
      try {
        db = new MetadataDb(layout.database)
        if (!db.quickCheck()) {
          db.close()
          db = undefined
          reason = 'metadata failed its integrity check'
        }
      } catch (err) {
        const code = sqliteResultCode(err)
        if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
          throw new StoreLockedError(`the metadata of ${layout.root} is locked by another process`, { cause: err })
        }
        if (!isDamagedMetadata(err)) throw err
        reason = `metadata unreadable: ${(err as Error).message}`
      }
      if (db === undefined) {
        await setAside(layout.database)
        db = new MetadataDb(layout.database)
      }
      const store = new LibernetBlockstore(options, layout, files, db, releaseLock)
      try {
        await store.#recover(existed, reason)
      } catch (err) {
        clearInterval(store.#timer)
        throw err
      }
      return store
    } catch (err) {
      db?.close()
      await releaseLock()
      throw err
    }
  }

  private constructor(
    options: LibernetBlockstoreOptions,
    layout: StoreLayout,
    files: FsBlockstore,
    db: MetadataDb,
    releaseLock: () => Promise<void>,
  ) {
    this.path = layout.root
    this.quota = options.quota ?? Number.POSITIVE_INFINITY
    this.halfLife = options.halfLife ?? DEFAULT_HALF_LIFE
    this.#layout = layout
    this.#files = files
    this.#db = db
    this.#now = options.now ?? Date.now
    this.#fsync = options.fsync ?? 'pinned'
    this.#concurrency = options.concurrency ?? 8
    this.#releaseLock = releaseLock
    this.#access = new AccessLog(
      (updates) => {
        try {
          this.#db.applyAccesses(updates, this.halfLife)
        } catch {
          // Request counts are soft state; losing one batch (say, on a full disk) only blurs popularity.
        }
      },
      { maxPending: options.maxPendingAccesses ?? 4096, halfLife: this.halfLife },
    )
    this.recovery = emptyRecovery('clean')
    const interval = options.flushInterval ?? 1000
    this.#timer = setInterval(() => {
      this.#access.flush()
      this.#dirs.sync().catch(() => {})
    }, interval)
    this.#timer.unref()
  }

  // ------------------------------------------------------------ block API

  /**
   * Stores a block after checking that `bytes` are the block `id` names
   * (BlockVerificationError / BlockTooLargeError otherwise, nothing written).
   * Returns false when the block was already there. Unpinned blocks count
   * against the quota: least-requested unpinned blocks are evicted to make
   * room, and a block that cannot fit even then is a QuotaExceededError.
   * A full disk is a DiskFullError; in every failure nothing of the block is
   * visible and the metadata is unchanged.
   */
  async putBlock(id: BlockId, bytes: Uint8Array, options: PutBlockOptions = {}): Promise<boolean> {
    this.#assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    if (options.pinnedBy !== undefined) assertOwner(options.pinnedBy)
    if (bytes.byteLength > LEGACY_MAX_BLOCK_SIZE) {
      throw new BlockTooLargeError(`a stored block has at most ${LEGACY_MAX_BLOCK_SIZE} bytes, not ${bytes.byteLength}`)
    }
    return this.#track(this.#mutex.run(id, () => this.#put(id, bytes, options)))
  }

  /**
   * The block's stored bytes, verified against its id. Missing: NotFoundError;
   * corrupt on disk: CorruptBlockError (and quarantined). With `verify: false`
   * the bytes are returned unchecked, for a caller that verifies them anyway
   * (decoding checks sha256(stored) against the id): such a caller must not
   * use bytes that fail its check, and reads the block again verified so a
   * corrupt file is quarantined and reported.
   */
  async getBlock(id: BlockId, options: GetBlockOptions = {}): Promise<Uint8Array> {
    this.#assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    const bytes = options.verify === false ? await this.#readUnverified(id) : await this.#readVerified(id)
    this.#access.record(id, toKey(id), this.#now())
    return bytes
  }

  hasBlock(id: BlockId): boolean {
    this.#assertOpen()
    return this.#db.hasBlock(toKey(parseBlockId(id)))
  }

  /** Removes a block; pinned blocks are refused (BlockPinnedError). Missing blocks are not an error. */
  async deleteBlock(id: BlockId, options: AbortOptions = {}): Promise<void> {
    this.#assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    await this.#track(
      this.#mutex.run(id, async () => {
        const key = toKey(id)
        const row = this.#db.getBlock(key)
        if (row?.pinned === true)
          throw new BlockPinnedError(`block ${id} is pinned by ${this.#db.pinOwners(key).join(', ')}`)
        // The file goes first: on a full disk that frees the room the metadata update may need.
        await this.#removeFile(id)
        if (row !== undefined) {
          this.#write(() => this.#db.deleteBlock(key))
          this.#forgetRow(id, row)
        }
      }),
    )
  }

  blockInfo(id: BlockId): BlockInfo | undefined {
    this.#assertOpen()
    const key = toKey(parseBlockId(id))
    this.#access.flush()
    const row = this.#db.getBlock(key)
    if (row === undefined) return undefined
    return {
      id,
      size: row.size,
      pinned: row.pinned,
      pinnedBy: this.#db.pinOwners(key),
      requests: requestsAt(row.heat, this.#now(), this.halfLife),
      lastAccess: row.lastAccess,
      addedAt: row.addedAt,
    }
  }

  /**
   * The stored blocks whose ids share the most leading bits with `target`,
   * best first, ties by smaller id: two indexed range scans, not a scan of the store.
   */
  like(target: BlockId, options: LikeOptions = {}): LikeMatch[] {
    this.#assertOpen()
    const limit = options.limit ?? 100
    const minScore = options.minScore ?? 0
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIKE_LIMIT) {
      throw new RangeError(`limit must be an integer from 0 to ${MAX_LIKE_LIMIT}, got ${limit}`)
    }
    if (!Number.isInteger(minScore) || minScore < 0 || minScore > 256) {
      throw new RangeError(`minScore must be an integer from 0 to 256, got ${minScore}`)
    }
    return queryLike(this.#db, toKey(parseBlockId(target)), limit, minScore).map((entry) => ({
      id: toId(entry.id),
      size: entry.size,
      score: entry.score,
    }))
  }

  // ----------------------------------------------------------------- pins

  /**
   * Pins a backup root for `owner`: walks the bundle, its sub-bundles and
   * every part, and pins all of them (whether present yet or not). The root
   * is recorded durably in pins.json first, then in the database, so a lost
   * database is rebuilt with its pins. Bundle blocks must be present;
   * otherwise NotFoundError and nothing is pinned. Staged pins of `owner`
   * (see `pinnedBy`) are released: the root now holds what it references.
   */
  async pin(rootUrl: string, owner: string, options: PinOptions = {}): Promise<PinResult> {
    this.#assertOpen()
    assertOwner(owner)
    return this.#track(
      this.#mutex.run('\0pins', async () => {
        const ids = await collectBundleIds(rootUrl, (id) => this.#readVerified(id), options)
        throwIfAborted(options.signal)
        await this.#makeDurable(ids)
        const now = this.#now()
        const before = this.#pinRoots()
        const known = before.some((root) => root.owner === owner && root.url === rootUrl)
        const keys = [...ids].map(toKey)
        await this.#updateRoots(known ? before : [...before, { owner, url: rootUrl, pinnedAt: now }], before, () => {
          const root = this.#db.ensureRoot(owner, rootUrl, now)
          this.#db.addPins(root.rid, keys)
          const staging = this.#db.findRoot(owner, STAGING_URL)
          if (staging !== undefined) this.#db.removeRoot(staging.rid)
        })
        this.#totals = this.#db.totals()
        await this.#evictTo(this.quota)
        return { owner, url: rootUrl, blocks: ids.size, present: keys.filter((key) => this.#db.hasBlock(key)).length }
      }),
    )
  }

  /** Releases a root's pins; blocks no other root pins become evictable cache. Returns how many pins were released. */
  async unpin(rootUrl: string, owner: string): Promise<number> {
    this.#assertOpen()
    assertOwner(owner)
    return this.#track(
      this.#mutex.run('\0pins', async () => {
        const root = this.#db.findRoot(owner, rootUrl)
        if (root === undefined) return 0
        const before = this.#pinRoots()
        const after = before.filter((r) => !(r.owner === owner && r.url === rootUrl))
        const released = await this.#updateRoots(after, before, () => this.#db.removeRoot(root.rid))
        this.#totals = this.#db.totals()
        await this.#evictTo(this.quota)
        return released
      }),
    )
  }

  /** Releases the pins an owner staged with `putBlock(…, { pinnedBy })` (an abandoned backup). */
  async unpinStaged(owner: string): Promise<number> {
    return this.unpin(STAGING_URL, owner)
  }

  /** The pinned backup roots. */
  pins(): PinRoot[] {
    this.#assertOpen()
    return this.#pinRoots()
  }

  // ------------------------------------------------------------- replicas

  /** Notes that `peerId` holds a replica of `id` (seen at `seenAt`, default now). */
  recordReplica(id: BlockId, peerId: string, seenAt: number = this.#now()): void {
    this.#assertOpen()
    this.#write(() => this.#db.recordReplica(toKey(parseBlockId(id)), peerId, seenAt))
  }

  forgetReplica(id: BlockId, peerId: string): boolean {
    this.#assertOpen()
    return this.#write(() => this.#db.forgetReplica(toKey(parseBlockId(id)), peerId))
  }

  /** Peers known to hold `id`, most recently seen first. */
  replicasOf(id: BlockId): string[] {
    this.#assertOpen()
    return this.#db.replicasOf(toKey(parseBlockId(id))).map((replica) => replica.peer)
  }

  // ---------------------------------------------------------- maintenance

  stats(): StoreStats {
    this.#assertOpen()
    const { blocks, bytes, pinnedBlocks, pinnedBytes } = this.#totals
    return {
      blocks,
      bytes,
      pinnedBlocks,
      pinnedBytes,
      cachedBlocks: blocks - pinnedBlocks,
      cachedBytes: bytes - pinnedBytes,
      quota: this.quota,
      pinRoots: this.#pinRoots().length,
    }
  }

  /** Evicts unpinned blocks, least requested first, until they fit in `target` bytes (default: the quota). */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    this.#assertOpen()
    throwIfAborted(options.signal)
    const target = options.target ?? this.quota
    if (!(target >= 0)) throw new RangeError(`target must be a non-negative number of bytes, got ${target}`)
    return this.#track(this.#evictTo(target, options.signal))
  }

  /**
   * Reads and hashes every block file; quarantines the corrupt ones, indexes
   * valid files that had no metadata, drops metadata of missing files, and
   * rebuilds the database if it fails SQLite's integrity check.
   */
  async verify(options: AbortOptions = {}): Promise<VerifyReport> {
    this.#assertOpen()
    throwIfAborted(options.signal)
    return this.#track(
      (async () => {
        const metadataRebuilt = !this.#db.quickCheck()
        if (metadataRebuilt) await this.#replaceDatabase()
        const report = await this.#scan({ readAll: true, signal: options.signal })
        // Roots are walked once the blocks are indexed again: the walk reads bundles through the index.
        if (metadataRebuilt) await this.#reconcileRoots(emptyRecovery('rebuilt'))
        return { ...report, metadataRebuilt }
      })(),
    )
  }

  /** Writes pending request counts and fsyncs directories of recent writes. */
  async sync(): Promise<void> {
    this.#assertOpen()
    this.#access.flush()
    await this.#dirs.sync()
  }

  /** Waits for operations in flight, flushes everything and releases the store. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#operations])
    try {
      this.#access.flush()
      await this.#dirs.sync()
      this.#db.setState('shutdown', 'clean')
    } finally {
      this.#db.close()
      await this.#releaseLock()
    }
  }

  // ------------------------------------------------------ Blockstore (CID)

  async put(key: CID, val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    const id = idOfCid(key)
    await this.putBlock(id, await collectBlockBytes(val, options.signal), options)
    return key
  }

  async *putMany(source: Iterable<InputPair> | AsyncIterable<InputPair>, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield* orderedParallel(source, this.#concurrency, async ({ cid, bytes }) => this.put(cid, bytes, options))
  }

  async *get(key: CID, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield await this.getBlock(idOfCid(key), options)
  }

  async *getMany(source: Iterable<CID> | AsyncIterable<CID>, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield* orderedParallel(source, this.#concurrency, async (cid): Promise<Pair> => {
      const bytes = await this.getBlock(idOfCid(cid), options)
      return { cid, bytes: once(bytes) }
    })
  }

  async has(key: CID, options: AbortOptions = {}): Promise<boolean> {
    throwIfAborted(options.signal)
    return this.hasBlock(idOfCid(key))
  }

  async delete(key: CID, options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal)
    await this.deleteBlock(idOfCid(key), options)
  }

  async *deleteMany(source: Iterable<CID> | AsyncIterable<CID>, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield* orderedParallel(source, this.#concurrency, async (cid) => {
      await this.delete(cid, options)
      return cid
    })
  }

  /** Every block, in id order, each verified as it is read; corrupt files found on the way are quarantined and skipped. */
  async *getAll(options: AbortOptions = {}): AsyncGenerator<Pair> {
    throwIfAborted(options.signal)
    this.#assertOpen()
    let after: Uint8Array | undefined
    for (;;) {
      const page = this.#db.page(after, PAGE)
      if (page.length === 0) return
      for (const entry of page) {
        throwIfAborted(options.signal)
        const id = toId(entry.id)
        let bytes: Uint8Array
        try {
          bytes = await this.#readVerified(id)
        } catch (err) {
          if (err instanceof NotFoundError || err instanceof CorruptBlockError) continue
          throw err
        }
        yield { cid: idToCid(id), bytes: once(bytes) }
      }
      after = page[page.length - 1]!.id
    }
  }

  // ------------------------------------------------------------- internals

  async #put(id: BlockId, bytes: Uint8Array, options: PutBlockOptions): Promise<boolean> {
    throwIfAborted(options.signal)
    this.#assertOpen()
    const key = toKey(id)
    const { pinnedBy } = options
    const existing = this.#db.getBlock(key)
    if (existing !== undefined) {
      verifyStoredBlock(id, bytes)
      if ((await fileSize(this.#layout.locate(id).file)) === existing.size) {
        if (pinnedBy !== undefined) this.#stage(id, existing, pinnedBy)
        return false
      }
      // The file went missing or changed under its row (a power cut, a hand edit): these verified bytes replace it.
      this.#write(() => this.#db.deleteBlock(key))
      this.#forgetRow(id, existing)
    }
    const pinned = pinnedBy !== undefined || this.#db.isPinned(key)
    const size = bytes.byteLength
    let reserved = 0
    try {
      const sync = pinned || this.#fsync === 'always'
      const { dir, file } = this.#layout.locate(id)
      try {
        if (!this.#shards.has(dir)) {
          await mkdir(dir, { recursive: true })
          this.#shards.add(dir)
        }
        // The hash is checked while the bytes are being copied to the (invisible) temp file; a
        // mismatch or a quota refusal removes it before anything is renamed, evicted or recorded.
        await writeFileAtomic(this.#layout.tmp, file, bytes, {
          sync,
          whileWriting: () => verifyStoredBlock(id, bytes),
          beforeRename: pinned
            ? undefined
            : async () => {
                await this.#makeRoom(size)
                reserved = size
              },
        })
      } catch (err) {
        throw asDiskFull(err) ?? err
      }
      const now = this.#now()
      try {
        this.#write(() => {
          this.#db.insertBlock(key, size, addRequests(undefined, 1, now, this.halfLife), now)
          if (pinnedBy !== undefined) this.#db.addPins(this.#db.ensureRoot(pinnedBy, STAGING_URL, now).rid, [key])
        })
      } catch (err) {
        await unlink(file).catch(() => {})
        throw err
      }
      this.#countRow({ size, pinned }, +1)
      if (sync) this.#dirs.markDirty(dir)
      else this.#unsynced.set(id, ++this.#writes)
      return true
    } finally {
      this.#reserved -= reserved
    }
  }

  /**
   * Pins an already stored block to `owner`'s staging root. If it was written
   * without an fsync (as a cached block), `pin()` makes it durable along with
   * the rest of the root before recording the root.
   */
  #stage(id: BlockId, row: BlockRow, owner: string): void {
    const key = toKey(id)
    this.#write(() => this.#db.addPins(this.#db.ensureRoot(owner, STAGING_URL, this.#now()).rid, [key]))
    if (!row.pinned) {
      this.#countRow(row, -1)
      this.#countRow({ size: row.size, pinned: true }, +1)
    }
  }

  /**
   * Makes room for an unpinned block of `size` bytes: evicts unpinned blocks,
   * least requested first, and reserves the space. Victims are chosen and
   * their rows dropped synchronously, so concurrent puts never pick the same
   * space twice; if the block cannot fit even in an empty cache, nothing is evicted.
   */
  async #makeRoom(size: number): Promise<void> {
    if (size > this.quota) {
      throw new QuotaExceededError(`a block of ${size} bytes exceeds the quota of ${this.quota} bytes`)
    }
    let excess = this.#cachedBytes() + this.#reserved + size - this.quota
    const victims: { id: BlockId; size: number }[] = []
    if (excess > 0) {
      // Eviction goes by request counts: fold in the batched ones first.
      this.#access.flush()
      for (const entry of this.#db.evictionOrder()) {
        const id = toId(entry.id)
        if (this.#mutex.isBusy(id)) continue
        victims.push({ id, size: entry.size })
        excess -= entry.size
        if (excess <= 0) break
      }
      if (excess > 0) {
        throw new QuotaExceededError(
          `no room for ${size} bytes within the quota of ${this.quota} bytes: the rest is being written`,
        )
      }
    }
    this.#reserved += size
    try {
      await this.#evict(victims)
    } catch (err) {
      this.#reserved -= size
      throw err
    }
  }

  /** Drops the victims' rows now and deletes their files, each under its own lock. */
  async #evict(victims: { id: BlockId; size: number }[]): Promise<void> {
    if (victims.length === 0) return
    this.#write(() => {
      for (const { id } of victims) this.#db.deleteBlock(toKey(id))
    })
    for (const victim of victims) this.#countRow({ size: victim.size, pinned: false }, -1)
    await Promise.all(victims.map(({ id }) => this.#mutex.run(id, () => this.#removeFile(id))))
  }

  async #evictTo(target: number, signal?: AbortSignal): Promise<GcResult> {
    this.#access.flush()
    const result: GcResult = { removed: 0, bytes: 0 }
    while (this.#cachedBytes() > target) {
      throwIfAborted(signal)
      let excess = this.#cachedBytes() - target
      const victims: { id: BlockId; size: number }[] = []
      for (const entry of this.#db.evictionOrder()) {
        const id = toId(entry.id)
        if (this.#mutex.isBusy(id)) continue
        victims.push({ id, size: entry.size })
        excess -= entry.size
        if (excess <= 0 || victims.length >= PAGE) break
      }
      if (victims.length === 0) break
      await this.#evict(victims)
      result.removed += victims.length
      for (const victim of victims) result.bytes += victim.size
    }
    return result
  }

  async #readUnverified(id: BlockId): Promise<Uint8Array> {
    const row = this.#db.getBlock(toKey(id))
    if (row === undefined) throw new NotFoundError(`block ${id} not found`)
    return this.#readFile(id, this.#layout.locate(id).file, row.size)
  }

  /**
   * Reads a block and checks it against its id. A file that does not match is
   * quarantined (after a second read under the block's lock, in case a put
   * was replacing it) and reported as CorruptBlockError; it is never returned.
   */
  async #readVerified(id: BlockId): Promise<Uint8Array> {
    const row = this.#db.getBlock(toKey(id))
    if (row === undefined) throw new NotFoundError(`block ${id} not found`)
    const { file } = this.#layout.locate(id)
    const bytes = await this.#readFile(id, file, row.size)
    if (isValidStoredBlock(id, bytes)) return bytes
    return this.#mutex.run(id, async () => {
      const again = await this.#readFile(id, file, row.size)
      if (isValidStoredBlock(id, again)) return again
      await this.#quarantine(id)
      throw new CorruptBlockError(`the stored file of ${id} does not match it; moved to quarantine`)
    })
  }

  /**
   * Reads a block file whose size the metadata knows: open, one read, close
   * (readFile adds an fstat and a second read). One byte more than recorded
   * is asked for, to notice a file that grew; such a file is read whole, for
   * the hash to judge. (Hashing chunk by chunk while reading the next one
   * was measured: slower from the page cache, within noise from the disk.)
   */
  async #readFile(id: BlockId, file: string, size: number): Promise<Uint8Array> {
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      // A row without its file (lost in a power cut, or deleted by hand): forget it unless a write is under way.
      if (!this.#mutex.isBusy(id) && !this.#closed) {
        try {
          const row = this.#write(() => this.#db.deleteBlock(toKey(id)))
          if (row !== undefined) this.#forgetRow(id, row)
        } catch {
          // Best effort: the row is dropped by the next verify() or reconcile instead.
        }
      }
      throw new NotFoundError(`block ${id} not found`)
    }
    try {
      const buffer = Buffer.allocUnsafeSlow(size + 1)
      const { bytesRead } = await handle.read(buffer, 0, size + 1, 0)
      if (bytesRead <= size) return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead)
      const whole = await readFile(file)
      return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
    } finally {
      await handle.close()
    }
  }

  /** Moves a bad file aside and forgets its row. Its pins stay: the block is still wanted. */
  async #quarantine(id: BlockId): Promise<void> {
    const { file } = this.#layout.locate(id)
    const destination = join(this.#layout.quarantine, `${id}.${Date.now()}.${++this.#quarantined}`)
    await rename(file, destination).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    const row = this.#write(() => this.#db.deleteBlock(toKey(id)))
    if (row !== undefined) this.#forgetRow(id, row)
  }

  async #removeFile(id: BlockId): Promise<void> {
    await this.#files.delete(idToCid(id))
    this.#unsynced.delete(id)
  }

  /** Accounts for a row just deleted: totals, pending request counts, pending fsyncs. */
  #forgetRow(id: BlockId, row: BlockRow): void {
    this.#countRow(row, -1)
    this.#access.discard(id)
    this.#unsynced.delete(id)
  }

  #countRow(row: { size: number; pinned: boolean }, sign: 1 | -1): void {
    this.#totals.blocks += sign
    this.#totals.bytes += sign * row.size
    if (row.pinned) {
      this.#totals.pinnedBlocks += sign
      this.#totals.pinnedBytes += sign * row.size
    }
  }

  #cachedBytes(): number {
    return this.#totals.bytes - this.#totals.pinnedBytes
  }

  /**
   * fsyncs the files among `ids` that were written without it, then every
   * dirty directory. Past a few dozen files one syncfs(2) of the store's file
   * system is far cheaper than an fsync each (a backup leaves thousands) and
   * makes the same promise for every write renamed into place before it
   * started, file data and directory entries alike; a write that lands while
   * it runs keeps its pending mark. Files are fsynced one by one when syncfs
   * is unavailable or fails.
   */
  async #makeDurable(ids: Iterable<BlockId>): Promise<void> {
    const pending: BlockId[] = []
    for (const id of ids) if (this.#unsynced.has(id)) pending.push(id)
    if (pending.length >= WHOLE_FS_SYNC_THRESHOLD) {
      const covered = this.#writes
      if (await syncFileSystem(this.#layout.root)) {
        for (const id of pending) {
          const written = this.#unsynced.get(id)
          if (written !== undefined && written <= covered) this.#unsynced.delete(id)
        }
      }
    }
    await Promise.all(pending.map((id) => this.#mutex.run(id, () => this.#syncIfUnsynced(id))))
    await this.#dirs.sync()
  }

  /** Call holding the block's lock. */
  async #syncIfUnsynced(id: BlockId): Promise<void> {
    if (!this.#unsynced.has(id)) return
    const { dir, file } = this.#layout.locate(id)
    await syncFile(file)
    this.#unsynced.delete(id)
    this.#dirs.markDirty(dir)
  }

  #pinRoots(): PinRoot[] {
    return this.#db
      .roots()
      .filter((root) => root.url !== STAGING_URL)
      .map(({ owner, url, pinnedAt }) => ({ owner, url, pinnedAt }))
  }

  async #writePinsFile(roots: PinRoot[]): Promise<void> {
    try {
      await writePinsFile(this.#layout.pinsFile, this.#layout.tmp, this.#layout.root, roots)
    } catch (err) {
      throw asDiskFull(err) ?? err
    }
  }

  /** Brings a freshly opened store to "row ⇔ valid file" and pins in line with pins.json. */
  async #recover(existed: boolean, reason: string | undefined): Promise<void> {
    const tempFilesRemoved = await emptyDirectory(this.#layout.tmp)
    const shutdown = this.#db.getState('shutdown')
    let report: RecoveryReport
    if (reason !== undefined) {
      report = { ...emptyRecovery('rebuilt'), reason }
    } else if (shutdown === 'clean') {
      report = emptyRecovery('clean')
    } else {
      report = emptyRecovery(existed ? 'unclean' : 'created')
    }
    report.tempFilesRemoved = tempFilesRemoved
    if (report.state !== 'clean') {
      const scan = await this.#scan({ readAll: false })
      report.added = scan.added
      report.removed = scan.removed
      report.quarantined = scan.corrupt
      if (report.state === 'created' && (scan.added > 0 || (await exists(this.#layout.pinsFile)))) {
        report.state = 'rebuilt'
        report.reason = 'metadata missing'
      }
    }
    await this.#reconcileRoots(report)
    this.#db.setState('shutdown', 'open')
    this.#totals = this.#db.totals()
    await this.#evictTo(this.quota)
    this.recovery = report
  }

  /**
   * Walks the block files against the metadata. Files without a row are
   * verified and indexed (or quarantined); rows without a file are dropped;
   * with `readAll` every file is read and hashed.
   */
  async #scan(options: { readAll: boolean; signal?: AbortSignal }): Promise<Omit<VerifyReport, 'metadataRebuilt'>> {
    const report = { checked: 0, bytes: 0, corrupt: [] as BlockId[], added: 0, removed: 0, resized: 0 }
    for await (const { cid } of this.#files.getAll({ signal: options.signal })) {
      throwIfAborted(options.signal)
      let id: BlockId
      try {
        id = idOfCid(cid)
      } catch {
        continue
      }
      await this.#mutex.run(id, async () => {
        const key = toKey(id)
        const row = this.#db.getBlock(key)
        if (row !== undefined && !options.readAll) return
        const { file } = this.#layout.locate(id)
        let bytes: Buffer
        let mtime: number
        try {
          bytes = await readFile(file)
          mtime = (await stat(file)).mtimeMs
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
          throw err
        }
        report.checked++
        report.bytes += bytes.byteLength
        if (!isValidStoredBlock(id, bytes)) {
          await this.#quarantine(id)
          report.corrupt.push(id)
        } else if (row === undefined) {
          // Request history is gone; the file's age stands in for it, so older blocks are evicted first.
          const heat = addRequests(undefined, 1, mtime, this.halfLife)
          if (this.#write(() => this.#db.insertBlock(key, bytes.byteLength, heat, mtime))) {
            this.#countRow({ size: bytes.byteLength, pinned: this.#db.isPinned(key) }, +1)
            report.added++
          }
        } else if (row.size !== bytes.byteLength) {
          this.#write(() => this.#db.setBlockSize(key, bytes.byteLength))
          this.#totals = this.#db.totals()
          report.resized++
        }
      })
    }
    let after: Uint8Array | undefined
    for (;;) {
      const page = this.#db.page(after, PAGE)
      if (page.length === 0) break
      for (const entry of page) {
        throwIfAborted(options.signal)
        const id = toId(entry.id)
        await this.#mutex.run(id, async () => {
          const size = await fileSize(this.#layout.locate(id).file)
          if (size === undefined) {
            const row = this.#write(() => this.#db.deleteBlock(entry.id))
            if (row !== undefined) this.#forgetRow(id, row)
            report.removed++
          } else if (size !== entry.size) {
            // Only after a power cut: the file changed under its row. Let the bytes decide.
            const bytes = await readFile(this.#layout.locate(id).file)
            report.checked++
            report.bytes += bytes.byteLength
            if (isValidStoredBlock(id, bytes)) {
              this.#write(() => this.#db.setBlockSize(entry.id, bytes.byteLength))
              report.resized++
            } else {
              await this.#quarantine(id)
              report.corrupt.push(id)
            }
          }
        })
      }
      after = page[page.length - 1]!.id
    }
    this.#totals = this.#db.totals()
    return report
  }

  /** pins.json is the source of truth for roots: the database follows it (or is copied to it, if it is lost). */
  async #reconcileRoots(report: RecoveryReport): Promise<void> {
    const fileRoots = await readPinsFile(this.#layout.pinsFile)
    const dbRoots = this.#pinRoots()
    if (fileRoots === undefined) {
      if (dbRoots.length > 0 || (await exists(this.#layout.pinsFile))) await this.#writePinsFile(dbRoots)
      return
    }
    const keyOf = (root: { owner: string; url: string }) => `${root.owner}\n${root.url}`
    const inFile = new Set(fileRoots.map(keyOf))
    for (const root of this.#db.roots()) {
      if (root.url !== STAGING_URL && !inFile.has(keyOf(root))) this.#write(() => this.#db.removeRoot(root.rid))
    }
    const inDb = new Set(dbRoots.map(keyOf))
    await this.#rewalkRoots(
      fileRoots.filter((root) => !inDb.has(keyOf(root))),
      report,
    )
  }

  /** Re-pins roots from their bundles; a root that cannot be walked keeps at least its own block pinned. */
  async #rewalkRoots(roots: PinRoot[], report: RecoveryReport): Promise<void> {
    for (const root of roots) {
      let ids: Set<BlockId>
      try {
        ids = await collectBundleIds(root.url, (id) => this.#readVerified(id))
      } catch {
        report.unresolvedRoots.push(root.url)
        ids = new Set()
        try {
          ids.add(parseRootId(root.url))
        } catch {
          // pins.json named something that is not a root URL; it is still listed, pinning nothing.
        }
      }
      this.#write(() => {
        const row = this.#db.ensureRoot(root.owner, root.url, root.pinnedAt)
        this.#db.addPins(row.rid, [...ids].map(toKey))
      })
      report.rootsRewalked++
    }
    this.#totals = this.#db.totals()
  }

  /** Sets the damaged database aside and starts an empty one, then re-indexes every file. */
  async #replaceDatabase(): Promise<void> {
    this.#access.flush()
    this.#db.close()
    await setAside(this.#layout.database)
    this.#db = new MetadataDb(this.#layout.database)
    this.#db.setState('shutdown', 'open')
    this.#totals = { blocks: 0, bytes: 0, pinnedBlocks: 0, pinnedBytes: 0 }
  }

  /** A metadata transaction; running out of space is a DiskFullError like any other. */
  #write<T>(work: () => T): T {
    try {
      return this.#db.transaction(work)
    } catch (err) {
      throw asDiskFull(err) ?? err
    }
  }

  /**
   * Changes the pinned roots: pins.json first (the source of truth), then the
   * database. If the database cannot follow (a full disk), pins.json is put
   * back so the two still agree.
   */
  async #updateRoots<T>(after: PinRoot[], before: PinRoot[], work: () => T): Promise<T> {
    const changed = after.length !== before.length
    if (changed) await this.#writePinsFile(after)
    try {
      return this.#write(work)
    } catch (err) {
      if (changed) await this.#writePinsFile(before).catch(() => {})
      throw err
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('the block store is closed')
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#operations.add(operation)
    const done = () => this.#operations.delete(operation)
    operation.then(done, done)
    return operation
  }
}

function checkOptions(options: LibernetBlockstoreOptions): void {
  if (typeof options?.path !== 'string' || options.path.length === 0) throw new TypeError('a store needs a path')
  const { quota, halfLife, flushInterval, concurrency, fsync } = options
  if (quota !== undefined && !(quota >= 0)) throw new RangeError(`quota must be a number of bytes >= 0, got ${quota}`)
  if (halfLife !== undefined && !(halfLife > 0)) throw new RangeError(`halfLife must be positive, got ${halfLife}`)
  if (flushInterval !== undefined && !(flushInterval > 0)) {
    throw new RangeError(`flushInterval must be positive, got ${flushInterval}`)
  }
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`)
  }
  if (fsync !== undefined && fsync !== 'pinned' && fsync !== 'always') {
    throw new RangeError(`fsync must be 'pinned' or 'always', got ${String(fsync)}`)
  }
}

function toKey(id: BlockId): Uint8Array {
  return Buffer.from(id, 'hex')
}

function toId(key: Uint8Array): BlockId {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
}

/** Pair bytes as an async generator, as blockstore-fs returns them (callers await `it-all` of it). */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

function assertOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0) throw new TypeError('a pin owner is a non-empty string')
}

function parseRootId(url: string): BlockId {
  const match = /^\/sha256\/([0-9a-f]{64})(?:\/|$)/.exec(url)
  if (match === null) throw new TypeError(`not a root URL: ${url}`)
  return match[1]!
}

function emptyRecovery(state: RecoveryReport['state']): RecoveryReport {
  return { state, tempFilesRemoved: 0, added: 0, removed: 0, quarantined: [], rootsRewalked: 0, unresolvedRoots: [] }
}

/** A DiskFullError for out-of-space failures of the file system or SQLite; undefined for anything else. */
function asDiskFull(err: unknown): DiskFullError | undefined {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT' || sqliteResultCode(err) === SQLITE_FULL) {
    return new DiskFullError(`no space left on the device: ${(err as Error).message}`, { cause: err })
  }
  return undefined
}

async function exists(file: string): Promise<boolean> {
  return (await fileSize(file)) !== undefined
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Moves a damaged database (and its WAL) aside, keeping it for inspection. */
async function setAside(database: string): Promise<void> {
  const suffix = `.damaged-${Date.now()}`
  for (const file of [database, `${database}-wal`, `${database}-shm`]) {
    await rename(file, `${file}${suffix}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }
}

async function emptyDirectory(dir: string): Promise<number> {
  const entries = await readdir(dir)
  await Promise.all(entries.map((entry) => rm(join(dir, entry), { recursive: true, force: true })))
  if (entries.length > 0) await syncDirectory(dir)
  return entries.length
}
