import { randomBytes } from 'node:crypto'
import { constants, type FileHandle, open, rename, unlink } from 'node:fs/promises'
import { basename, join } from 'node:path'

/**
 * Crash-safe file writes: the bytes go to a fresh temp file in `tmpDir` (same
 * file system), are optionally fsynced, and are renamed over the target.
 * rename(2) is atomic, so a reader (or a restart after SIGKILL) sees either no
 * file or the complete one, never a prefix.
 *
 * Durability against power loss additionally needs the data fsynced before
 * the rename and the directory entry fsynced after it. The caller decides per
 * write whether the data sync is worth its cost (see `FsyncPolicy` in
 * blockstore.ts); directory syncs are batched by {@link DirectorySyncer}.
 */
export interface AtomicWriteOptions {
  /** fsync the data before the rename. */
  sync: boolean
  /**
   * Runs on this thread while the first write is in flight on libuv's pool (a
   * content check, say, so hashing overlaps the copy into the page cache).
   * Throwing aborts the write: the temp file is removed, nothing is renamed.
   */
  whileWriting?: () => void
  /** Runs once the data is written, just before the rename; throwing aborts likewise. */
  beforeRename?: () => Promise<void>
}

export async function writeFileAtomic(
  tmpDir: string,
  target: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  // A unique temp name per call: two writers of the same target never share a temp file.
  const temp = join(tmpDir, `${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: FileHandle | undefined
  try {
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
    const writing = writeAll(handle, bytes)
    try {
      options.whileWriting?.()
    } finally {
      await writing
    }
    if (options.sync) await handle.datasync()
    await handle.close()
    handle = undefined
    await options.beforeRename?.()
    await rename(temp, target)
  } catch (err) {
    await handle?.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw err
  }
}

/** Issues the first write synchronously (before returning), then finishes any short write. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset, offset)
    offset += bytesWritten
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
