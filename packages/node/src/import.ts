import { opendir, readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { type BlockId, type CodecPool, LEGACY_MAX_BLOCK_SIZE, throwIfAborted } from '@libernet/core'
import type { EngineStore } from './store.ts'
import { Semaphore } from './util/semaphore.ts'

const ID = /^[0-9a-f]{64}$/

export interface ImportOptions {
  store: EngineStore
  pool: CodecPool
  signal?: AbortSignal
  /** Updated in place: files looked at so far. */
  progress?: { files: number; bytes: number }
}

export interface ImportResult {
  /** Blocks verified and added to the store. */
  imported: number
  /** Blocks the store already had. */
  present: number
  /** Files named like blocks whose bytes do not verify, or that cannot be read. */
  rejected: Array<{ path: string; reason: string }>
  /** Files that are not blocks in any known layout (the original's plaintext caches and like lists). */
  ignored: number
  /** Stored bytes imported. */
  bytes: number
}

/**
 * The block id a file holds, judged by where it lies:
 * - `{id}`: a flat directory of blocks (the interop vectors);
 * - `{id[:3]}/{id[3:]}`: the original's current store (`{root}/data/...`);
 * - `{id[:2]}/{id}.raw`: its 2022 store (`.../sha256/...`). Its decrypted
 *   copies, `.../{id}/aes256/{key}.raw`, lie under a directory that is not
 *   `{id[:2]}` and are not blocks.
 */
export function blockIdOfFile(parent: string, name: string): BlockId | undefined {
  if (ID.test(name)) return name
  if (/^[0-9a-f]{3}$/.test(parent) && /^[0-9a-f]{61}$/.test(name)) return `${parent}${name}`
  if (name.endsWith('.raw')) {
    const id = name.slice(0, -4)
    if (ID.test(id) && parent === id.slice(0, 2)) return id
  }
  return undefined
}

/**
 * Imports every block found below `root`, verifying each against its id
 * before it is stored: a tampered or truncated file is rejected, never kept.
 */
export async function importBlocks(root: string, options: ImportOptions): Promise<ImportResult> {
  const { store, pool, signal } = options
  const result: ImportResult = { imported: 0, present: 0, rejected: [], ignored: 0, bytes: 0 }
  const slots = new Semaphore(16)
  const running = new Set<Promise<void>>()
  let failure: unknown

  const importOne = async (path: string, id: BlockId): Promise<void> => {
    try {
      if (await store.has(id, { signal })) {
        result.present++
        return
      }
      const size = (await stat(path)).size
      if (size > LEGACY_MAX_BLOCK_SIZE) {
        result.rejected.push({ path, reason: `${size} bytes, more than a block may hold` })
        return
      }
      const bytes = new Uint8Array(await readFile(path))
      if (!(await pool.verify(id, bytes, { signal }))) {
        result.rejected.push({ path, reason: 'its bytes do not match its id' })
        return
      }
      if (await store.put(id, bytes, { signal })) {
        result.imported++
        result.bytes += bytes.byteLength
      } else {
        result.present++
      }
    } catch (err) {
      const error = err as NodeJS.ErrnoException
      if (error.syscall !== undefined) result.rejected.push({ path, reason: error.message })
      else failure ??= err
    }
  }

  for await (const { path, parent } of files(root)) {
    throwIfAborted(signal)
    if (failure !== undefined) break
    if (options.progress !== undefined) options.progress.files++
    const id = blockIdOfFile(parent, basename(path))
    if (id === undefined) {
      result.ignored++
      continue
    }
    await slots.acquire(1, signal)
    const task = importOne(path, id).finally(() => slots.release(1))
    running.add(task)
    task.finally(() => running.delete(task))
  }
  await Promise.all(running)
  if (failure !== undefined) throw failure
  return result
}

async function* files(root: string): AsyncGenerator<{ path: string; parent: string }> {
  const info = await stat(root)
  if (info.isFile()) {
    yield { path: root, parent: '' }
    return
  }
  const pending = [root]
  while (pending.length > 0) {
    const directory = pending.pop()!
    for await (const entry of await opendir(directory)) {
      const path = join(directory, entry.name)
      if (entry.isDirectory()) pending.push(path)
      else if (entry.isFile()) yield { path, parent: basename(directory) }
    }
  }
}
