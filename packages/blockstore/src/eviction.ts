import { type BlockId, throwIfAborted } from '@libernet/core'
import { QuotaExceededError } from './errors.ts'
import { toId, toKey } from './keys.ts'
import type { StoreState } from './state.ts'
import type { GcResult } from './types.ts'

/** Victims chosen per round of `evictTo`. */
const EVICTION_BATCH = 512

interface Victim {
  id: BlockId
  size: number
}

/**
 * Makes room for an unpinned block of `size` bytes: evicts unpinned blocks,
 * least requested first, and reserves the space. Victims are chosen and
 * their rows dropped synchronously, so concurrent puts never pick the same
 * space twice; if the block cannot fit even in an empty cache, nothing is evicted.
 * The caller releases the reservation (`state.reserved -= size`) once its row is written or it failed.
 */
export async function makeRoom(state: StoreState, size: number): Promise<void> {
  if (size > state.quota) {
    throw new QuotaExceededError(`a block of ${size} bytes exceeds the quota of ${state.quota} bytes`)
  }
  let excess = state.cachedBytes() + state.reserved + size - state.quota
  const victims: Victim[] = []
  if (excess > 0) {
    // Eviction goes by request counts: fold in the batched ones first.
    state.access.flush()
    for (const entry of state.db.evictionOrder()) {
      const id = toId(entry.id)
      if (state.mutex.isBusy(id)) continue
      victims.push({ id, size: entry.size })
      excess -= entry.size
      if (excess <= 0) break
    }
    if (excess > 0) {
      throw new QuotaExceededError(
        `no room for ${size} bytes within the quota of ${state.quota} bytes: the rest is being written`,
      )
    }
  }
  state.reserved += size
  try {
    await evict(state, victims)
  } catch (err) {
    state.reserved -= size
    throw err
  }
}

/** Evicts unpinned blocks, least requested first, until they take at most `target` bytes. */
export async function evictTo(state: StoreState, target: number, signal?: AbortSignal): Promise<GcResult> {
  state.access.flush()
  const result: GcResult = { removed: 0, bytes: 0 }
  while (state.cachedBytes() > target) {
    throwIfAborted(signal)
    let excess = state.cachedBytes() - target
    const victims: Victim[] = []
    for (const entry of state.db.evictionOrder()) {
      const id = toId(entry.id)
      if (state.mutex.isBusy(id)) continue
      victims.push({ id, size: entry.size })
      excess -= entry.size
      if (excess <= 0 || victims.length >= EVICTION_BATCH) break
    }
    if (victims.length === 0) break
    await evict(state, victims)
    result.removed += victims.length
    for (const victim of victims) result.bytes += victim.size
  }
  return result
}

/** Drops the victims' rows now and deletes their files, each under its own lock. */
async function evict(state: StoreState, victims: Victim[]): Promise<void> {
  if (victims.length === 0) return
  state.write(() => {
    for (const { id } of victims) state.db.deleteBlock(toKey(id))
  })
  for (const victim of victims) state.countRow({ size: victim.size, pinned: false }, -1)
  await Promise.all(victims.map(({ id }) => state.mutex.run(id, () => state.removeFile(id))))
}
