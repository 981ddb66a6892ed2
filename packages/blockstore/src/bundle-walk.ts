import {
  type BlockId,
  blockIdOfUrl,
  decodeBlock,
  InvalidUrlError,
  iterateBundleFiles,
  type LibernetUrl,
  parseBundle,
  parseUrl,
  throwIfAborted,
} from '@libernet/core'

/** Reads a stored block by id (verified). */
export type LoadBlock = (id: BlockId, options: { signal?: AbortSignal }) => Promise<Uint8Array>

export interface WalkOptions {
  signal?: AbortSignal
  /** Also walk the snapshots this one was made against (`prior`, `previous`), all the way back. */
  followPrior?: boolean
}

/**
 * Every block a backup root needs: the root bundle's own block, its
 * sub-bundles' blocks (recursively) and every part of every file. Bundles are
 * parsed by core, which treats them as hostile (cycles, duplicate entries,
 * absurd sub-bundle counts are typed errors). Parts are not read: a pin also
 * records blocks the node does not hold yet.
 */
export async function collectBundleIds(
  rootUrl: string,
  load: LoadBlock,
  options: WalkOptions = {},
): Promise<Set<BlockId>> {
  const { signal } = options
  const ids = new Set<BlockId>()
  const walked = new Set<BlockId>()
  let next: string | null | undefined = rootUrl

  while (typeof next === 'string') {
    throwIfAborted(signal)
    const url = parseRootUrl(next)
    if (walked.has(url.id)) break
    walked.add(url.id)
    ids.add(url.id)

    const top = parseBundle(await decodeUrl(url, load, signal))
    const loadSub = async (subUrl: string, { signal }: { signal?: AbortSignal }): Promise<Uint8Array> => {
      const parsed = parseUrl(subUrl)
      if (parsed.kind === 'like') throw new InvalidUrlError(`a sub-bundle cannot be a like query: ${subUrl}`)
      ids.add(parsed.id)
      return decodeUrl(parsed, load, signal)
    }
    for await (const { file } of iterateBundleFiles(top, loadSub, { url: next, signal })) {
      for (const part of file.parts) {
        const id = blockIdOfUrl(part.url)
        if (id !== undefined) ids.add(id)
      }
    }
    next = options.followPrior === true ? top.prior : undefined
  }
  return ids
}

type BundleUrl = Exclude<LibernetUrl, { kind: 'like' }>

/** A pin root names a whole bundle: a block or encrypted-content URL without a path inside it. */
export function parseRootUrl(text: string): BundleUrl {
  const url = parseUrl(text)
  if (url.kind === 'like') throw new InvalidUrlError(`a like query cannot be pinned: ${text}`)
  if (url.kind === 'content' && url.path.length > 0) {
    throw new InvalidUrlError(`pin the backup root, not a path inside it: ${text}`)
  }
  return url
}

async function decodeUrl(url: BundleUrl, load: LoadBlock, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const stored = await load(url.id, { signal })
  return url.kind === 'block' ? decodeBlock('plain', stored, url.id) : decodeBlock(url.mode, stored, url.id, url.key)
}
