import { type BlockId, parseBlockId, throwIfAborted } from '@libernet/core'
import { NotFoundError } from 'interface-store'
import { collectBundleIds, parseRootUrl } from './bundle-walk.ts'
import { asDiskFull } from './disk-full.ts'
import { makeDurable, startFileSystemSync } from './durability.ts'
import { evictTo } from './eviction.ts'
import { toKey } from './keys.ts'
import { STAGING_URL } from './metadata.ts'
import { type PinRoot, writePinsFile } from './pins-file.ts'
import { readBlock } from './read-path.ts'
import type { StoreState } from './state.ts'
import type { PinOptions, PinResult } from './types.ts'

/** Serializes changes to the set of roots (and pins.json) against each other. */
export const PINS_LOCK = '\0pins'

/**
 * Pins a backup root for `owner` (see `LibernetBlockstore.pin`). Call holding {@link PINS_LOCK}.
 * Every block of the root is made durable before the root is recorded, and
 * pins.json is written before the database (it is what a lost database is
 * rebuilt from).
 */
export async function pinRoot(
  state: StoreState,
  rootUrl: string,
  owner: string,
  options: PinOptions,
): Promise<PinResult> {
  if (options.references !== undefined && options.followPrior === true) {
    throw new TypeError('pin: references are those of one root; they cannot be given with followPrior')
  }
  // A backup pins right after writing its blocks: flushing them overlaps reading the bundles.
  const syncing = startFileSystemSync(state)
  let ids: Set<BlockId>
  try {
    if (options.references !== undefined) {
      const rootId = parseRootUrl(rootUrl).id
      if (!state.db.hasBlock(toKey(rootId))) throw new NotFoundError(`block ${rootId} not found`)
      ids = new Set([rootId])
      for (const id of options.references) ids.add(parseBlockId(id))
    } else {
      ids = await collectBundleIds(rootUrl, (id) => readBlock(state, id, 'crc'), options)
    }
    throwIfAborted(options.signal)
  } catch (err) {
    await syncing
    throw err
  }
  await makeDurable(state, ids, syncing)
  const now = state.now()
  const before = pinRoots(state)
  const known = before.some((root) => root.owner === owner && root.url === rootUrl)
  const keys = [...ids].map(toKey)
  await updateRoots(state, known ? before : [...before, { owner, url: rootUrl, pinnedAt: now }], before, () => {
    const root = state.db.ensureRoot(owner, rootUrl, now)
    state.db.addPins(root.rid, keys)
    const staging = state.db.findRoot(owner, STAGING_URL)
    if (staging !== undefined) state.db.removeRoot(staging.rid)
  })
  state.totals = state.db.totals()
  await evictTo(state, state.quota)
  return { owner, url: rootUrl, blocks: ids.size, present: keys.filter((key) => state.db.hasBlock(key)).length }
}

/** Releases a root's pins; returns how many. Call holding {@link PINS_LOCK}. */
export async function unpinRoot(state: StoreState, rootUrl: string, owner: string): Promise<number> {
  const root = state.db.findRoot(owner, rootUrl)
  if (root === undefined) return 0
  const before = pinRoots(state)
  const after = before.filter((r) => !(r.owner === owner && r.url === rootUrl))
  const released = await updateRoots(state, after, before, () => state.db.removeRoot(root.rid))
  state.totals = state.db.totals()
  await evictTo(state, state.quota)
  return released
}

/**
 * Pins an already stored block to `owner`'s staging root. If it was written
 * without an fsync (as a cached block), `pin()` makes it durable along with
 * the rest of the root before recording the root.
 */
export function stageBlock(state: StoreState, id: BlockId, wasPinned: boolean, size: number, owner: string): void {
  const key = toKey(id)
  state.write(() => state.db.addPins(state.db.ensureRoot(owner, STAGING_URL, state.now()).rid, [key]))
  if (!wasPinned) {
    state.countRow({ size, pinned: false }, -1)
    state.countRow({ size, pinned: true }, +1)
  }
}

/** The pinned backup roots (staging roots are not roots). */
export function pinRoots(state: StoreState): PinRoot[] {
  return state.db
    .roots()
    .filter((root) => root.url !== STAGING_URL)
    .map(({ owner, url, pinnedAt }) => ({ owner, url, pinnedAt }))
}

export async function savePinsFile(state: StoreState, roots: PinRoot[]): Promise<void> {
  try {
    await writePinsFile(state.layout.pinsFile, state.layout.tmp, state.layout.root, roots)
  } catch (err) {
    throw asDiskFull(err) ?? err
  }
}

/**
 * Changes the pinned roots: pins.json first (the source of truth), then the
 * database. If the database cannot follow (a full disk), pins.json is put
 * back so the two still agree.
 */
async function updateRoots<T>(state: StoreState, after: PinRoot[], before: PinRoot[], work: () => T): Promise<T> {
  const changed = after.length !== before.length
  if (changed) await savePinsFile(state, after)
  try {
    return state.write(work)
  } catch (err) {
    if (changed) await savePinsFile(state, before).catch(() => {})
    throw err
  }
}

export function assertOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0) throw new TypeError('a pin owner is a non-empty string')
}
