import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import {
  BlockVerificationError,
  type BundleFileEntry,
  type CodecPool,
  DecompressionError,
  DecryptionError,
  InvalidUrlError,
  parseUrl,
  throwIfAborted,
} from '@libernet/core'
import { bundleFiles, type ContentContext, openBundle, rootOf } from '../content.ts'
import { MissingBlocksError } from '../errors.ts'
import type { EngineStore } from '../store.ts'
import { Semaphore } from '../util/semaphore.ts'
import { assertSelected, type Selection, selectedDirectories, targetPath } from './plan.ts'
import { assertLinkInside, assertLinkTarget, RestoreRoot } from './safe-path.ts'
import { FileSink } from './sink.ts'
import { type FileWriterOptions, writeDirectory, writeLink } from './writer.ts'

/** See {@link RestoreOptions.concurrency}. */
const DEFAULT_CONCURRENCY = 128

/**
 * Files the validating pass keeps for the writing pass, which otherwise
 * fetches and parses every bundle piece again (a fifth of a second of the
 * main thread for the 6,000 files of the backup benchmark). Past this the
 * writing pass reads the bundles again, so memory stays bounded on any tree.
 */
const DEFAULT_KEPT_ENTRIES = 20_000

export interface RestoreOptions {
  store: EngineStore
  pool: CodecPool
  /** Re-check the content of files that look up to date (size, mtime, mode), and rewrite those that differ. */
  verify?: boolean
  /**
   * fsync every file before renaming it into place (default false). A killed
   * restore loses nothing without it (the page cache survives the process) and
   * a rerun finishes the job; it only guards against a power cut, at about a
   * millisecond per file, which on small files costs more than the restore.
   */
  fsync?: boolean
  /** Decoded bytes in flight (default 8 MiB). */
  inFlightBytes?: number
  /**
   * Recreate symlinks whose targets are absolute or lead out of the target
   * directory, verbatim, instead of refusing the restore. Nothing is ever
   * written through a link either way.
   */
  externalLinks?: boolean
  /**
   * Files written at once (default 128): small files are latency-bound, a few
   * round trips each, and with 32 the workers waited for the next ones (the
   * bytes in flight are bounded by `inFlightBytes` whatever this is).
   */
  concurrency?: number
  /**
   * Files the checking pass keeps for the writing pass (default 20,000);
   * with more, the writing pass reads the bundles again.
   */
  keptEntries?: number
  /** Threads that decode blocks and write files (default: one less than the codec pool's, at least one). */
  workers?: number
  signal?: AbortSignal
  progress?: RestoreProgress
  onWarning?: (warning: RestoreWarning) => void
}

export interface RestoreProgress {
  filesTotal: number
  bytesTotal: number
  files: number
  bytes: number
  bytesWritten: number
}

export interface RestoreWarning {
  path: string
  message: string
  /** The file was left out because blocks are missing (they are listed in the result). */
  missing: boolean
}

export interface RestoreResult {
  url: string
  target: string
  files: number
  bytes: number
  written: number
  upToDate: number
  links: number
  directories: number
  bytesWritten: number
  /** Files that could not be restored, with why. */
  failed: Array<{ path: string; reason: string }>
  /** Blocks that were needed and are not in the store. */
  missingBlocks: string[]
  /** Failures that were verification errors (a corrupt block). */
  corrupt: number
  seconds: number
}

export function createRestoreProgress(): RestoreProgress {
  return { filesTotal: 0, bytesTotal: 0, files: 0, bytes: 0, bytesWritten: 0 }
}

/**
 * Restores a snapshot (or the subtree or file its URL's path names) into
 * `directory`. Every path and link of the selection is checked before
 * anything is written; files already there with the right size, mtime and
 * mode are kept, so a rerun after a crash finishes the job. Files whose
 * blocks are missing are listed and left out; everything else is restored.
 */
export async function restore(url: string, directory: string, options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now()
  const parsed = parseUrl(url)
  if (parsed.kind !== 'content') {
    throw new InvalidUrlError(`restore needs a snapshot URL (/sha256/{id}/aes256/{key}), not ${url}`)
  }
  const { store, pool, signal } = options
  const context: ContentContext = { store, pool, signal, bundlesOnThisThread: true }
  const rootUrl = rootOf(parsed)
  const top = await openBundle(context, rootUrl)
  const selection: Selection = { prefix: parsed.path.join('/') }
  const progress = options.progress ?? createRestoreProgress()

  const targetDirectory = resolve(directory)
  await mkdir(targetDirectory, { recursive: true })
  const root = await RestoreRoot.open(targetDirectory)

  const missing = new Set<string>()
  let bytesWritten = 0
  const writerOptions: FileWriterOptions = {
    context,
    budget: new Semaphore(options.inFlightBytes ?? 8 * 1024 * 1024),
    fsync: options.fsync ?? false,
    verify: options.verify ?? false,
    zeroParts: new Set(),
    onWritten: (bytes) => {
      progress.bytesWritten += bytes
      bytesWritten += bytes
    },
  }
  // The creation itself is remembered, not its completion: the files of one directory are written many at
  // a time, and each would otherwise start its own mkdir while the first is under way.
  const created = new Map<string, Promise<unknown>>()
  const ensureParent = async (absolute: string): Promise<void> => {
    const parent = dirname(absolute)
    let creating = created.get(parent)
    if (creating === undefined) {
      creating = mkdir(parent, { recursive: true })
      created.set(parent, creating)
      // A failure is reported to each file that needed the directory, and tried again by the next one.
      creating.catch(() => created.delete(parent))
    }
    await creating
  }
  // Workers that read the block files themselves leave the main thread little but the bundles; otherwise it
  // fetches every block too, and one core is left to it. They start now, to be ready once the checks pass.
  const workers = options.workers ?? (store.localFile !== undefined ? pool.size : Math.max(1, pool.size - 1))
  const sink = new FileSink({ writer: writerOptions, size: workers })
  let directories: ReturnType<typeof selectedDirectories>
  let matched = 0
  let kept: BundleFileEntry[] | undefined = []
  try {
    // First pass: validate everything (bundle structure across all pieces, links, the disk) before writing.
    const checkLink = options.externalLinks === true ? assertLinkTarget : assertLinkInside
    directories = selectedDirectories(selection, top)
    for (const { target, entry } of directories) {
      await root.checkParents(target)
      if (entry !== null) checkLink(target, entry)
    }
    for await (const entry of bundleFiles(context, top, rootUrl)) {
      const { path, file } = entry
      const target = targetPath(selection, path)
      if (target === undefined) continue
      matched++
      if (kept !== undefined) {
        if (kept.length < (options.keptEntries ?? DEFAULT_KEPT_ENTRIES)) kept.push(entry)
        else kept = undefined
      }
      progress.filesTotal++
      if (file.link !== undefined) checkLink(target, file.link)
      else progress.bytesTotal += file.size
      await root.checkParents(target)
    }
    assertSelected(selection, matched, directories.length)
    root.forget()
  } catch (err) {
    await sink.close()
    throw err
  }

  const result: RestoreResult = {
    url,
    target: root.root,
    files: matched,
    bytes: progress.bytesTotal,
    written: 0,
    upToDate: 0,
    links: 0,
    directories: directories.length,
    bytesWritten: 0,
    failed: [],
    missingBlocks: [],
    corrupt: 0,
    seconds: 0,
  }
  try {
    await writeFiles()
  } finally {
    await sink.close()
  }

  async function writeFiles(): Promise<void> {
    const slots = new Semaphore(options.concurrency ?? DEFAULT_CONCURRENCY)
    const running = new Set<Promise<void>>()
    let fatal: unknown

    // Second pass: write, a few files at a time.
    for await (const { path, file } of kept ?? bundleFiles(context, top, rootUrl)) {
      throwIfAborted(signal)
      if (fatal !== undefined) break
      const target = targetPath(selection, path)
      if (target === undefined) continue
      await root.checkParents(target)
      const absolute = root.resolve(target)
      const isNew = root.inNewDirectory(target)
      await slots.acquire(1, signal)
      const task = (async () => {
        try {
          await ensureParent(absolute)
          const outcome =
            file.link !== undefined ? await writeLink(absolute, file.link) : await sink.write(absolute, file, isNew)
          if (file.link !== undefined) result.links++
          if (outcome === 'up-to-date') result.upToDate++
          else result.written++
        } catch (err) {
          if (err instanceof MissingBlocksError) {
            for (const id of err.ids) missing.add(id)
            result.failed.push({ path, reason: `missing ${err.ids.length} block(s)` })
          } else if (isCorruption(err)) {
            result.corrupt++
            result.failed.push({ path, reason: (err as Error).message })
          } else {
            fatal ??= err
          }
          options.onWarning?.({ path, message: (err as Error).message, missing: err instanceof MissingBlocksError })
        } finally {
          progress.files++
          if (file.link === undefined) progress.bytes += file.size
          slots.release(1)
        }
      })()
      running.add(task)
      task.finally(() => running.delete(task))
    }
    await Promise.all(running)
    if (fatal !== undefined) throw fatal
  }

  for (const { target, entry } of directories) {
    throwIfAborted(signal)
    await root.checkParents(target)
    const absolute = root.resolve(target)
    await ensureParent(absolute)
    if (entry === null) await writeDirectory(absolute)
    else await writeLink(absolute, entry)
  }
  result.bytesWritten = bytesWritten
  result.missingBlocks = [...missing].sort()
  result.seconds = (performance.now() - started) / 1000
  return result
}

function isCorruption(err: unknown): boolean {
  return err instanceof DecryptionError || err instanceof DecompressionError || err instanceof BlockVerificationError
}
