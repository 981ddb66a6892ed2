import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseUrl } from '@libernet/core'
import { DataDirectoryError } from './errors.ts'
import { writeFileAtomic } from './util/atomic-write.ts'
import { withLockFile } from './util/lock.ts'

/** One backup of a folder. */
export interface SnapshotRecord {
  /** The top bundle's URL (`/sha256/{id}/aes256/{key}`). */
  url: string
  /** When the backup finished, ISO 8601. */
  time: string
  /** Files in the snapshot. */
  files: number
  /** Bytes of file content in the snapshot. */
  bytes: number
  /** Bytes the backup added to the store (new blocks and bundles). */
  stored: number
  /** The snapshot before it, if any (the bundle's `prior`). */
  prior?: string
  /** Files that could not be read and are missing from the snapshot. */
  skipped?: number
}

export interface FolderHistory {
  /** Absolute path of the folder, as it was backed up. */
  folder: string
  /** Oldest first. */
  snapshots: SnapshotRecord[]
}

const FORMAT_VERSION = 1

/**
 * Per-folder backup history in `{data}/snapshots/`: one JSON file per folder,
 * named by a hash of its absolute path, replaced atomically under a lock
 * file, so a crash or a concurrent backup never leaves a torn record. The
 * newest record is what the next backup of that folder is incremental against.
 */
export class SnapshotLog {
  readonly directory: string

  constructor(directory: string) {
    this.directory = directory
  }

  /** History of one folder (absolute path), or an empty one. */
  async history(folder: string): Promise<FolderHistory> {
    return (await this.#read(this.#fileOf(folder))) ?? { folder, snapshots: [] }
  }

  async latest(folder: string): Promise<SnapshotRecord | undefined> {
    const { snapshots } = await this.history(folder)
    return snapshots.at(-1)
  }

  /** Appends a snapshot to the folder's history, durably. */
  async record(folder: string, snapshot: SnapshotRecord): Promise<void> {
    parseUrl(snapshot.url)
    await mkdir(this.directory, { recursive: true })
    const file = this.#fileOf(folder)
    await withLockFile(`${file}.lock`, async () => {
      const history = (await this.#read(file)) ?? { folder, snapshots: [] }
      history.snapshots.push(snapshot)
      await writeFileAtomic(file, `${JSON.stringify({ version: FORMAT_VERSION, ...history }, null, 2)}\n`)
    })
  }

  /** Every folder's history, sorted by folder path. */
  async all(): Promise<FolderHistory[]> {
    let names: string[]
    try {
      names = await readdir(this.directory)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const histories: FolderHistory[] = []
    for (const name of names.filter((entry) => /^[0-9a-f]{32}\.json$/.test(entry)).sort()) {
      const history = await this.#read(join(this.directory, name))
      if (history !== undefined) histories.push(history)
    }
    return histories.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0))
  }

  #fileOf(folder: string): string {
    const hash = createHash('sha256').update(folder, 'utf8').digest('hex').slice(0, 32)
    return join(this.directory, `${hash}.json`)
  }

  async #read(file: string): Promise<FolderHistory | undefined> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      throw new DataDirectoryError(`snapshot history ${file} is not valid JSON`, { cause: err })
    }
    if (!isHistory(value)) throw new DataDirectoryError(`snapshot history ${file} has an unknown shape`)
    return { folder: value.folder, snapshots: value.snapshots }
  }
}

function isHistory(value: unknown): value is FolderHistory & { version: number } {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return (
    record.version === FORMAT_VERSION &&
    typeof record.folder === 'string' &&
    Array.isArray(record.snapshots) &&
    record.snapshots.every(
      (snapshot: unknown) =>
        typeof snapshot === 'object' &&
        snapshot !== null &&
        typeof (snapshot as Record<string, unknown>).url === 'string' &&
        typeof (snapshot as Record<string, unknown>).time === 'string',
    )
  )
}
