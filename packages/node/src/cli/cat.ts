import { once } from 'node:events'
import { rename, writeFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { type BundleFile, parseUrl } from '@libernet/core'
import {
  bundleFiles,
  type ContentContext,
  fileContents,
  findFile,
  loadPlaintext,
  loadStored,
  openBundle,
  rootOf,
} from '../content.ts'
import { NotFoundError } from '../errors.ts'
import { partialPath, writeRegularFile } from '../restore/writer.ts'
import { Semaphore } from '../util/semaphore.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

/** What a URL names for `cat` and `get`: bytes of one block, or a file inside a bundle. */
type Resolved = { kind: 'bytes'; bytes: Uint8Array; name: string } | { kind: 'file'; file: BundleFile; name: string }

async function resolveUrl(url: string, content: ContentContext): Promise<Resolved> {
  const parsed = parseUrl(url)
  if (parsed.kind === 'like') throw new NotFoundError('a like URL lists blocks; there is nothing to print')
  if (parsed.kind === 'block') return { kind: 'bytes', bytes: await loadStored(content, parsed.id), name: parsed.id }
  const rootUrl = rootOf(parsed)
  if (parsed.path.length === 0) return { kind: 'bytes', bytes: await loadPlaintext(content, rootUrl), name: parsed.id }
  const path = parsed.path.join('/')
  const top = await openBundle(content, rootUrl)
  const file = await findFile(content, top, rootUrl, path)
  if (file === undefined) {
    const isDirectory =
      top.directories?.has(path) === true || (await hasEntriesBelow(content, top, rootUrl, `${path}/`))
    throw new NotFoundError(
      isDirectory ? `${path} is a directory; use ls` : `no file ${JSON.stringify(path)} in this bundle`,
    )
  }
  return { kind: 'file', file, name: basename(path) }
}

async function hasEntriesBelow(
  content: ContentContext,
  top: Awaited<ReturnType<typeof openBundle>>,
  rootUrl: string,
  prefix: string,
): Promise<boolean> {
  for await (const { path } of bundleFiles(content, top, rootUrl)) if (path.startsWith(prefix)) return true
  return false
}

async function writeOut(stream: NodeJS.WritableStream, bytes: Uint8Array): Promise<void> {
  if (!stream.write(bytes)) await once(stream, 'drain')
}

export async function catCommand(url: string, context: CommandContext): Promise<ExitCode> {
  const repo = await context.repo()
  const content = { store: repo.store, pool: repo.pool, signal: context.signal, bundlesOnThisThread: true }
  const resolved = await resolveUrl(url, content)
  const stdout = context.output.stdout
  if (resolved.kind === 'bytes') {
    await writeOut(stdout, resolved.bytes)
  } else {
    for await (const bytes of fileContents(content, resolved.file)) await writeOut(stdout, bytes)
  }
  return EXIT.ok
}

export async function getCommand(url: string, out: string | undefined, context: CommandContext): Promise<ExitCode> {
  if (out === '-') return catCommand(url, context)
  const repo = await context.repo()
  const content = { store: repo.store, pool: repo.pool, signal: context.signal, bundlesOnThisThread: true }
  const resolved = await resolveUrl(url, content)
  const target = resolve(out ?? resolved.name)
  let size: number
  if (resolved.kind === 'bytes') {
    const temporary = partialPath(target)
    await writeFile(temporary, resolved.bytes)
    await rename(temporary, target)
    size = resolved.bytes.byteLength
  } else {
    await writeRegularFile(target, resolved.file, {
      context: content,
      budget: new Semaphore(32 * 1024 * 1024),
      fsync: true,
      verify: false,
      zeroParts: new Set(),
    })
    size = resolved.file.size
  }
  context.output.result({ url, path: target, bytes: size })
  context.output.line(target)
  return EXIT.ok
}
