import { type Bundle, type BundleFile, encodeSegment } from '@libernet/core'
import { bundleFiles, type ContentContext } from '../content.ts'
import { compareCodePoints } from '../util/code-points.ts'
import { escapeHtml, formatBytes, PAGE_STYLE } from './html.ts'

export interface ListingEntry {
  name: string
  type: 'file' | 'link' | 'directory' | 'directory-link'
  /** Files: bytes of content. */
  size?: number
  /** Files: ISO 8601. */
  modified?: string
  /** Links: the recorded target. */
  link?: string
}

/** What a bundle holds at one path: a file, a directory (with what is directly in it), a directory link, or nothing. */
export interface PathLookup {
  file?: BundleFile
  /** The path is a directory link to this target. */
  link?: string
  directory: boolean
  /** Entries directly below the path when it is a directory, by name. */
  entries: Map<string, ListingEntry>
}

/**
 * Looks a path up in a bundle and its sub-bundles in one pass, collecting
 * what lies directly below it: a directory exists in a bundle only through
 * the paths of its files (or as an empty directory or link entry).
 */
export async function lookUpPath(
  context: ContentContext,
  top: Bundle,
  rootUrl: string,
  path: string,
): Promise<PathLookup> {
  const lookup: PathLookup = { directory: path === '', entries: new Map() }
  const prefix = path === '' ? '' : `${path}/`
  const below = (entryPath: string, entry: ListingEntry | (() => ListingEntry)): void => {
    if (!entryPath.startsWith(prefix)) return
    lookup.directory = true
    const rest = entryPath.slice(prefix.length)
    const slash = rest.indexOf('/')
    if (slash === -1) lookup.entries.set(rest, typeof entry === 'function' ? entry() : entry)
    else if (!lookup.entries.has(rest.slice(0, slash)))
      lookup.entries.set(rest.slice(0, slash), { name: rest.slice(0, slash), type: 'directory' })
  }
  for (const [entryPath, target] of top.directories ?? []) {
    if (entryPath === path) {
      if (target === null) lookup.directory = true
      else lookup.link = target
    } else {
      const name = entryPath.slice(entryPath.lastIndexOf('/') + 1)
      below(entryPath, target === null ? { name, type: 'directory' } : { name, type: 'directory-link', link: target })
    }
  }
  for await (const { path: entryPath, file } of bundleFiles(context, top, rootUrl)) {
    if (entryPath === path) lookup.file = file
    else below(entryPath, () => fileEntry(entryPath.slice(entryPath.lastIndexOf('/') + 1), file))
  }
  return lookup
}

function fileEntry(name: string, file: BundleFile): ListingEntry {
  const entry: ListingEntry = { name, type: file.link === undefined ? 'file' : 'link', size: file.size }
  const modified = new Date(Math.round(file.mtime * 1000))
  if (!Number.isNaN(modified.getTime())) entry.modified = modified.toISOString()
  if (file.link !== undefined) entry.link = file.link
  return entry
}

export function sortedEntries(entries: Map<string, ListingEntry>): ListingEntry[] {
  return [...entries.values()].sort((a, b) => compareCodePoints(a.name, b.name))
}

/** A directory listing page; links are relative to the directory's own URL (which ends in `/`). */
export function renderListing(path: string, entries: ListingEntry[], bundleUrl: string): string {
  const title = path === '' ? '/' : `/${path}/`
  const rows = entries
    .map((entry) => {
      const isDirectory = entry.type === 'directory' || entry.type === 'directory-link'
      const href = `./${encodeSegment(entry.name)}${isDirectory ? '/' : ''}`
      const label = `${entry.name}${isDirectory ? '/' : ''}`
      const link = entry.link === undefined ? '' : ` <span class="muted">→ ${escapeHtml(entry.link)}</span>`
      return `<tr class="${entry.type}"><td><a href="${escapeHtml(href)}">${escapeHtml(label)}</a>${link}</td>
<td class="num">${entry.size === undefined ? '' : escapeHtml(formatBytes(entry.size))}</td><td>${escapeHtml(entry.modified ?? '')}</td></tr>`
    })
    .join('\n')
  const parent = path === '' ? '' : '<tr class="parent"><td><a href="../">../</a></td><td></td><td></td></tr>\n'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Index of ${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>Index of ${escapeHtml(title)}</h1>
<p class="mono muted">${escapeHtml(bundleUrl)}</p>
<table id="listing">
<thead><tr><th>Name</th><th class="num">Size</th><th>Modified</th></tr></thead>
<tbody>
${parent}${rows}
</tbody>
</table>
<p class="muted">${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}</p>
</body>
</html>
`
}
