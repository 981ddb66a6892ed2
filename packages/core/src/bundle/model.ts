import type { PyFloat, PyObject } from '../pyjson.ts'

/**
 * A bundle: one directory snapshot (DESIGN §2 "Bundles"). Both format eras
 * parse into this one model; it is always written in the current era.
 *
 * Keys the model does not know are kept in `extra` (top level, per file, per
 * part) and written back unchanged, so a newer writer's fields survive a
 * round trip through this implementation.
 */

/** `current`: `contents`, 2001-epoch `modified`, `prior`. `2022`: `parts`, POSIX `modified`, `timestamp`, `previous`. */
export type BundleEra = 'current' | '2022'

export interface BundlePart {
  /** `/sha256/{id}/aes256/{key}` (or a passphrase or plain block URL), exactly as written. */
  url: string
  /** Plaintext bytes of this part. */
  size: number
  extra?: PyObject
}

export interface BundleFile {
  /** Total plaintext bytes: the sum of the parts' sizes. */
  size: number
  /** Modification time, POSIX seconds, whichever era the bundle came from. */
  mtime: number
  /** The content in order. A symlinked file also carries its target's bytes here, as the original stores them. */
  parts: BundlePart[]
  /** Written back when defined (the original only ever writes `true`). */
  executable?: boolean
  readonly?: boolean
  /** The symlink target, recorded verbatim; restore decides whether it may be followed. */
  link?: string
  extra?: PyObject
}

/** `null`: an empty directory; a string: a directory symlink and its target. */
export type DirectoryEntry = string | null

export interface Bundle {
  era: BundleEra
  /** Relative path → file. Paths use `/`, no leading slash, no `.`/`..`/empty segments. */
  files: Map<string, BundleFile>
  /** Directories with no file below them, and directory symlinks. `undefined`: the key is absent. */
  directories?: Map<string, DirectoryEntry>
  /** URLs of sub-bundles holding more files. `undefined`: the key is absent. */
  bundles?: string[]
  /** The bundle this one was made incrementally against (`prior`, or `previous` in 2022); `null` is written as `null`. */
  prior?: string | null
  /** 2022 era only: when the backup was made, POSIX seconds. The current era has no such key, so it is not written. */
  timestamp?: number
  extra?: PyObject
}

/**
 * The `modified` value exactly as it was read, kept beside the file it
 * belongs to (out of sight of deep-equality checks), so that writing back an
 * unchanged file reproduces its bytes even for an int or an unusual float.
 */
interface ModifiedAsRead {
  era: BundleEra
  mtime: number
  token: number | bigint | PyFloat
}

const modifiedAsRead = new WeakMap<BundleFile, ModifiedAsRead>()

export function rememberModified(file: BundleFile, era: BundleEra, token: number | bigint | PyFloat): void {
  modifiedAsRead.set(file, { era, mtime: file.mtime, token })
}

/** The current-era `modified` token read for this very file object, if it still has the same mtime. */
export function recalledModified(file: BundleFile): number | bigint | PyFloat | undefined {
  const remembered = modifiedAsRead.get(file)
  if (remembered === undefined || remembered.era !== 'current' || !Object.is(remembered.mtime, file.mtime)) {
    return undefined
  }
  return remembered.token
}

/** An empty current-era bundle. */
export function createBundle(files: Iterable<[string, BundleFile]> = []): Bundle {
  return { era: 'current', files: new Map(files) }
}

/** Total number of parts over all files. */
export function countParts(files: Iterable<BundleFile>): number {
  let count = 0
  for (const file of files) count += file.parts.length
  return count
}
