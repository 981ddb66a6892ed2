import type { BlockId } from '@libernet/core'
import { syncFile } from './files.ts'
import type { StoreState } from './state.ts'
import { syncFileSystem } from './sync-fs.ts'

/** Pending files from which one whole-file-system sync beats an fsync each. */
const WHOLE_FS_SYNC_THRESHOLD = 64

/**
 * A whole-file-system sync started before the caller knows which blocks it
 * must make durable (a pin still reading its bundles): the blocks are all
 * written by then, so flushing them can overlap the reading. Resolves to the
 * write count it covers, or undefined when it was not worth starting (few
 * unsynced files) or failed; hand it to {@link makeDurable}.
 */
export function startFileSystemSync(state: StoreState): Promise<number | undefined> | undefined {
  if (state.unsynced.size < WHOLE_FS_SYNC_THRESHOLD) return undefined
  const covered = state.writes
  return syncFileSystem(state.layout.root).then((synced) => (synced ? covered : undefined))
}

/**
 * fsyncs the files among `ids` that were written without it, then every
 * dirty directory. Past a few dozen files one syncfs(2) of the store's file
 * system is far cheaper than an fsync each (a backup leaves thousands) and
 * makes the same promise for every write renamed into place before it
 * started, file data and directory entries alike; a write that lands while
 * it runs keeps its pending mark. `started` is such a sync begun earlier
 * ({@link startFileSystemSync}); files it does not cover are synced here.
 * Files are fsynced one by one when syncfs is unavailable or fails.
 */
export async function makeDurable(
  state: StoreState,
  ids: Iterable<BlockId>,
  started?: Promise<number | undefined>,
): Promise<void> {
  const pending: BlockId[] = []
  for (const id of ids) if (state.unsynced.has(id)) pending.push(id)
  let covered = started === undefined ? undefined : await started
  if (covered === undefined && pending.length >= WHOLE_FS_SYNC_THRESHOLD) {
    const writes = state.writes
    if (await syncFileSystem(state.layout.root)) covered = writes
  }
  if (covered !== undefined) {
    for (const id of pending) {
      const written = state.unsynced.get(id)
      if (written !== undefined && written <= covered) state.unsynced.delete(id)
    }
  }
  // Only those the sync did not cover take their lock (a backup's thousands usually all are covered).
  const left = pending.filter((id) => state.unsynced.has(id))
  await Promise.all(left.map((id) => state.mutex.run(id, () => syncIfUnsynced(state, id))))
  await state.dirs.sync()
}

/** Call holding the block's lock. */
async function syncIfUnsynced(state: StoreState, id: BlockId): Promise<void> {
  if (!state.unsynced.has(id)) return
  const { dir, file } = state.layout.locate(id)
  await syncFile(file)
  state.unsynced.delete(id)
  state.dirs.markDirty(dir)
}
