import { DuplicateEntryError, InvalidBundleError, throwIfAborted } from '../errors.ts'
import { parseUrl } from '../url.ts'
import type { Bundle, BundleFile } from './model.ts'
import { type ParseBundleOptions, parseBundle } from './parse.ts'
import { EntryTracker, validateBundle } from './validate.ts'

/**
 * Reading a bundle together with its sub-bundles. Sub-bundles are fetched
 * lazily, one at a time, so a caller looking for one path or streaming a
 * listing does not hold every piece in memory.
 */

/** Fetches and decodes one sub-bundle: returns its plaintext JSON. */
export type LoadSubBundle = (url: string, options: { signal?: AbortSignal }) => Promise<Uint8Array>

export interface ReadBundleOptions extends Pick<ParseBundleOptions, 'maxBytes' | 'maxDepth'> {
  /** The top-level bundle's own URL: a sub-bundle that points back at it is a cycle. */
  url?: string
  signal?: AbortSignal
  /** Refuse bundles with more sub-bundles than this in total. Default 65,536. */
  maxSubBundles?: number
}

export interface BundleFileEntry {
  path: string
  file: BundleFile
  /** URL of the sub-bundle that listed the file; `undefined` for the top level. */
  source?: string
}

export const DEFAULT_MAX_SUB_BUNDLES = 65_536

/**
 * Yields every file of `top` and of its sub-bundles (depth first, in the
 * order they are listed), checking entries across all pieces: a path listed
 * in two pieces, or below a file or directory link of another piece, is a
 * {@link DuplicateEntryError}, as is a sub-bundle listed twice or pointing
 * back at a bundle being read. A sub-bundle may hold only files (and further
 * sub-bundles, which the 2022 era's reader followed too).
 */
export async function* iterateBundleFiles(
  top: Bundle,
  load: LoadSubBundle,
  options: ReadBundleOptions = {},
): AsyncGenerator<BundleFileEntry, void, undefined> {
  const tracker = new EntryTracker()
  validateBundle(top, tracker)
  for (const [path, file] of top.files) yield { path, file }

  const maxSubBundles = options.maxSubBundles ?? DEFAULT_MAX_SUB_BUNDLES
  const seen = new Set<string>()
  if (options.url !== undefined) seen.add(blockIdOf(options.url))
  const pending = [...(top.bundles ?? [])].reverse()
  let loaded = 0

  while (pending.length > 0) {
    throwIfAborted(options.signal)
    const url = pending.pop()!
    const id = blockIdOf(url)
    if (seen.has(id))
      throw new DuplicateEntryError(`sub-bundle ${url} is listed twice or refers back to a bundle above it`)
    seen.add(id)
    if (++loaded > maxSubBundles) throw new InvalidBundleError(`more than ${maxSubBundles} sub-bundles`)

    const json = await load(url, { signal: options.signal })
    throwIfAborted(options.signal)
    const sub = parseBundle(json, { maxBytes: options.maxBytes, maxDepth: options.maxDepth, tracker })
    if (sub.directories !== undefined || sub.prior !== undefined) {
      throw new InvalidBundleError(`sub-bundle ${url} holds more than files`)
    }
    for (const [path, file] of sub.files) yield { path, file, source: url }
    if (sub.bundles !== undefined) pending.push(...[...sub.bundles].reverse())
  }
}

/** The whole bundle in one model: every file of every piece, no `bundles` list left. */
export async function mergeBundle(top: Bundle, load: LoadSubBundle, options: ReadBundleOptions = {}): Promise<Bundle> {
  const files = new Map<string, BundleFile>()
  for await (const { path, file } of iterateBundleFiles(top, load, options)) files.set(path, file)
  const merged: Bundle = { ...top, files }
  delete merged.bundles
  return merged
}

function blockIdOf(url: string): string {
  const parsed = parseUrl(url)
  if (parsed.kind === 'like') throw new InvalidBundleError(`a sub-bundle cannot be a like query: ${url}`)
  return parsed.id
}
