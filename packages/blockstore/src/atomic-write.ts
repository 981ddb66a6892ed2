import * as fs from 'node:fs'
import { constants, mkdir, open, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fsCall } from './fs-call.ts'

/**
 * Crash-safe file writes: the bytes go to a fresh temp file in `tmpDir` (same
 * file system), are optionally fsynced, and are renamed over the target.
 * rename(2) is atomic, so a reader (or a restart after SIGKILL) sees either no
 * file or the complete one, never a prefix.
 *
 * Durability against power loss additionally needs the data fsynced before
 * the rename and the directory entry fsynced after it. The caller decides per
 * write whether the data sync is worth its cost (see `FsyncPolicy` in
 * options.ts); directory syncs are batched by {@link DirectorySyncer}.
 */
export interface AtomicWriteOptions {
  /** fsync the data before the rename. */
  sync: boolean
  /**
   * Runs on this thread while the write is in flight on libuv's pool (a
   * content check, say, so hashing overlaps the copy into the page cache).
   * Throwing (or rejecting) aborts the write: the temp file is removed, nothing is renamed.
   */
  whileWriting?: () => void | Promise<void>
  /** Runs once the data is written, just before the rename; throwing aborts likewise. */
  beforeRename?: () => Promise<void>
}

/**
 * Writes `bytes` to `target` atomically. Returns true when it had to create
 * the target's directory (the caller may want that directory's parent synced).
 *
 * The file system calls go through fs's callback API (see fs-call.ts). The
 * target directory is assumed to exist and only created when the rename says
 * it does not, so the common case costs open, write, close and rename.
 */
export async function writeFileAtomic(
  tmpDir: string,
  target: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions,
): Promise<boolean> {
  // A unique temp name per call: two writers of the same target never share a temp file.
  const temp = join(tmpDir, `${basename(target)}.${process.pid}.${++tempCounter}.tmp`)
  let fd: number | undefined
  try {
    const opened = await fsCall<number>((done) => fs.open(temp, OPEN_FLAGS, 0o644, done))
    fd = opened
    const writing = writeAll(opened, bytes)
    let checked: unknown
    try {
      checked = options.whileWriting?.()
    } catch (err) {
      await writing.catch(() => {})
      throw err
    }
    const [written, check] = await Promise.allSettled([writing, checked])
    if (check.status === 'rejected') throw check.reason
    if (written.status === 'rejected') throw written.reason
    if (options.sync) await fsCall((done) => fs.fdatasync(opened, done))
    fd = undefined
    await fsCall((done) => fs.close(opened, done))
    await options.beforeRename?.()
    try {
      await fsCall((done) => fs.rename(temp, target, done))
      return false
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      await mkdir(dirname(target), { recursive: true })
      await fsCall((done) => fs.rename(temp, target, done))
      return true
    }
  } catch (err) {
    if (fd !== undefined) {
      const closing = fd
      await fsCall((done) => fs.close(closing, done)).catch(() => {})
    }
    await unlink(temp).catch(() => {})
    throw err
  }
}

const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL
let tempCounter = 0

/** Issues the first write synchronously (before returning), then finishes any short write. */
async function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const at = offset
    offset += await fsCall<number>((done) => fs.write(fd, bytes, at, bytes.byteLength - at, at, done))
  }
}

/**
 * Remembers directories whose entries changed and fsyncs each once per batch:
 * one directory fsync covers every rename into it since the last one, so a
 * burst of puts pays for a handful of directory syncs instead of one each.
 */
export class DirectorySyncer {
  readonly #dirty = new Set<string>()

  markDirty(dir: string): void {
    this.#dirty.add(dir)
  }

  async sync(): Promise<void> {
    const dirs = [...this.#dirty]
    this.#dirty.clear()
    await Promise.all(
      dirs.map(async (dir) => {
        try {
          await syncDirectory(dir)
        } catch (err) {
          this.#dirty.add(dir)
          throw err
        }
      }),
    )
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes a small file atomically and durably (data, then the directory entry). */
export async function writeFileDurable(tmpDir: string, target: string, bytes: Uint8Array, dir: string): Promise<void> {
  await writeFileAtomic(tmpDir, target, bytes, { sync: true })
  await syncDirectory(dir)
}
