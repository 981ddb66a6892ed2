import { hostname } from 'node:os'
import { type Bundle, type CodecPool, contentUrl, serializeBundle } from '@libernet/core'
import type { EngineStore } from '../store.ts'
import { type LikeQuery, type WrittenIndex, writeIndex } from './find.ts'
import type { MiningProgress } from './mine.ts'
import { formatYearMonth, yearMonthOf } from './target.ts'

export interface PublishIndexOptions {
  user: string
  passphrase: string
  /** This machine's name in the index (default the host name). */
  machine?: string
  /** The folder backed up (absolute path). */
  folder: string
  snapshot: { url: string; time: string }
  store: EngineStore
  pool: CodecPool
  like: LikeQuery
  signal?: AbortSignal
  onProgress?: (progress: MiningProgress) => void
}

export interface PublishedIndex {
  /** The index block: `/sha256/{id}/passphrase/{key}`. */
  url: string
  /** The small bundle that pins it (and gets it replicated) like a snapshot. */
  pinUrl: string
  index: WrittenIndex
}

/** Who pins a user's index blocks in the block store. */
export function indexOwner(user: string): string {
  return `rendezvous:${user}`
}

/**
 * Writes the user's backup index after a backup: mined toward this month's
 * target, stored, and pinned through a one-file bundle that refers to it,
 * so the store keeps it (pins.json is durable) and the node replicates it
 * like any snapshot of the owner's.
 */
export async function publishIndex(options: PublishIndexOptions): Promise<PublishedIndex> {
  const { store, pool, user, signal } = options
  const written = await writeIndex({
    user,
    passphrase: options.passphrase,
    like: options.like,
    get: (id, getOptions) => store.get(id, getOptions),
    machine: options.machine ?? hostname(),
    folder: options.folder,
    snapshot: options.snapshot,
    signal,
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  })
  await store.put(written.id, written.bytes, { signal })
  const now = new Date()
  const holder: Bundle = {
    era: 'current',
    files: new Map([
      [
        `rendezvous/${formatYearMonth(yearMonthOf(now))}.index`,
        { size: written.size, mtime: now.getTime() / 1000, parts: [{ url: written.url, size: written.size }] },
      ],
    ]),
  }
  const encoded = await pool.encode('convergent', serializeBundle(holder), { signal })
  await store.put(encoded.id, encoded.bytes, { signal })
  const pinUrl = contentUrl('convergent', encoded.id, encoded.key!)
  await store.pin(pinUrl, indexOwner(user))
  return { url: written.url, pinUrl, index: written }
}
