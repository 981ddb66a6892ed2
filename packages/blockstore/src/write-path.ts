import { unlink } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import { type BlockId, throwIfAborted, verifyStoredBlock } from '@libernet/core'
import { writeFileAtomic } from './atomic-write.ts'
import type { WrittenBlock } from './block-files.ts'
import { asDiskFull } from './disk-full.ts'
import { evictTo, makeRoom } from './eviction.ts'
import { fileSize } from './files.ts'
import { addRequests } from './heat.ts'
import { toKey } from './keys.ts'
import { STAGING_URL } from './metadata.ts'
import { stageBlock } from './pinning.ts'
import type { StoreState } from './state.ts'
import type { PutBlockOptions } from './types.ts'

/**
 * The write path of one block (call holding the block's lock; the id and
 * size are checked by the caller). The bytes go to an invisible temp file
 * while, on this thread, their SHA-256 is checked against the id and their
 * CRC-32 taken for later reads; a mismatch, a quota refusal or a full disk
 * removes the temp file before anything is renamed, evicted or recorded.
 * The metadata row is written after the rename, so a row always names a
 * complete file. Returns false when the block was already stored.
 */
export async function putBlockFile(
  state: StoreState,
  id: BlockId,
  bytes: Uint8Array,
  options: PutBlockOptions,
): Promise<boolean> {
  throwIfAborted(options.signal)
  state.assertOpen()
  const key = toKey(id)
  const { pinnedBy } = options
  const existing = state.db.getBlock(key)
  if (existing !== undefined) {
    verifyStoredBlock(id, bytes)
    if ((await fileSize(state.layout.locate(id).file)) === existing.size) {
      if (pinnedBy !== undefined) stageBlock(state, id, existing.pinned, existing.size, pinnedBy)
      return false
    }
    // The file went missing or changed under its row (a power cut, a hand edit): these verified bytes replace it.
    state.write(() => state.db.deleteBlock(key))
    state.forgetRow(id, existing)
  }
  const pinned = pinnedBy !== undefined || state.db.isPinned(key)
  const size = bytes.byteLength
  let reserved = 0
  try {
    const sync = pinned || state.fsync === 'always'
    const { dir, file } = state.layout.locate(id)
    let crc = 0
    let createdDir: boolean
    try {
      createdDir = await writeFileAtomic(state.layout.tmp, file, bytes, {
        sync,
        // Both on this thread while libuv's pool writes the bytes. (Hashing on the pool instead, with
        // WebCrypto's digest, was measured: it copies the block, costs more CPU, and was slower under load.)
        whileWriting: () => {
          verifyStoredBlock(id, bytes)
          crc = crc32(bytes)
        },
        beforeRename: pinned
          ? undefined
          : async () => {
              await makeRoom(state, size)
              reserved = size
            },
      })
    } catch (err) {
      throw asDiskFull(err) ?? err
    }
    const now = state.now()
    try {
      state.write(() => {
        state.db.insertBlock(key, size, crc, addRequests(undefined, 1, now, state.halfLife), now)
        if (pinnedBy !== undefined) state.db.addPins(state.db.ensureRoot(pinnedBy, STAGING_URL, now).rid, [key])
      })
    } catch (err) {
      await unlink(file).catch(() => {})
      throw err
    }
    state.countRow({ size, pinned }, +1)
    // A new shard directory's own entry is synced with the next batch, whatever the policy.
    if (createdDir) state.dirs.markDirty(state.layout.blocks)
    if (sync) state.dirs.markDirty(dir)
    else state.unsynced.set(id, ++state.writes)
    return true
  } finally {
    state.reserved -= reserved
  }
}

/**
 * Records block files a {@link BlockFileWriter} put in place (in a worker):
 * one metadata transaction for the batch, each file marked for the next
 * durability sync (a file written again over a durable one is new on disk
 * too). Unpinned blocks count against the quota like any put: when the batch
 * takes the cache past it, the least-requested unpinned blocks are evicted.
 * Returns, per block, whether it was not in the store before.
 */
export async function adoptBlockFiles(state: StoreState, blocks: readonly WrittenBlock[]): Promise<boolean[]> {
  state.assertOpen()
  const now = state.now()
  const inserted = state.write(() =>
    blocks.map(({ id, size, crc }) =>
      state.db.insertBlock(toKey(id), size, crc, addRequests(undefined, 1, now, state.halfLife), now),
    ),
  )
  for (const [index, block] of blocks.entries()) {
    const row = inserted[index]
    if (row !== undefined) state.countRow({ size: block.size, pinned: row.pinned }, +1)
    state.unsynced.set(block.id, ++state.writes)
    if (block.newDirectory) state.dirs.markDirty(state.layout.blocks)
  }
  if (state.cachedBytes() > state.quota) await evictTo(state, state.quota)
  return inserted.map((row) => row !== undefined)
}
