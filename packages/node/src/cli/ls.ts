import type { BundleFile, DirectoryEntry } from '@libernet/core'
import { bundleFiles, openBundle, rootOf } from '../content.ts'
import { NotFoundError } from '../errors.ts'
import { targetPath } from '../restore/plan.ts'
import { compareCodePoints } from '../util/code-points.ts'
import { formatTimestamp } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'
import { requireContentUrl } from './urls.ts'

interface Listed {
  path: string
  type: 'file' | 'link' | 'directory' | 'directory-link'
  size?: number
  modified?: string
  mtime?: number
  executable?: boolean
  readonly?: boolean
  link?: string
}

export async function lsCommand(url: string, context: CommandContext): Promise<ExitCode> {
  const { output } = context
  const repo = await context.repo()
  const parsed = requireContentUrl(url)
  const content = { store: repo.store, pool: repo.pool, signal: context.signal, bundlesOnThisThread: true }
  const rootUrl = rootOf(parsed)
  const top = await openBundle(content, rootUrl)
  const prefix = parsed.path.join('/')
  const selection = { prefix }

  const directories = [...(top.directories ?? [])]
    .filter(([path]) => targetPath(selection, path) !== undefined)
    .sort(([a], [b]) => compareCodePoints(a, b))
  const listed: Listed[] = []
  let files = 0
  let bytes = 0
  const emit = (entry: Listed): void => {
    if (output.json) listed.push(entry)
    else output.line(formatEntry(entry))
  }
  let next = 0
  for await (const { path, file } of bundleFiles(content, top, rootUrl)) {
    if (targetPath(selection, path) === undefined) continue
    while (next < directories.length && compareCodePoints(directories[next]![0], path) < 0) {
      emit(directoryEntry(...directories[next++]!))
    }
    files++
    if (file.link === undefined) bytes += file.size
    emit(fileEntry(path, file))
  }
  while (next < directories.length) emit(directoryEntry(...directories[next++]!))
  if (prefix !== '' && files === 0 && directories.length === 0) {
    throw new NotFoundError(`no file or directory ${JSON.stringify(prefix)} in this bundle`)
  }
  output.result({ url, files, bytes, entries: listed })
  if (!output.json && !output.quiet) output.info(`${files} files, ${bytes} bytes`)
  return EXIT.ok
}

function fileEntry(path: string, file: BundleFile): Listed {
  const entry: Listed = {
    path,
    type: file.link !== undefined ? 'link' : 'file',
    size: file.size,
    mtime: file.mtime,
    modified: new Date(Math.round(file.mtime * 1000)).toISOString(),
  }
  if (file.executable === true) entry.executable = true
  if (file.readonly === true) entry.readonly = true
  if (file.link !== undefined) entry.link = file.link
  return entry
}

function directoryEntry(path: string, target: DirectoryEntry): Listed {
  return target === null ? { path, type: 'directory' } : { path, type: 'directory-link', link: target }
}

function formatEntry(entry: Listed): string {
  const write = entry.readonly === true ? '-' : 'w'
  const execute = entry.executable === true ? 'x' : '-'
  switch (entry.type) {
    case 'directory':
      return `drwxr-xr-x  ${'-'.padStart(12)}  ${' '.repeat(19)}  ${entry.path}/`
    case 'directory-link':
      return `lrwxrwxrwx  ${'-'.padStart(12)}  ${' '.repeat(19)}  ${entry.path} -> ${entry.link}`
    case 'link':
      return `lrwxrwxrwx  ${String(entry.size).padStart(12)}  ${formatTimestamp(entry.mtime!)}  ${entry.path} -> ${entry.link}`
    case 'file':
      // As a restore makes it under the usual umask 022: execute wherever it can be read.
      return `-r${write}${execute}r-${execute}r-${execute}  ${String(entry.size).padStart(12)}  ${formatTimestamp(entry.mtime!)}  ${entry.path}`
  }
}
