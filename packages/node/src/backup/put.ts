import { stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { type CodecPool, formatUrl, parseUrl, posixSecondsFromNs } from '@libernet/core'
import { NotFoundError } from '../errors.ts'
import type { EngineStore } from '../store.ts'
import { BlockWriter } from './block-writer.ts'
import { BundleWriter } from './bundle-writer.ts'
import { readFileContents } from './read-file.ts'

export interface PutOptions {
  store: EngineStore
  pool: CodecPool
  signal?: AbortSignal
}

export interface PutResult {
  /** The file's URL: its one-file bundle plus its name (`/sha256/{id}/aes256/{key}/{name}`). */
  url: string
  /** The bundle alone. */
  bundleUrl: string
  size: number
  storedBytes: number
}

/**
 * Stores one file as a one-file bundle, so its URL carries its name (a
 * gateway serves it with the right type) and it may be any size.
 */
export async function putFile(path: string, options: PutOptions): Promise<PutResult> {
  const absolute = resolve(path)
  const stats = await stat(absolute)
  if (!stats.isFile()) throw new NotFoundError(`${absolute} is not a regular file`)
  const writer = new BlockWriter({ store: options.store, pool: options.pool, signal: options.signal })
  const contents = await readFileContents(absolute, { writer, signal: options.signal })
  const parts = await Promise.all(contents.parts)
  const mode = Number(contents.stats.mode)
  const name = basename(absolute)
  const bundle = new BundleWriter(async (json) => (await writer.storeContent(json)).url)
  await bundle.add(name, {
    size: contents.size,
    mtime: posixSecondsFromNs(contents.stats.mtimeNs),
    parts,
    ...((mode & 0o100) !== 0 ? { executable: true } : {}),
    ...((mode & 0o200) === 0 ? { readonly: true } : {}),
  })
  const { top } = await bundle.finish()
  const { url: bundleUrl } = await writer.storeContent(top)
  await options.store.pin(bundleUrl, `put:${absolute}`)
  const root = parseUrl(bundleUrl)
  if (root.kind !== 'content') throw new TypeError('a bundle URL is a content URL')
  return {
    url: formatUrl({ ...root, path: [name] }),
    bundleUrl,
    size: contents.size,
    storedBytes: writer.stats.newBytes,
  }
}
