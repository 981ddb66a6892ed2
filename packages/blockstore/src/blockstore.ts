import { mkdir } from 'node:fs/promises'
import {
  type BlockId,
  BlockTooLargeError,
  idToCid,
  LEGACY_MAX_BLOCK_SIZE,
  parseBlockId,
  throwIfAborted,
} from '@libernet/core'
import type { Blockstore, InputPair, Pair } from 'interface-blockstore'
import { NotFoundError } from 'interface-store'
import type { CID } from 'multiformats/cid'
import type { BlockFileTarget, WrittenBlock } from './block-files.ts'
import { collectBlockBytes } from './bytes.ts'
import { idOfCid } from './cid.ts'
import { asDiskFull } from './disk-full.ts'
import { BlockPinnedError, CorruptBlockError } from './errors.ts'
import { evictTo } from './eviction.ts'
import { exists } from './files.ts'
import { requestsAt } from './heat.ts'
import { toId, toKey } from './keys.ts'
import { StoreLayout } from './layout.ts'
import { queryLike } from './like-index.ts'
import { acquireLock } from './lock.ts'
import type { MetadataDb } from './metadata.ts'
import { STAGING_URL } from './metadata.ts'
import { checkOptions, type LibernetBlockstoreOptions } from './options.ts'
import { orderedParallel } from './ordered-parallel.ts'
import { assertOwner, PINS_LOCK, pinRoot, pinRoots, unpinRoot } from './pinning.ts'
import type { PinRoot } from './pins-file.ts'
import { type ReadCheck, readBlock } from './read-path.ts'
import { openMetadata, reconcileRoots, recover, replaceDatabase } from './recovery.ts'
import { scanBlocks } from './scan.ts'
import { StoreState } from './state.ts'
import {
  type AbortOptions,
  type BlockInfo,
  emptyRecovery,
  type GcOptions,
  type GcResult,
  type GetBlockOptions,
  type LikeMatch,
  type LikeOptions,
  type PinOptions,
  type PinResult,
  type PutBlockOptions,
  type RecoveryReport,
  type StoreStats,
  type VerifyReport,
} from './types.ts'
import { adoptBlockFiles, putBlockFile } from './write-path.ts'

export type { FsyncPolicy, LibernetBlockstoreOptions } from './options.ts'
export type {
  AbortOptions,
  BlockInfo,
  GcOptions,
  GcResult,
  GetBlockOptions,
  LikeMatch,
  LikeOptions,
  PinOptions,
  PinResult,
  PutBlockOptions,
  RecoveryReport,
  StoreStats,
  VerifyReport,
} from './types.ts'

const MAX_LIKE_LIMIT = 10_000
/** Rows read per page by `getAll`. */
const PAGE = 512

/** Ids read from the database at a time by {@link LibernetBlockstore.ids}. */
const ID_PAGE = 4096

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
 * metadata row exists only for a file already renamed into place; a row's
 * CRC-32 is taken from bytes whose SHA-256 matched the id; nothing is
 * returned that fails its check (read-path.ts). After a crash the open-time
 * reconcile restores "row ⇔ valid file".
 *
 * This class orders and guards the operations (argument checks, per-block
 * locks, closing); the work is in one module per concern: write-path.ts,
 * read-path.ts, pinning.ts, eviction.ts, durability.ts, scan.ts and
 * recovery.ts, all working on the shared {@link StoreState}.
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

  readonly #state: StoreState
  readonly #operations = new Set<Promise<unknown>>()
  readonly #releaseLock: () => Promise<void>
  readonly #timer: NodeJS.Timeout

  /** Opens (creating or repairing as needed) the store at `options.path`. */
  static async open(options: LibernetBlockstoreOptions): Promise<LibernetBlockstore> {
    checkOptions(options)
    const layout = new StoreLayout(options.path)
    await mkdir(layout.root, { recursive: true })
    await Promise.all([
      mkdir(layout.blocks, { recursive: true }),
      mkdir(layout.tmp, { recursive: true }),
      mkdir(layout.quarantine, { recursive: true }),
    ])
    const releaseLock = await acquireLock(layout.lockFile, layout.root)
    let db: MetadataDb | undefined
    try {
      const existed = await exists(layout.database)
      const opened = await openMetadata(layout)
      db = opened.db
      const store = new LibernetBlockstore(new StoreState(options, layout, db), options, releaseLock)
      try {
        store.recovery = await recover(store.#state, existed, opened.reason)
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

  private constructor(state: StoreState, options: LibernetBlockstoreOptions, releaseLock: () => Promise<void>) {
    this.#state = state
    this.path = state.layout.root
    this.quota = state.quota
    this.halfLife = state.halfLife
    this.#releaseLock = releaseLock
    this.recovery = emptyRecovery('clean')
    this.#timer = setInterval(() => {
      state.access.flush()
      state.dirs.sync().catch(() => {})
    }, options.flushInterval ?? 1000)
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
    this.#state.assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    if (options.pinnedBy !== undefined) assertOwner(options.pinnedBy)
    if (bytes.byteLength > LEGACY_MAX_BLOCK_SIZE) {
      throw new BlockTooLargeError(`a stored block has at most ${LEGACY_MAX_BLOCK_SIZE} bytes, not ${bytes.byteLength}`)
    }
    return this.#track(this.#state.mutex.run(id, () => putBlockFile(this.#state, id, bytes, options)))
  }

  /** Where workers write block files for {@link adoptBlockFiles} (see `@libernet/blockstore/block-files`). */
  blockFileTarget(): BlockFileTarget {
    this.#state.assertOpen()
    return { root: this.#state.layout.root }
  }

  /**
   * Tells the store that writers of block files on its target stopped in the
   * middle of their work (their worker threads were terminated): a file one
   * of them was writing may be left half-written where its block goes.
   * Nothing reads it (the store has no record of it), but it must not outlive
   * the store: closing then leaves the shutdown unclean, so the next open runs
   * the scan that checks unrecorded files in full and quarantines what fails.
   */
  abandonBlockFiles(): void {
    this.#state.blockFilesAbandoned = true
  }

  /**
   * Records block files written by a `BlockFileWriter` on this store's
   * target since it was opened; returns, per block, whether it is new to the
   * store. They are made durable with everything else before a pin records them.
   */
  async adoptBlockFiles(blocks: readonly WrittenBlock[]): Promise<boolean[]> {
    return this.#track(adoptBlockFiles(this.#state, blocks))
  }

  /**
   * The block's stored bytes, checked (see `GetBlockOptions.verify`: by
   * default against the CRC-32 recorded when the put verified the id).
   * Missing: NotFoundError; corrupt on disk: CorruptBlockError (and
   * quarantined). With `verify: false` the bytes are returned unchecked, for
   * a caller that verifies them anyway (decoding checks sha256(stored)
   * against the id): such a caller must not use bytes that fail its check,
   * and reads the block again checked so a corrupt file is quarantined and reported.
   */
  async getBlock(id: BlockId, options: GetBlockOptions = {}): Promise<Uint8Array> {
    this.#state.assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    const bytes = await readBlock(this.#state, id, readCheck(options.verify))
    this.#state.access.record(id, toKey(id), this.#state.now())
    return bytes
  }

  /**
   * Where a block's file lies, how long it is and the CRC-32 its put
   * recorded (absent for rows older than it), for a reader that reads it
   * elsewhere (a worker thread) and checks the bytes itself, as getBlock
   * does: such a reader must not use bytes that fail, and calls
   * {@link getBlock} instead, which reports, repairs or quarantines. Counts as
   * a read for eviction, as getBlock does. `undefined` when the block is not here.
   */
  blockFile(id: BlockId): { path: string; size: number; crc?: number } | undefined {
    this.#state.assertOpen()
    const key = toKey(parseBlockId(id))
    const row = this.#state.db.getBlockFile(key)
    if (row === undefined) return undefined
    this.#state.access.record(id, key, this.#state.now())
    const file = { path: this.#state.layout.locate(id).file, size: row.size }
    return row.crc === undefined ? file : { ...file, crc: row.crc }
  }

  hasBlock(id: BlockId): boolean {
    this.#state.assertOpen()
    return this.#state.db.hasBlock(toKey(parseBlockId(id)))
  }

  /** Removes a block; pinned blocks are refused (BlockPinnedError). Missing blocks are not an error. */
  async deleteBlock(id: BlockId, options: AbortOptions = {}): Promise<void> {
    const state = this.#state
    state.assertOpen()
    throwIfAborted(options.signal)
    parseBlockId(id)
    await this.#track(
      state.mutex.run(id, async () => {
        const key = toKey(id)
        const row = state.db.getBlock(key)
        if (row?.pinned === true) {
          throw new BlockPinnedError(`block ${id} is pinned by ${state.db.pinOwners(key).join(', ')}`)
        }
        // The file goes first: on a full disk that frees the room the metadata update may need.
        await state.removeFile(id)
        if (row !== undefined) {
          state.write(() => state.db.deleteBlock(key))
          state.forgetRow(id, row)
        }
      }),
    )
  }

  blockInfo(id: BlockId): BlockInfo | undefined {
    const state = this.#state
    state.assertOpen()
    const key = toKey(parseBlockId(id))
    state.access.flush()
    const row = state.db.getBlock(key)
    if (row === undefined) return undefined
    return {
      id,
      size: row.size,
      pinned: row.pinned,
      pinnedBy: state.db.pinOwners(key),
      requests: requestsAt(row.heat, state.now(), this.halfLife),
      lastAccess: row.lastAccess,
      addedAt: row.addedAt,
    }
  }

  /**
   * Every stored block id, in id order. Read a page at a time, so blocks
   * added or removed meanwhile may or may not be listed, and the database
   * is free between pages.
   */
  *ids(): Generator<BlockId, void, undefined> {
    let after: Uint8Array | undefined
    for (;;) {
      this.#state.assertOpen()
      const page = this.#state.db.page(after, ID_PAGE)
      for (const entry of page) yield toId(entry.id)
      if (page.length < ID_PAGE) return
      after = page.at(-1)!.id
    }
  }

  /**
   * The stored blocks whose ids share the most leading bits with `target`,
   * best first, ties by smaller id: two indexed range scans, not a scan of the store.
   */
  like(target: BlockId, options: LikeOptions = {}): LikeMatch[] {
    this.#state.assertOpen()
    const limit = options.limit ?? 100
    const minScore = options.minScore ?? 0
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIKE_LIMIT) {
      throw new RangeError(`limit must be an integer from 0 to ${MAX_LIKE_LIMIT}, got ${limit}`)
    }
    if (!Number.isInteger(minScore) || minScore < 0 || minScore > 256) {
      throw new RangeError(`minScore must be an integer from 0 to 256, got ${minScore}`)
    }
    return queryLike(this.#state.db, toKey(parseBlockId(target)), limit, minScore).map((entry) => ({
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
    this.#state.assertOpen()
    assertOwner(owner)
    return this.#track(this.#state.mutex.run(PINS_LOCK, () => pinRoot(this.#state, rootUrl, owner, options)))
  }

  /** Releases a root's pins; blocks no other root pins become evictable cache. Returns how many pins were released. */
  async unpin(rootUrl: string, owner: string): Promise<number> {
    this.#state.assertOpen()
    assertOwner(owner)
    return this.#track(this.#state.mutex.run(PINS_LOCK, () => unpinRoot(this.#state, rootUrl, owner)))
  }

  /** Releases the pins an owner staged with `putBlock(…, { pinnedBy })` (an abandoned backup). */
  async unpinStaged(owner: string): Promise<number> {
    return this.unpin(STAGING_URL, owner)
  }

  /** The pinned backup roots. */
  pins(): PinRoot[] {
    this.#state.assertOpen()
    return pinRoots(this.#state)
  }

  // ------------------------------------------------------------- replicas

  /** Notes that `peerId` holds a replica of `id` (seen at `seenAt`, default now). */
  recordReplica(id: BlockId, peerId: string, seenAt: number = this.#state.now()): void {
    const state = this.#state
    state.assertOpen()
    state.write(() => state.db.recordReplica(toKey(parseBlockId(id)), peerId, seenAt))
  }

  forgetReplica(id: BlockId, peerId: string): boolean {
    const state = this.#state
    state.assertOpen()
    return state.write(() => state.db.forgetReplica(toKey(parseBlockId(id)), peerId))
  }

  /** Peers known to hold `id`, most recently seen first. */
  replicasOf(id: BlockId): string[] {
    this.#state.assertOpen()
    return this.#state.db.replicasOf(toKey(parseBlockId(id))).map((replica) => replica.peer)
  }

  // ---------------------------------------------------------- maintenance

  stats(): StoreStats {
    this.#state.assertOpen()
    const { blocks, bytes, pinnedBlocks, pinnedBytes } = this.#state.totals
    return {
      blocks,
      bytes,
      pinnedBlocks,
      pinnedBytes,
      cachedBlocks: blocks - pinnedBlocks,
      cachedBytes: bytes - pinnedBytes,
      quota: this.quota,
      pinRoots: pinRoots(this.#state).length,
    }
  }

  /** Evicts unpinned blocks, least requested first, until they fit in `target` bytes (default: the quota). */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    this.#state.assertOpen()
    throwIfAborted(options.signal)
    const target = options.target ?? this.quota
    if (!(target >= 0)) throw new RangeError(`target must be a non-negative number of bytes, got ${target}`)
    return this.#track(evictTo(this.#state, target, options.signal))
  }

  /**
   * Reads every block file and checks its SHA-256 against its id; quarantines
   * the corrupt ones, indexes valid files that had no metadata, drops
   * metadata of missing files, records the CRC-32 of what passed, and
   * rebuilds the database if it fails SQLite's integrity check.
   */
  async verify(options: AbortOptions = {}): Promise<VerifyReport> {
    const state = this.#state
    state.assertOpen()
    throwIfAborted(options.signal)
    return this.#track(
      (async () => {
        const metadataRebuilt = !state.db.quickCheck()
        if (metadataRebuilt) await replaceDatabase(state)
        const report = await scanBlocks(state, { readAll: true, signal: options.signal })
        // Roots are walked once the blocks are indexed again: the walk reads bundles through the index.
        if (metadataRebuilt) await reconcileRoots(state, emptyRecovery('rebuilt'))
        return { ...report, metadataRebuilt }
      })(),
    )
  }

  /** Writes pending request counts and fsyncs directories of recent writes. */
  async sync(): Promise<void> {
    this.#state.assertOpen()
    this.#state.access.flush()
    await this.#state.dirs.sync()
  }

  /** Waits for operations in flight, flushes everything and releases the store. */
  async close(): Promise<void> {
    const state = this.#state
    if (state.closed) return
    state.closed = true
    clearInterval(this.#timer)
    await Promise.allSettled([...this.#operations])
    try {
      state.access.flush()
      await state.dirs.sync()
      if (!state.blockFilesAbandoned) markCleanShutdown(state)
    } finally {
      state.db.close()
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
    yield* orderedParallel(source, this.#state.concurrency, async ({ cid, bytes }) => this.put(cid, bytes, options))
  }

  async *get(key: CID, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield await this.getBlock(idOfCid(key), options)
  }

  async *getMany(source: Iterable<CID> | AsyncIterable<CID>, options: AbortOptions = {}) {
    throwIfAborted(options.signal)
    yield* orderedParallel(source, this.#state.concurrency, async (cid): Promise<Pair> => {
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
    yield* orderedParallel(source, this.#state.concurrency, async (cid) => {
      await this.delete(cid, options)
      return cid
    })
  }

  /** Every block, in id order, each checked as it is read; corrupt files found on the way are quarantined and skipped. */
  async *getAll(options: AbortOptions = {}): AsyncGenerator<Pair> {
    throwIfAborted(options.signal)
    this.#state.assertOpen()
    let after: Uint8Array | undefined
    for (;;) {
      const page = this.#state.db.page(after, PAGE)
      if (page.length === 0) return
      for (const entry of page) {
        throwIfAborted(options.signal)
        const id = toId(entry.id)
        let bytes: Uint8Array
        try {
          bytes = await readBlock(this.#state, id, 'crc')
        } catch (err) {
          if (err instanceof NotFoundError || err instanceof CorruptBlockError) continue
          throw err
        }
        yield { cid: idToCid(id), bytes: once(bytes) }
      }
      after = page[page.length - 1]!.id
    }
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#operations.add(operation)
    const done = () => this.#operations.delete(operation)
    operation.then(done, done)
    return operation
  }
}

function readCheck(verify: GetBlockOptions['verify']): ReadCheck {
  if (verify === false) return 'none'
  if (verify === 'full') return 'full'
  if (verify === undefined || verify === true) return 'crc'
  throw new TypeError(`verify must be true, false or 'full', got ${String(verify)}`)
}

/** Pair bytes as an async generator, as blockstore-fs returns them (callers await `it-all` of it). */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/**
 * Records that the store was closed cleanly, so the next open skips its
 * checks. On a full disk even that row may not fit: the store is consistent
 * anyway and the next open runs the checks of an unclean shutdown, so closing
 * goes on (throwing here would hide the error that filled the disk).
 */
function markCleanShutdown(state: StoreState): void {
  try {
    state.db.setState('shutdown', 'clean')
  } catch (err) {
    if (asDiskFull(err) === undefined) throw err
  }
}
