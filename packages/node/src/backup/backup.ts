import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  type BlockId,
  type BundleFile,
  type BundlePart,
  blockIdOfUrl,
  type CodecPool,
  contentUrl,
  type FastCdcOptions,
  fastCdcParams,
  posixSecondsFromNs,
  throwIfAborted,
} from '@libernet/core'
import { bundleFiles, type ContentContext, openBundle, partTarget } from '../content.ts'
import { NotADirectoryError } from '../errors.ts'
import type { SnapshotLog } from '../snapshots.ts'
import type { EngineStore } from '../store.ts'
import { BundleWriter } from './bundle-writer.ts'
import { compileExcludes } from './exclude.ts'
import { IngestFileError, IngestPool } from './ingest-pool.ts'
import { PriorCursor } from './prior.ts'
import { walk } from './walk.ts'

export interface BackupOptions {
  store: EngineStore
  pool: CodecPool
  /** Where the folder's history is kept: the latest snapshot is the prior, and the new one is recorded. */
  snapshots?: SnapshotLog
  /** The snapshot to be incremental against; default: the latest in `snapshots`. `null`: a full backup. */
  prior?: string | null
  /** `--exclude` globs (see compileExcludes). */
  exclude?: readonly string[]
  /** Absolute paths never backed up (the data directory). */
  skipAbsolute?: readonly string[]
  /** Encrypt the top bundle with this passphrase instead of convergently. */
  passphrase?: string
  /** FastCDC sizes (default: core's 64 KiB / 256 KiB / 1 MiB − 16). */
  chunker?: Omit<FastCdcOptions, 'signal' | 'emptyChunk'>
  /** zlib level for compressible chunks (default 1). */
  level?: number
  /** Threads that read, chunk and encode files (default: one less than the codec pool's, at least one). */
  workers?: number
  /** Encoded bytes waiting to be stored at once (default 8 MiB). */
  inFlightBytes?: number
  /** Times a file that changes while read is read again before it is kept as read (default 3). */
  retries?: number
  signal?: AbortSignal
  /** Updated in place as the backup goes; read it as often as you like. */
  progress?: BackupProgress
  onWarning?: (warning: BackupWarning) => void
}

export interface BackupProgress {
  files: number
  bytesRead: number
  /** Bytes of content accounted for: read, or reused unread from the prior snapshot. */
  bytesDone: number
  bytesStored: number
  reusedFiles: number
  problems: number
}

export interface BackupWarning {
  path: string
  kind: 'unreadable' | 'changed' | 'special' | 'prior'
  message: string
}

export interface BackupResult {
  /** URL of the snapshot's top bundle. */
  url: string
  folder: string
  prior: string | null
  files: number
  /** Empty directories and directory links recorded. */
  directories: number
  /** Bytes of file content in the snapshot. */
  bytes: number
  /** Bytes read from disk (new or changed files). */
  bytesRead: number
  /** Bytes of unchanged files taken from the prior snapshot without reading them. */
  bytesReused: number
  /** Bytes added to the store: new blocks, sub-bundles and the top bundle. */
  storedBytes: number
  newBlocks: number
  readFiles: number
  reusedFiles: number
  /** Files left out because they could not be read. */
  skipped: Array<{ path: string; reason: string }>
  /** Files that kept changing while read; the last reading is in the snapshot. */
  changed: string[]
  /** Sockets, FIFOs and devices, not backed up. */
  ignored: number
  seconds: number
}

export function createBackupProgress(): BackupProgress {
  return { files: 0, bytesRead: 0, bytesDone: 0, bytesStored: 0, reusedFiles: 0, problems: 0 }
}

/**
 * Most files whose blocks may still be encoding while later files are read.
 * Enough to keep the workers a few tasks ahead; more only keeps entries alive
 * across garbage collections, and V8 answers by growing the young generation
 * (measured: 1024 pending files doubled it to 64 MiB, 40 MiB more peak RSS).
 */
const MAX_PENDING_FILES = 256

/**
 * Most files the walk may be ahead of the oldest one not yet stored. Files
 * are added to the bundle in walk order, so one large file being read holds
 * up every file behind it; those whose parts were reused from the previous
 * snapshot are ready at once and small, and the walk goes on past them up
 * to this many (an incremental backup walked nothing while the workers read
 * a large changed file, then walked the thousands of unchanged small ones
 * after it, with the workers idle).
 */
const MAX_HELD_FILES = 4096

/**
 * Blocks a backup remembers it referenced, for the pin (which then need not
 * read back the bundle just written). A larger tree's pin reads the bundle:
 * memory stays bounded (about 100 bytes an id).
 */
const MAX_REFERENCES = 200_000

interface PendingFile {
  path: string
  file: Promise<BundleFile | undefined>
  /** The workers read it (its parts were not reused). */
  read: boolean
}

/**
 * Backs up a folder: walks it in bundle order, reuses the parts of files
 * whose size and mtime match the prior snapshot (without reading them),
 * reads, chunks (FastCDC), encrypts and stores the rest, writes the bundle
 * in sub-bundles as it fills, pins the snapshot and records it.
 */
export async function backup(folder: string, options: BackupOptions): Promise<BackupResult> {
  const started = performance.now()
  const root = resolve(folder)
  const rootStats = await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new NotADirectoryError(`cannot back up ${root}: ${err.code ?? err.message}`, { cause: err })
  })
  if (!rootStats.isDirectory()) throw new NotADirectoryError(`cannot back up ${root}: not a directory`)

  const { store, pool, signal } = options
  const progress = options.progress ?? createBackupProgress()
  const warn = (warning: BackupWarning): void => {
    progress.problems++
    options.onWarning?.(warning)
  }
  const context: ContentContext = { store, pool, signal, bundlesOnThisThread: true }
  const prior = options.prior !== undefined ? options.prior : ((await options.snapshots?.latest(root))?.url ?? null)
  const cursor = prior === null ? undefined : await openPrior(context, prior, warn)

  // Validated here, so bad chunker options fail the backup before any worker starts.
  const params = fastCdcParams(options.chunker)
  const writer = new IngestPool({
    store,
    // Workers that write the block files themselves leave the main thread little to do; otherwise it is
    // busy storing blocks, and one core is left to it.
    size: options.workers ?? (store.blockFiles !== undefined ? pool.size : Math.max(1, pool.size - 1)),
    params,
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(options.inFlightBytes !== undefined ? { inFlightBytes: options.inFlightBytes } : {}),
    signal,
  })
  try {
    return await run()
  } finally {
    await writer.close()
  }

  async function run(): Promise<BackupResult> {
    const bundle = new BundleWriter(async (json) => (await writer.storeContent(json)).url)
    const result: Omit<BackupResult, 'url' | 'seconds' | 'storedBytes' | 'newBlocks'> = {
      folder: root,
      prior,
      files: 0,
      directories: 0,
      bytes: 0,
      bytesRead: 0,
      bytesReused: 0,
      readFiles: 0,
      reusedFiles: 0,
      skipped: [],
      changed: [],
      ignored: 0,
    }
    const pending: PendingFile[] = []
    /** Files in `pending` that the workers read. */
    let reading = 0
    const hold = (path: string, file: Promise<BundleFile | undefined>, read: boolean): void => {
      pending.push({ path, file, read })
      if (read) reading++
    }
    let references: Set<BlockId> | undefined = new Set()
    /** Adds files to the bundle, oldest first, while more than `limit` are being read or `held` are pending. */
    const flush = async (limit: number, held = limit): Promise<void> => {
      // Only the last files are sent as a partial task here. Before that the pool sends one only to a worker
      // that has run out: flushing whenever the window was full sent a task per file.
      if (limit === 0) writer.flush()
      while (reading > limit || pending.length > held) {
        const next = pending.shift()!
        if (next.read) reading--
        const file = await next.file
        if (file === undefined) continue
        await bundle.add(next.path, file)
        if (references !== undefined) {
          for (const part of file.parts) references.add(blockIdOfUrl(part.url)!)
          if (references.size > MAX_REFERENCES) references = undefined
        }
        result.files++
        result.bytes += file.size
        progress.files = result.files
        progress.bytesStored = writer.stats.newBytes
      }
    }
    /** Reads, encodes and stores a file in the workers; resolves to its entry, or undefined when it was unreadable. */
    const readAndStore = async (
      path: string,
      absolute: string,
      sizeHint: bigint,
      previous: BundleFile | undefined,
      describe: (read: FileMode) => Omit<BundleFile, 'parts' | 'size'>,
    ): Promise<BundleFile | undefined> => {
      const retries = options.retries ?? 3
      const known = await knownBlocks(context, previous)
      for (let attempt = 0; ; attempt++) {
        throwIfAborted(signal)
        let contents: Awaited<ReturnType<IngestPool['readFile']>>
        try {
          contents = await writer.readFile(absolute, Number(sizeHint), known)
        } catch (err) {
          if (!(err instanceof IngestFileError) || err.code === undefined || err.syscall === undefined) throw err
          result.skipped.push({ path, reason: `${err.code}: ${err.message}` })
          warn({ path, kind: 'unreadable', message: err.message })
          return undefined
        }
        result.bytesRead += contents.size
        progress.bytesRead += contents.size
        progress.bytesDone += contents.size
        // An unstable reading's blocks are stored already; they cost only space until the next gc.
        if (!contents.stable && attempt < retries) continue
        if (!contents.stable) {
          result.changed.push(path)
          warn({ path, kind: 'changed', message: 'changed while it was read; the last reading was kept' })
        }
        result.readFiles++
        return { ...describe(contents), size: contents.size, parts: contents.parts }
      }
    }

    try {
      for await (const entry of walk(root, {
        exclude: compileExcludes(options.exclude ?? []),
        skipAbsolute: options.skipAbsolute,
        signal,
      })) {
        switch (entry.kind) {
          case 'file': {
            const previous = await cursor?.find(entry.path)
            const reused = await reuse(context, previous, entry.stats, undefined)
            if (reused !== undefined) {
              const file: BundleFile = { ...fileMetadata(entry.stats), size: reused.size, parts: reused.parts }
              countReused(file.size)
              hold(entry.path, Promise.resolve(file), false)
            } else {
              const file = readAndStore(entry.path, entry.absolute, entry.stats.size, previous, fileMetadata)
              file.catch(() => {})
              hold(entry.path, file, true)
            }
            break
          }
          case 'link': {
            const previous = await cursor?.find(entry.path)
            const { target, stats } = entry
            if (stats === undefined) {
              // Dangling, or pointing at something that is not a file: the link alone.
              const file: BundleFile = { mtime: mtimeOf(entry.linkStats), size: 0, parts: [], link: target }
              hold(entry.path, Promise.resolve(file), false)
              break
            }
            const reused = await reuse(context, previous, stats, target)
            if (reused !== undefined) {
              countReused(reused.size)
              const file: BundleFile = { ...fileMetadata(stats), size: reused.size, parts: reused.parts, link: target }
              hold(entry.path, Promise.resolve(file), false)
            } else {
              const file = readAndStore(entry.path, entry.absolute, stats.size, previous, (read) => ({
                ...fileMetadata(read),
                link: target,
              }))
              file.catch(() => {})
              hold(entry.path, file, true)
            }
            break
          }
          case 'directory-link':
            bundle.addDirectory(entry.path, entry.target)
            result.directories++
            break
          case 'empty-directory':
            bundle.addDirectory(entry.path, null)
            result.directories++
            break
          case 'special':
            result.ignored++
            warn({ path: entry.path, kind: 'special', message: 'not a regular file, link or directory; not backed up' })
            progress.problems--
            break
          case 'error':
            result.skipped.push({ path: entry.path, reason: entry.error.message })
            warn({ path: entry.path, kind: 'unreadable', message: entry.error.message })
            break
        }
        await flush(MAX_PENDING_FILES, MAX_HELD_FILES)
      }
      await flush(0)
    } catch (err) {
      // Files still in a batch that will never be sent would wait forever: fail them now, then let
      // what was started settle before the caller closes the pool under it.
      writer.abort(err instanceof Error ? err : new Error(String(err)))
      await Promise.allSettled(pending.map((item) => item.file))
      throw err
    } finally {
      await cursor?.close()
    }

    const { top, subBundles } = await bundle.finish(prior ?? undefined)
    for (const piece of subBundles) references?.add(blockIdOfUrl(piece)!)
    let url: string
    let topBytes = 0
    if (options.passphrase !== undefined) {
      const block = await pool.encode('passphrase', top, { passphrase: options.passphrase, signal })
      if (await store.put(block.id, block.bytes, { signal })) topBytes = block.bytes.byteLength
      url = contentUrl('passphrase', block.id, block.key!)
    } else {
      url = (await writer.storeContent(top)).url
    }
    // Every block file recorded in the store before the pin counts and protects them.
    await writer.settle()
    // The workers have nothing left to do: they stop while the pin syncs the store (the backup awaits it before it returns).
    writer.close().catch(() => {})
    const storedBytes = writer.stats.newBytes + topBytes
    await store.pin(url, `backup:${root}`, references !== undefined ? { references } : {})
    const seconds = (performance.now() - started) / 1000
    const summary: BackupResult = {
      ...result,
      url,
      storedBytes,
      newBlocks: writer.stats.newBlocks,
      seconds,
    }
    progress.bytesStored = storedBytes
    await options.snapshots?.record(root, {
      url,
      time: new Date().toISOString(),
      files: summary.files,
      bytes: summary.bytes,
      stored: storedBytes,
      ...(prior !== null ? { prior } : {}),
      ...(summary.skipped.length > 0 ? { skipped: summary.skipped.length } : {}),
    })
    return summary

    function countReused(size: number): void {
      result.reusedFiles++
      result.bytesReused += size
      progress.reusedFiles++
      progress.bytesDone += size
    }
  }
}

async function openPrior(
  context: ContentContext,
  prior: string,
  warn: (warning: BackupWarning) => void,
): Promise<PriorCursor | undefined> {
  try {
    const top = await openBundle(context, prior)
    return new PriorCursor(bundleFiles(context, top, prior))
  } catch (err) {
    warn({
      path: '',
      kind: 'prior',
      message: `cannot read the previous snapshot (${(err as Error).message}); every file is read`,
    })
    return undefined
  }
}

/** The previous entry's parts, when the file is unchanged (same size and mtime) and all its blocks are still stored. */
async function reuse(
  context: ContentContext,
  previous: BundleFile | undefined,
  stats: FileMode & { size: bigint },
  link: string | undefined,
): Promise<{ size: number; parts: BundlePart[] } | undefined> {
  if (previous === undefined || previous.link !== link) return undefined
  if (BigInt(previous.size) !== stats.size || !sameMtime(previous.mtime, mtimeOf(stats))) return undefined
  if (previous.size > 0 && previous.parts.length === 0) return undefined
  for (const part of previous.parts) {
    if (!(await context.store.has(partTarget(part.url).id))) return undefined
  }
  return { size: previous.size, parts: previous.parts }
}

/**
 * The convergent parts of a file's previous version whose blocks are still
 * stored, by key: a changed file's unchanged chunks keep their URLs without
 * being compressed and encrypted again.
 */
async function knownBlocks(
  context: ContentContext,
  previous: BundleFile | undefined,
): Promise<Map<string, string> | undefined> {
  if (previous === undefined || previous.parts.length < 2) return undefined
  const known = new Map<string, string>()
  for (const part of previous.parts) {
    const target = partTarget(part.url)
    if (target.mode !== 'convergent' || target.key === undefined || known.has(target.key)) continue
    if (await context.store.has(target.id)) known.set(target.key, part.url)
  }
  return known
}

/** Bundles keep mtimes as float seconds since 2001: equal within what that float can hold. */
function sameMtime(a: number, b: number): boolean {
  return Math.abs(a - b) < 2e-6
}

/** What a bundle entry records of a file's stats. */
interface FileMode {
  mode: bigint
  mtimeNs: bigint
}

function mtimeOf(stats: FileMode): number {
  return posixSecondsFromNs(stats.mtimeNs)
}

function fileMetadata(stats: FileMode): Omit<BundleFile, 'parts' | 'size'> {
  const metadata: Omit<BundleFile, 'parts' | 'size'> = { mtime: mtimeOf(stats) }
  const mode = Number(stats.mode)
  if ((mode & 0o100) !== 0) metadata.executable = true
  if ((mode & 0o200) === 0) metadata.readonly = true
  return metadata
}
