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
 *   re-fetch, since every read is checked and a bad file is quarantined
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

const DAY = 86_400_000
export const DEFAULT_HALF_LIFE = 7 * DAY

/** Throws TypeError/RangeError for options that cannot work, before anything touches the disk. */
export function checkOptions(options: LibernetBlockstoreOptions): void {
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
