import { LEGACY_CHUNK_SIZE } from '../constants.ts'
import {
  DuplicateEntryError,
  InvalidBundleError,
  InvalidUrlError,
  SizeMismatchError,
  UnsafePathError,
} from '../errors.ts'
import { formatUrl, isCanonicalBlockUrl, parseUrl } from '../url.ts'
import type { Bundle, BundleFile, DirectoryEntry } from './model.ts'

/**
 * Bundles arrive from the network and are hostile until proven otherwise:
 * every path, size, URL and entry relation is checked before anything acts
 * on it.
 */

/** Largest part accepted on read: the 2022 era cut files into whole 1 MiB chunks. */
export const MAX_PART_SIZE = LEGACY_CHUNK_SIZE

// Empty path, leading or trailing slash, doubled slash, "." or ".." segment, NUL or backslash.
const SUSPICIOUS_PATH = /^$|^\/|\/$|\/\/|(?:^|\/)\.\.?(?:\/|$)|[\0\\]/

/** Throws {@link UnsafePathError} unless `path` is a relative path of plain segments. */
export function assertSafePath(path: unknown): asserts path is string {
  if (typeof path !== 'string') throw new InvalidBundleError('a bundle path must be a string')
  if (!SUSPICIOUS_PATH.test(path)) return
  if (path === '') throw new UnsafePathError('empty path in bundle')
  if (path.includes('\0')) throw new UnsafePathError(`path with NUL in bundle: ${show(path)}`)
  if (path.includes('\\')) throw new UnsafePathError(`path with a backslash in bundle: ${show(path)}`)
  if (path.startsWith('/')) throw new UnsafePathError(`absolute path in bundle: ${show(path)}`)
  throw new UnsafePathError(`path with an empty, "." or ".." segment in bundle: ${show(path)}`)
}

/** A symlink target is kept verbatim (restore checks where it points) but must be a non-empty string without NUL. */
export function assertLinkTarget(target: unknown, path: string): asserts target is string {
  if (typeof target !== 'string') throw new InvalidBundleError(`link of ${show(path)} is not a string`)
  if (target === '') throw new UnsafePathError(`empty link target for ${show(path)}`)
  if (target.includes('\0')) throw new UnsafePathError(`link target with NUL for ${show(path)}`)
}

/**
 * A URL a bundle may point at: a block (`/sha256/{id}`) or encrypted content
 * (`/sha256/{id}/aes256|passphrase/{key}`) with no path inside it, in
 * canonical form.
 */
export function assertBlockUrl(url: unknown, what: string | (() => string)): asserts url is string {
  // Every part of every file comes through here, twice per bundle read: the canonical forms are recognised at once.
  if (isCanonicalBlockUrl(url)) return
  const name = typeof what === 'string' ? () => what : what
  if (typeof url !== 'string') throw new InvalidBundleError(`${name()} is not a string`)
  let parsed: ReturnType<typeof parseUrl>
  try {
    parsed = parseUrl(url)
  } catch (err) {
    if (err instanceof InvalidUrlError) throw new InvalidBundleError(`${name()} is not a Libernet URL`, { cause: err })
    throw err
  }
  const acceptable =
    parsed.kind === 'block' || (parsed.kind === 'content' && parsed.path.length === 0 && parsed.trailingSlash !== true)
  if (!acceptable || formatUrl(parsed) !== url) {
    throw new InvalidBundleError(`${name()} must be a block or encrypted-content URL without a path: ${show(url)}`)
  }
}

/** Throws {@link SizeMismatchError} unless `value` is a non-negative safe integer. */
export function assertSize(value: unknown, what: string | (() => string)): asserts value is number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return
  const name = typeof what === 'string' ? what : what()
  if (typeof value === 'bigint') throw new SizeMismatchError(`${name} is beyond 2^53: ${value}`)
  const shown = typeof value === 'number' || typeof value === 'object' ? String(value) : typeof value
  throw new SizeMismatchError(`${name} is not a non-negative integer: ${shown}`)
}

/** Checks one file entry: sizes agree with the parts, parts are plausible, URLs and link are well formed. */
export function validateFile(path: string, file: BundleFile): void {
  assertSize(file.size, () => `size of ${show(path)}`)
  if (typeof file.mtime !== 'number' || !Number.isFinite(file.mtime)) {
    throw new InvalidBundleError(`modified of ${show(path)} is not a finite number`)
  }
  if (!Array.isArray(file.parts)) throw new InvalidBundleError(`contents of ${show(path)} is not an array`)
  let total = 0
  const count = file.parts.length
  for (let index = 0; index < count; index++) {
    const part = file.parts[index]!
    const { size, url } = part
    // The common case allocates nothing: names for messages are built on failure only.
    if (!(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      assertSize(size, () => `size of part ${index} of ${show(path)}`)
    }
    if (size > MAX_PART_SIZE) {
      throw new SizeMismatchError(
        `part ${index} of ${show(path)} claims ${size} bytes, more than a block holds (${MAX_PART_SIZE})`,
      )
    }
    // Writers never emit empty parts except, possibly, the single part of an empty file.
    if (size === 0 && count > 1) throw new SizeMismatchError(`part ${index} of ${show(path)} is empty`)
    if (!isCanonicalBlockUrl(url)) assertBlockUrl(url, `part ${index} of ${show(path)}`)
    total += size
  }
  if (total !== file.size) {
    throw new SizeMismatchError(`${show(path)} claims ${file.size} bytes but its parts hold ${total}`)
  }
  if (file.executable !== undefined && typeof file.executable !== 'boolean') {
    throw new InvalidBundleError(`executable of ${show(path)} is not a boolean`)
  }
  if (file.readonly !== undefined && typeof file.readonly !== 'boolean') {
    throw new InvalidBundleError(`readonly of ${show(path)} is not a boolean`)
  }
  if (file.link !== undefined) assertLinkTarget(file.link, path)
}

/**
 * Accumulates the entries of a bundle (and of its sub-bundles) and refuses
 * any that collide: the same path twice, a file that is also a directory
 * entry, anything below a file or a directory link, and a file below an
 * "empty" directory. Matching is exact (no case or Unicode folding).
 */
export class EntryTracker {
  readonly #files = new Set<string>()
  readonly #directories = new Map<string, DirectoryEntry>()
  /** Proper ancestors of files. */
  readonly #fileAncestors = new Set<string>()
  /** Proper ancestors of directory entries. */
  readonly #directoryAncestors = new Set<string>()

  addFile(path: string): void {
    assertSafePath(path)
    if (this.#files.has(path)) throw new DuplicateEntryError(`${show(path)} is listed twice`)
    if (this.#directories.has(path)) throw new DuplicateEntryError(`${show(path)} is both a file and a directory`)
    if (this.#fileAncestors.has(path) || this.#directoryAncestors.has(path)) {
      throw new DuplicateEntryError(`${show(path)} is a file but other entries lie below it`)
    }
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const ancestor = path.slice(0, slash)
      // Already below a file accepted before, so neither a file nor a directory entry (which would have failed).
      if (this.#fileAncestors.has(ancestor)) continue
      if (this.#files.has(ancestor))
        throw new DuplicateEntryError(`${show(path)} lies below the file ${show(ancestor)}`)
      const directory = this.#directories.get(ancestor)
      if (typeof directory === 'string') {
        throw new DuplicateEntryError(`${show(path)} lies below the directory link ${show(ancestor)}`)
      }
      if (directory === null) {
        throw new DuplicateEntryError(`${show(path)} lies below ${show(ancestor)}, listed as an empty directory`)
      }
    }
    this.#files.add(path)
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      this.#fileAncestors.add(path.slice(0, slash))
    }
  }

  addDirectory(path: string, entry: DirectoryEntry): void {
    assertSafePath(path)
    if (entry !== null) assertLinkTarget(entry, path)
    if (this.#directories.has(path)) throw new DuplicateEntryError(`directory ${show(path)} is listed twice`)
    if (this.#files.has(path)) throw new DuplicateEntryError(`${show(path)} is both a file and a directory`)
    if (this.#fileAncestors.has(path)) {
      throw new DuplicateEntryError(`${show(path)} is listed as a directory with no files but has files below it`)
    }
    if (entry !== null && this.#directoryAncestors.has(path)) {
      throw new DuplicateEntryError(`${show(path)} is a directory link but other entries lie below it`)
    }
    for (const ancestor of ancestorsOf(path)) {
      if (this.#files.has(ancestor))
        throw new DuplicateEntryError(`${show(path)} lies below the file ${show(ancestor)}`)
      if (typeof this.#directories.get(ancestor) === 'string') {
        throw new DuplicateEntryError(`${show(path)} lies below the directory link ${show(ancestor)}`)
      }
    }
    this.#directories.set(path, entry)
    for (const ancestor of ancestorsOf(path)) this.#directoryAncestors.add(ancestor)
  }
}

function* ancestorsOf(path: string): Generator<string> {
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    yield path.slice(0, slash)
  }
}

/** Checks a whole bundle (one piece: sub-bundles are checked as they are read). Throws the typed error of the first problem. */
export function validateBundle(bundle: Bundle, tracker: EntryTracker = new EntryTracker()): void {
  if (bundle.era !== 'current' && bundle.era !== '2022') throw new InvalidBundleError('unknown bundle era')
  if (!(bundle.files instanceof Map)) throw new InvalidBundleError('files is not a map')
  if (bundle.directories !== undefined) {
    if (!(bundle.directories instanceof Map)) throw new InvalidBundleError('directories is not a map')
    for (const [path, entry] of bundle.directories) tracker.addDirectory(path, entry)
  }
  for (const [path, file] of bundle.files) {
    tracker.addFile(path)
    validateFile(path, file)
  }
  if (bundle.bundles !== undefined) {
    if (!Array.isArray(bundle.bundles)) throw new InvalidBundleError('bundles is not an array')
    for (const [index, url] of bundle.bundles.entries()) assertBlockUrl(url, `sub-bundle ${index}`)
  }
  if (bundle.prior !== undefined && bundle.prior !== null) assertBlockUrl(bundle.prior, 'prior')
  if (bundle.timestamp !== undefined && (typeof bundle.timestamp !== 'number' || !Number.isFinite(bundle.timestamp))) {
    throw new InvalidBundleError('timestamp is not a finite number')
  }
}

function show(text: string): string {
  const shown = text.length > 200 ? `${text.slice(0, 197)}...` : text
  return JSON.stringify(shown)
}
