import { readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BlockId } from '@libernet/core'
import { syncDirectory } from './atomic-write.ts'
import { collectBundleIds } from './bundle-walk.ts'
import { StoreLockedError } from './errors.ts'
import { evictTo } from './eviction.ts'
import { exists } from './files.ts'
import { toKey } from './keys.ts'
import type { StoreLayout } from './layout.ts'
import { isDamagedMetadata, MetadataDb, STAGING_URL } from './metadata.ts'
import { pinRoots, savePinsFile } from './pinning.ts'
import { type PinRoot, readPinsFile } from './pins-file.ts'
import { readBlock } from './read-path.ts'
import { scanBlocks } from './scan.ts'
import { SQLITE_BUSY, SQLITE_LOCKED, sqliteResultCode } from './sqlite-codes.ts'
import type { StoreState } from './state.ts'
import { emptyRecovery, type RecoveryReport } from './types.ts'

/**
 * Opens the metadata database. A damaged one (or one of an unknown schema)
 * is set aside and replaced by an empty one, and `reason` says why: the
 * open-time recovery then rebuilds it from the blocks and pins.json.
 */
export async function openMetadata(layout: StoreLayout): Promise<{ db: MetadataDb; reason: string | undefined }> {
  let reason: string | undefined
  try {
    const db = new MetadataDb(layout.database)
    if (db.quickCheck()) return { db, reason: undefined }
    db.close()
    reason = 'metadata failed its integrity check'
  } catch (err) {
    const code = sqliteResultCode(err)
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
      throw new StoreLockedError(`the metadata of ${layout.root} is locked by another process`, { cause: err })
    }
    if (!isDamagedMetadata(err)) throw err
    reason = `metadata unreadable: ${(err as Error).message}`
  }
  await setAside(layout.database)
  return { db: new MetadataDb(layout.database), reason }
}

/** Brings a freshly opened store to "row ⇔ valid file" and pins in line with pins.json. */
export async function recover(
  state: StoreState,
  existed: boolean,
  reason: string | undefined,
): Promise<RecoveryReport> {
  const tempFilesRemoved = await emptyDirectory(state.layout.tmp)
  const shutdown = state.db.getState('shutdown')
  let report: RecoveryReport
  if (reason !== undefined) {
    report = { ...emptyRecovery('rebuilt'), reason }
  } else if (shutdown === 'clean') {
    report = emptyRecovery('clean')
  } else {
    report = emptyRecovery(existed ? 'unclean' : 'created')
  }
  report.tempFilesRemoved = tempFilesRemoved
  if (report.state !== 'clean') {
    const scan = await scanBlocks(state, { readAll: false })
    report.added = scan.added
    report.removed = scan.removed
    report.quarantined = scan.corrupt
    if (report.state === 'created' && (scan.added > 0 || (await exists(state.layout.pinsFile)))) {
      report.state = 'rebuilt'
      report.reason = 'metadata missing'
    }
  }
  await reconcileRoots(state, report)
  state.db.setState('shutdown', 'open')
  state.totals = state.db.totals()
  await evictTo(state, state.quota)
  return report
}

/** pins.json is the source of truth for roots: the database follows it (or is copied to it, if it is lost). */
export async function reconcileRoots(state: StoreState, report: RecoveryReport): Promise<void> {
  const fileRoots = await readPinsFile(state.layout.pinsFile)
  const dbRoots = pinRoots(state)
  if (fileRoots === undefined) {
    if (dbRoots.length > 0 || (await exists(state.layout.pinsFile))) await savePinsFile(state, dbRoots)
    return
  }
  const keyOf = (root: { owner: string; url: string }) => `${root.owner}\n${root.url}`
  const inFile = new Set(fileRoots.map(keyOf))
  for (const root of state.db.roots()) {
    if (root.url !== STAGING_URL && !inFile.has(keyOf(root))) state.write(() => state.db.removeRoot(root.rid))
  }
  const inDb = new Set(dbRoots.map(keyOf))
  await rewalkRoots(
    state,
    fileRoots.filter((root) => !inDb.has(keyOf(root))),
    report,
  )
}

/** Re-pins roots from their bundles; a root that cannot be walked keeps at least its own block pinned. */
async function rewalkRoots(state: StoreState, roots: PinRoot[], report: RecoveryReport): Promise<void> {
  for (const root of roots) {
    let ids: Set<BlockId>
    try {
      ids = await collectBundleIds(root.url, (id) => readBlock(state, id, 'crc'))
    } catch {
      report.unresolvedRoots.push(root.url)
      ids = new Set()
      try {
        ids.add(parseRootId(root.url))
      } catch {
        // pins.json named something that is not a root URL; it is still listed, pinning nothing.
      }
    }
    state.write(() => {
      const row = state.db.ensureRoot(root.owner, root.url, root.pinnedAt)
      state.db.addPins(row.rid, [...ids].map(toKey))
    })
    report.rootsRewalked++
  }
  state.totals = state.db.totals()
}

/** Sets the damaged database aside and starts an empty one, to be re-indexed from the files. */
export async function replaceDatabase(state: StoreState): Promise<void> {
  state.access.flush()
  state.db.close()
  await setAside(state.layout.database)
  state.db = new MetadataDb(state.layout.database)
  state.db.setState('shutdown', 'open')
  state.totals = { blocks: 0, bytes: 0, pinnedBlocks: 0, pinnedBytes: 0 }
}

function parseRootId(url: string): BlockId {
  const match = /^\/sha256\/([0-9a-f]{64})(?:\/|$)/.exec(url)
  if (match === null) throw new TypeError(`not a root URL: ${url}`)
  return match[1]!
}

/** Moves a damaged database (and its WAL) aside, keeping it for inspection. */
async function setAside(database: string): Promise<void> {
  const suffix = `.damaged-${Date.now()}`
  for (const file of [database, `${database}-wal`, `${database}-shm`]) {
    await rename(file, `${file}${suffix}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }
}

async function emptyDirectory(dir: string): Promise<number> {
  const entries = await readdir(dir)
  await Promise.all(entries.map((entry) => rm(join(dir, entry), { recursive: true, force: true })))
  if (entries.length > 0) await syncDirectory(dir)
  return entries.length
}
