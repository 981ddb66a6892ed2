import type { Bundle, BundleFile, DirectoryEntry } from '@libernet/core'
import { NotFoundError } from '../errors.ts'

/**
 * Which part of a bundle a restore takes, and where each entry lands: the
 * whole tree, or the subtree (or single file) named by the URL's path.
 */
export interface Selection {
  /** The bundle path the URL names; '' for the whole bundle. */
  prefix: string
}

/** Where a bundle path lands below the restore root, or undefined when it is outside the selection. */
export function targetPath(selection: Selection, path: string): string | undefined {
  const { prefix } = selection
  if (prefix === '') return path
  if (path === prefix) return path.slice(path.lastIndexOf('/') + 1)
  if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length + 1)
  return undefined
}

/** The directory entries of the selection, with their target paths. */
export function selectedDirectories(
  selection: Selection,
  bundle: Bundle,
): Array<{ path: string; target: string; entry: DirectoryEntry }> {
  const selected: Array<{ path: string; target: string; entry: DirectoryEntry }> = []
  for (const [path, entry] of bundle.directories ?? []) {
    const target = targetPath(selection, path)
    if (target === undefined) continue
    // An empty directory named by the URL is the restore root itself.
    if (path === selection.prefix && entry === null) continue
    selected.push({ path, target, entry })
  }
  return selected
}

export interface PlannedFile {
  /** Path in the bundle. */
  path: string
  /** Path below the restore root. */
  target: string
  file: BundleFile
}

/** Throws NotFoundError when a non-empty selection matched nothing. */
export function assertSelected(selection: Selection, matched: number, directories: number): void {
  if (selection.prefix !== '' && matched === 0 && directories === 0) {
    throw new NotFoundError(`no file or directory ${JSON.stringify(selection.prefix)} in this bundle`)
  }
}
