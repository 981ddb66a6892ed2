import type { CodecPool } from '@libernet/core'
import { bundleFiles, type ContentContext, loadPlaintext, openBundle, partTarget } from './content.ts'
import { MissingBlocksError } from './errors.ts'
import type { SnapshotLog } from './snapshots.ts'
import type { EngineStore } from './store.ts'

export interface CheckOptions {
  store: EngineStore
  pool: CodecPool
  snapshots: SnapshotLog
  /** Verify the stored blocks themselves (every block against its id). */
  verifyStore?: () => Promise<{ checked: number; corrupt: string[] }>
  /** More roots to check (pinned by `put`, say), labelled by their owner. */
  roots?: Array<{ owner: string; url: string }>
  /** Also decrypt every part of every snapshot (checks keys, not only presence). */
  readData?: boolean
  signal?: AbortSignal
  onProgress?: (checked: number) => void
}

export interface SnapshotCheck {
  folder: string
  url: string
  files: number
  parts: number
  /** Ids of blocks the snapshot needs and the store lacks. */
  missing: string[]
  /** Ids of blocks that are there but do not decode (with `readData`). */
  corrupt: string[]
  /** The snapshot itself could not be read (missing or corrupt bundle). */
  error?: string
}

export interface CheckResult {
  store?: { checked: number; corrupt: string[] }
  snapshots: SnapshotCheck[]
}

/** Verifies the store, then every recorded snapshot: its bundles decode and every block it needs is present. */
export async function checkRepository(options: CheckOptions): Promise<CheckResult> {
  const result: CheckResult = { snapshots: [] }
  if (options.verifyStore !== undefined) result.store = await options.verifyStore()
  const context: ContentContext = { store: options.store, pool: options.pool, signal: options.signal }
  const known = new Map<string, 'present' | 'missing' | 'corrupt'>()
  let checked = 0
  const roots: Array<{ folder: string; url: string }> = []
  for (const history of await options.snapshots.all()) {
    for (const snapshot of history.snapshots) roots.push({ folder: history.folder, url: snapshot.url })
  }
  const recorded = new Set(roots.map((root) => root.url))
  for (const root of options.roots ?? []) {
    if (!recorded.has(root.url)) roots.push({ folder: root.owner, url: root.url })
  }
  for (const snapshot of roots) {
    const report: SnapshotCheck = {
      folder: snapshot.folder,
      url: snapshot.url,
      files: 0,
      parts: 0,
      missing: [],
      corrupt: [],
    }
    result.snapshots.push(report)
    try {
      const top = await openBundle(context, snapshot.url)
      for await (const { file } of bundleFiles(context, top, snapshot.url)) {
        report.files++
        for (const part of file.parts) {
          report.parts++
          const { id } = partTarget(part.url)
          let state = known.get(id)
          if (state === undefined) {
            state = await probe(context, id, part.url, options.readData === true)
            known.set(id, state)
            options.onProgress?.(++checked)
          }
          if (state === 'missing' && !report.missing.includes(id)) report.missing.push(id)
          if (state === 'corrupt' && !report.corrupt.includes(id)) report.corrupt.push(id)
        }
      }
    } catch (err) {
      if (err instanceof MissingBlocksError) report.missing.push(...err.ids)
      report.error = (err as Error).message
    }
  }
  return result
}

async function probe(
  context: ContentContext,
  id: string,
  url: string,
  readData: boolean,
): Promise<'present' | 'missing' | 'corrupt'> {
  if (!(await context.store.has(id))) return 'missing'
  if (!readData) return 'present'
  try {
    await loadPlaintext(context, url)
    return 'present'
  } catch (err) {
    if (err instanceof MissingBlocksError) return 'missing'
    return 'corrupt'
  }
}
