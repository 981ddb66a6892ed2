import {
  AbortError,
  type BlockTarget,
  type Bundle,
  type BundleFile,
  type BundleFileEntry,
  blockTargetOfUrl,
  type CodecPool,
  type ContentUrl,
  contentUrl,
  decodeBlock,
  iterateBundleFiles,
  type LibernetUrl,
  parseBundle,
  parseUrl,
} from '@libernet/core'
import { MissingBlocksError, NotFoundError } from './errors.ts'
import type { EngineStore } from './store.ts'

/** What reading content needs: where blocks are, and the workers that decode them. */
export interface ContentContext {
  store: EngineStore
  pool: CodecPool
  signal?: AbortSignal
  /**
   * Decode bundle pieces on this thread, not in the codec pool. For work that
   * starts by reading a snapshot (a restore, an incremental backup, a listing)
   * the pool's first worker takes longer to start (140-190 ms for a restore's
   * top bundle here) than a piece takes to decode (a few ms for 1 MiB); a
   * server answering many requests keeps its event loop free instead.
   */
  bundlesOnThisThread?: boolean
}

/** A block URL as found in bundles: a plain block, or encrypted content with its key. */
export function partTarget(url: string): BlockTarget {
  const target = blockTargetOfUrl(url)
  if (target === undefined) throw new NotFoundError(`${url} is a like query, not content`)
  return target
}

/** The stored bytes of a block, or a {@link MissingBlocksError}. */
export async function loadStored(context: ContentContext, id: string): Promise<Uint8Array> {
  const stored = await context.store.get(id, { signal: context.signal })
  if (stored === undefined) throw new MissingBlocksError([id], `block ${id} is not in the store`)
  return stored
}

/**
 * The plaintext of one block URL (`/sha256/{id}` plain, or encrypted with its
 * key). `size`: its length when known (a part's size), a hint for decoding.
 */
export async function loadPlaintext(context: ContentContext, url: string, size?: number): Promise<Uint8Array> {
  const { mode, id, key } = partTarget(url)
  const { store, pool, signal } = context
  const hints = size !== undefined ? { size, signal } : { signal }
  const file = store.localFile?.(id)
  if (file !== undefined) {
    try {
      // The worker reads the file and checks it (its recorded CRC-32, or the id): no stored bytes on this thread.
      return await pool.decodeFile(mode, file, id, key, hints)
    } catch (err) {
      if (err instanceof AbortError) throw err
      // Gone, replaced, corrupt or undecodable: the store's own read below decides which.
    }
  }
  return decodeStored(context, id, (stored) => pool.decode(mode, stored, id, key, { ...hints, transfer: true }))
}

/**
 * Reads block `id` from the store without hashing it (decoding checks the
 * bytes against the id) and decodes it with `decode`. Unchecked bytes that
 * fail to decode are never used: a verified read quarantines and reports a
 * corrupt file (a plain block may fail as DecompressionError before its id
 * is checked), returns the block if the file was being replaced meanwhile,
 * and otherwise decoding fails as it did.
 */
async function decodeStored(
  context: ContentContext,
  id: string,
  decode: (stored: Uint8Array) => Uint8Array | Promise<Uint8Array>,
): Promise<Uint8Array> {
  const stored = await context.store.get(id, { signal: context.signal, verify: false })
  if (stored === undefined) throw new MissingBlocksError([id], `block ${id} is not in the store`)
  try {
    return await decode(stored)
  } catch (err) {
    if (err instanceof AbortError) throw err
    return decode(await loadStored(context, id))
  }
}

/** Opens a bundle: decodes and validates its top level (sub-bundles are read as they are walked). */
export async function openBundle(context: ContentContext, url: string | ContentUrl): Promise<Bundle> {
  const text = typeof url === 'string' ? url : rootOf(url)
  return parseBundle(await loadBundlePiece(context, text))
}

/** A bundle piece's JSON, decoded where `context.bundlesOnThisThread` says. */
function loadBundlePiece(context: ContentContext, url: string): Promise<Uint8Array> {
  return context.bundlesOnThisThread === true ? decodeHere(context, url) : loadPlaintext(context, url)
}

/** {@link loadPlaintext} decoding on this thread: the same checks, the same fallback to a verified read. */
function decodeHere(context: ContentContext, url: string): Promise<Uint8Array> {
  const { mode, id, key } = partTarget(url)
  return decodeStored(context, id, (stored) => decodeBlock(mode, stored, id, key))
}

/** The URL of the block itself, without a path inside it. */
export function rootOf(url: ContentUrl): string {
  return contentUrl(url.mode, url.id, url.key)
}

/** Every file of a bundle and its sub-bundles, validated across pieces. */
export function bundleFiles(
  context: ContentContext,
  top: Bundle,
  url: string,
): AsyncGenerator<BundleFileEntry, void, undefined> {
  return iterateBundleFiles(top, (sub) => loadBundlePiece(context, sub), { url, signal: context.signal })
}

/** Parses a URL given on the command line, accepting a gateway's http(s) URL too. */
export function parseContentUrl(text: string): LibernetUrl {
  return parseUrl(text)
}

/** A file found in a bundle by its path. */
export async function findFile(
  context: ContentContext,
  top: Bundle,
  url: string,
  path: string,
): Promise<BundleFile | undefined> {
  const direct = top.files.get(path)
  if (direct !== undefined) return direct
  if (top.bundles === undefined) return undefined
  for await (const entry of bundleFiles(context, top, url)) {
    if (entry.path === path) return entry.file
  }
  return undefined
}

/**
 * The plaintext of a file, part after part, with a few parts fetched and
 * decoded ahead (in parallel in the worker pool) of the one being consumed.
 */
export async function* fileContents(
  context: ContentContext,
  file: BundleFile,
  ahead = 4,
): AsyncGenerator<Uint8Array, void, undefined> {
  const window: Array<Promise<Uint8Array>> = []
  let next = 0
  const fill = (): void => {
    while (window.length < ahead && next < file.parts.length) {
      const part = file.parts[next++]!
      const loading = part.size === 0 ? Promise.resolve(new Uint8Array(0)) : loadPlaintext(context, part.url, part.size)
      loading.catch(() => {})
      window.push(loading)
    }
  }
  fill()
  while (window.length > 0) {
    const bytes = await window.shift()!
    fill()
    yield bytes
  }
}
