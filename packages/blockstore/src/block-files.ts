/**
 * Block files written outside the store's own thread: a worker that has just
 * encoded a block writes its file with synchronous calls, where the store
 * would need four round trips through libuv's pool for each block, and the
 * store then records what was written ({@link LibernetBlockstore.adoptBlockFiles}).
 * Blocks are checked against the id and land in the blockstore-fs layout as
 * `putBlock` leaves them, but a new block file is created in place rather
 * than in `tmp/` and renamed (a backup writes thousands: one directory
 * operation each instead of two, and no two writers queue on `tmp/`). Until
 * the store records a block nothing reads its file, so a half-written one is
 * never seen: a crash leaves it to the next open's scan, which checks files
 * the store has no record of in full and quarantines what fails. A writer
 * whose thread is terminated mid-write is such a crash while the store stays
 * open: whoever stops it tells the store (`abandonBlockFiles`), whose close
 * then leaves that scan to the next open.
 *
 * This module is what a worker imports (`@libernet/blockstore/block-files`):
 * it opens no database and takes no lock; the process that has the store
 * open (and so holds its lock and empties its `tmp/` on open) hands the
 * workers a {@link BlockFileTarget}.
 */
import { closeSync, constants, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { crc32 } from 'node:zlib'
import { verifyStoredBlock } from '@libernet/core/codec'
import { LEGACY_MAX_BLOCK_SIZE } from '@libernet/core/constants'
import { BlockTooLargeError } from '@libernet/core/errors'
import { type BlockId, parseBlockId } from '@libernet/core/id'
import { asDiskFull } from './disk-full.ts'
import { StoreLayout } from './layout.ts'

/** Where a store's block files go: serializable, to be passed to a worker. */
export interface BlockFileTarget {
  /** The store's directory (`LibernetBlockstore.path`). */
  root: string
}

/** A block file in place, as the store records it. */
export interface WrittenBlock {
  id: BlockId
  size: number
  /** CRC-32 of the bytes, checked by later reads. */
  crc: number
  /** Its shard directory had to be created (the parent's entry then needs a sync too). */
  newDirectory: boolean
}

const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL

export class BlockFileWriter {
  readonly #layout: StoreLayout
  #written = 0

  constructor(target: BlockFileTarget) {
    this.#layout = new StoreLayout(target.root)
  }

  /**
   * Writes the block `id` after checking that `bytes` are that block
   * (BlockVerificationError / BlockTooLargeError otherwise, nothing written).
   * A file already there (another writer's, or a crash's) is replaced by these
   * verified bytes, atomically. A full disk is a DiskFullError, with nothing
   * of the block left behind.
   * Nothing is durable until the store syncs it (it does so before a pin).
   *
   * `hashed`: this thread has just computed `id` as the SHA-256 of these very
   * bytes (they are an encoder's output), so they are not hashed again.
   */
  write(id: BlockId, bytes: Uint8Array, options: { hashed?: boolean } = {}): WrittenBlock {
    parseBlockId(id)
    if (bytes.byteLength > LEGACY_MAX_BLOCK_SIZE) {
      throw new BlockTooLargeError(`a stored block has at most ${LEGACY_MAX_BLOCK_SIZE} bytes, not ${bytes.byteLength}`)
    }
    if (options.hashed !== true) verifyStoredBlock(id, bytes)
    const { dir, file } = this.#layout.locate(id)
    let newDirectory = false
    let fd: number | undefined
    try {
      fd = this.#createOrUndefined(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      try {
        mkdirSync(dir, { recursive: true })
      } catch (mkdirError) {
        throw asDiskFull(mkdirError) ?? mkdirError
      }
      newDirectory = true
      fd = this.#createOrUndefined(file)
    }
    if (fd === undefined) this.#replace(file, bytes)
    else this.#fill(fd, file, bytes)
    return { id, size: bytes.byteLength, crc: crc32(bytes), newDirectory }
  }

  /** Creates `file`, or returns undefined when it exists already. */
  #createOrUndefined(file: string): number | undefined {
    try {
      return openSync(file, OPEN_FLAGS, 0o644)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
      throw asDiskFull(err) ?? err
    }
  }

  /** Writes `bytes` into the file this writer just created; on failure the file goes again. */
  #fill(fd: number, file: string, bytes: Uint8Array): void {
    try {
      try {
        writeAll(fd, bytes)
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      try {
        unlinkSync(file)
      } catch {
        // The write's own error is the one to report.
      }
      throw asDiskFull(err) ?? err
    }
  }

  /**
   * A file is there already: another writer's copy of the block, complete or
   * not, or what a crash left. It is replaced at once by these verified bytes,
   * through a temporary file and a rename.
   */
  #replace(file: string, bytes: Uint8Array): void {
    // Unique per process, thread and write: two writers of one block never share a temp file.
    const temp = join(this.#layout.tmp, `${basename(file)}.${process.pid}.${threadId}.${++this.#written}.tmp`)
    try {
      const fd = openSync(temp, OPEN_FLAGS, 0o644)
      try {
        writeAll(fd, bytes)
      } finally {
        closeSync(fd)
      }
      renameSync(temp, file)
    } catch (err) {
      try {
        unlinkSync(temp)
      } catch {
        // Never created, or already renamed.
      }
      throw asDiskFull(err) ?? err
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.byteLength; ) {
    offset += writeSync(fd, bytes, offset, bytes.byteLength - offset, offset)
  }
}
