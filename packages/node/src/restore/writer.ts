import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { constants, lstatSync } from 'node:fs'
import { type FileHandle, mkdir, open, readlink, rename, rm, symlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { BundleFile } from '@libernet/core'
import { type ContentContext, loadPlaintext, partTarget } from '../content.ts'
import { MissingBlocksError, RestoreConflictError } from '../errors.ts'
import type { Semaphore } from '../util/semaphore.ts'
import { isAllZero } from './holes.ts'
import { modeFor } from './mode.ts'

/** Prefix of the temporary name a file is written under before it is renamed into place. */
export const PARTIAL_PREFIX = '.libernet-partial-'

export interface FileWriterOptions {
  context: ContentContext
  /** Decoded bytes held at once, over all files being written (default 64 MiB). */
  budget: Semaphore
  /** fsync each file before renaming it into place (power-loss durability, at about 1 ms a file). */
  fsync: boolean
  /** Check the content of files that look up to date, not only size, mtime and mode. */
  verify: boolean
  /** Parts known to decode to zeros: written as holes, never fetched again. */
  zeroParts: Set<string>
  /** The mode new files get here (0666 less the umask), learnt from the first one. */
  createdMode?: number
  onWritten?: (bytes: number) => void
}

export type WriteOutcome = 'written' | 'up-to-date'

/** A temporary name beside `absolute`, fixed per file so that a rerun overwrites what a killed run left. */
export function partialPath(absolute: string): string {
  const hash = createHash('sha256').update(basename(absolute)).digest('hex').slice(0, 16)
  return join(dirname(absolute), `${PARTIAL_PREFIX}${hash}`)
}

/**
 * Restores one regular file: skipped when it is already there with the same
 * size, mtime and mode (and content, with `verify`); otherwise its parts are
 * fetched and decoded a few at a time, written at their offsets into a
 * temporary file (all-zero parts become holes), which gets its mode and
 * mtime, is fsynced if asked, and is renamed over the target.
 */
export async function writeRegularFile(
  absolute: string,
  file: BundleFile,
  options: FileWriterOptions,
): Promise<WriteOutcome> {
  const existing = lstatOrUndefined(absolute)
  if (existing?.isDirectory() === true) {
    throw new RestoreConflictError(`${absolute} is a directory; the snapshot has a file there`)
  }
  if (existing?.isFile() === true && looksUpToDate(existing, file)) {
    if (!options.verify || (await contentMatches(absolute, file, options))) return 'up-to-date'
  }

  const temporary = partialPath(absolute)
  const handle = await createTemporary(temporary)
  let renamed = false
  try {
    const missing: string[] = []
    let offset = 0
    /** Becomes the file size once the last byte is written (not a hole). */
    let written = file.size === 0 ? 0 : -1
    const writes: Array<Promise<void>> = []
    for (const part of file.parts) {
      const at = offset
      offset += part.size
      if (part.size === 0) continue
      if (options.zeroParts.has(part.url)) continue
      await options.budget.acquire(part.size, options.context.signal)
      const write = (async () => {
        try {
          const plaintext = await loadPlaintext(options.context, part.url, part.size)
          if (isAllZero(plaintext)) {
            options.zeroParts.add(part.url)
          } else {
            await writeAll(handle, plaintext, at)
            if (at + plaintext.byteLength === file.size) written = file.size
          }
          options.onWritten?.(plaintext.byteLength)
        } catch (err) {
          if (err instanceof MissingBlocksError) missing.push(...err.ids)
          else throw err
        } finally {
          options.budget.release(part.size)
        }
      })()
      write.catch(() => {})
      writes.push(write)
    }
    const settled = await Promise.allSettled(writes)
    const failure = settled.find((outcome) => outcome.status === 'rejected')
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason
    if (missing.length > 0) throw new MissingBlocksError(missing)
    // Holes (all-zero parts) at the end need the size set; otherwise the writes gave it.
    if (written !== file.size) await handle.truncate(file.size)
    options.createdMode ??= (await handle.stat()).mode
    await handle.chmod(modeFor(options.createdMode, file))
    await handle.utimes(file.mtime, file.mtime)
    if (options.fsync) await handle.sync()
    await handle.close()
    await rename(temporary, absolute)
    renamed = true
    return 'written'
  } finally {
    if (!renamed) {
      await handle.close().catch(() => {})
      await rm(temporary, { force: true })
    }
  }
}

/**
 * Creates the temporary file anew (mode 0666 less the umask, as a new file
 * gets) and returns its descriptor. A killed run may have left one behind,
 * possibly read-only: it is removed first.
 */
async function createTemporary(temporary: string): Promise<FileHandle> {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL
  try {
    return await open(temporary, flags, 0o666)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    await rm(temporary, { force: true })
    return await open(temporary, flags, 0o666)
  }
}

/** Creates (or replaces) a symlink, skipping it when it is already there. */
export async function writeLink(absolute: string, target: string): Promise<WriteOutcome> {
  const existing = lstatOrUndefined(absolute)
  if (existing?.isSymbolicLink() === true && (await readlink(absolute)) === target) return 'up-to-date'
  if (existing?.isDirectory() === true) {
    throw new RestoreConflictError(`${absolute} is a directory; the snapshot has a link there`)
  }
  const temporary = partialPath(absolute)
  await rm(temporary, { force: true })
  await symlink(target, temporary)
  await rename(temporary, absolute)
  return 'written'
}

/** Creates an empty directory (and its parents). */
export async function writeDirectory(absolute: string): Promise<WriteOutcome> {
  const existing = lstatOrUndefined(absolute)
  if (existing?.isDirectory() === true) return 'up-to-date'
  if (existing !== undefined) throw new RestoreConflictError(`${absolute} exists and is not a directory`)
  await mkdir(absolute, { recursive: true })
  return 'written'
}

/** Same size, mtime (to what `utimes` keeps) and mode bits as the snapshot says. */
export function looksUpToDate(stats: BigIntStats, file: BundleFile): boolean {
  if (stats.size !== BigInt(file.size)) return false
  const mtime = Number(stats.mtimeNs) / 1e9
  if (Math.abs(mtime - file.mtime) > 1e-5) return false
  const mode = Number(stats.mode)
  return modeFor(mode, file) === (mode & 0o7777)
}

export async function contentMatches(absolute: string, file: BundleFile, options: FileWriterOptions): Promise<boolean> {
  const handle = await open(absolute, 'r')
  try {
    let offset = 0
    for (const part of file.parts) {
      const bytes = new Uint8Array(part.size)
      const { bytesRead } = await handle.read(bytes, 0, part.size, offset)
      if (bytesRead !== part.size) return false
      offset += part.size
      const target = partTarget(part.url)
      if (target.mode === 'convergent') {
        // The convergent key is the SHA-256 of the plaintext: no block needs fetching.
        if (createHash('sha256').update(bytes).digest('hex') !== target.key) return false
      } else {
        const expected = await loadPlaintext(options.context, part.url, part.size)
        if (Buffer.compare(expected, bytes) !== 0) return false
      }
    }
    return true
  } finally {
    await handle.close()
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written)
    written += bytesWritten
  }
}

export function lstatOrUndefined(path: string): BigIntStats | undefined {
  // Not a caught ENOENT: on a fresh restore every file is missing, and building each error's stack costs more than the lstat.
  return lstatSync(path, { bigint: true, throwIfNoEntry: false })
}
