import {
  type BundleFile,
  BundleTooLargeError,
  createBundle,
  type DirectoryEntry,
  MAX_BUNDLE_SIZE,
  serializeBundle,
  serializeFileEntry,
} from '@libernet/core'
import { compareCodePoints } from '../util/code-points.ts'

/** Stores one serialized bundle piece and returns its URL. */
export type StorePiece = (json: Uint8Array) => Promise<string>

const FILES_OPEN = '{"files":{'
const FILES_CLOSE = '}}'
const EMPTY_PIECE = FILES_OPEN.length + FILES_CLOSE.length

/** A piece is not cut before it holds this many bytes of entries. */
const MIN_PIECE = 128 * 1024
/** Past the minimum, a piece ends after an entry whose path hash has these low bits zero: about 1 in 1024 entries. */
const CUT_MASK = 1023

export interface BundleWriterResult {
  /** The top bundle's JSON. */
  top: Uint8Array
  /** URLs of the sub-bundles it lists, in order. */
  subBundles: string[]
  files: number
}

/**
 * Writes a bundle as its files stream in, in code point order, without ever
 * holding more than one block's worth of entries: files go into sub-bundles
 * `{"files":{...}}` of at most {@link MAX_BUNDLE_SIZE} bytes, each stored as
 * soon as it is complete, and the top bundle lists them under `bundles`
 * with `directories` and `prior`. A tree that fits in one block is written
 * as a single bundle, as the original writes small trees.
 *
 * Pieces end at entries chosen by a hash of their path (once past a minimum
 * size), not by byte counts, so an edit in one place of a large tree changes
 * one or two sub-bundles and every other one keeps its bytes, its URL and
 * its block: an incremental backup of 100,000 files stores a few pieces, not
 * all of them.
 */
export class BundleWriter {
  readonly #store: StorePiece
  readonly #directories = new Map<string, DirectoryEntry>()
  /** Complete pieces not stored yet: only while the whole bundle might still fit in one block. */
  readonly #held: string[][] = []
  #heldBytes = 0
  #streaming = false
  #current: string[] = []
  #currentBytes = EMPTY_PIECE
  readonly #subBundles: string[] = []
  #lastPath: string | undefined
  #files = 0

  constructor(store: StorePiece) {
    this.#store = store
  }

  /** Adds a file; paths must come in strictly increasing code point order. */
  async add(path: string, file: BundleFile): Promise<void> {
    if (this.#lastPath !== undefined && compareCodePoints(this.#lastPath, path) >= 0) {
      throw new RangeError(
        `bundle entries out of order: ${JSON.stringify(this.#lastPath)} then ${JSON.stringify(path)}`,
      )
    }
    this.#lastPath = path
    this.#files++
    const entry = serializeFileEntry(path, file)
    const added = entry.length + (this.#current.length > 0 ? 1 : 0)
    if (this.#currentBytes + added > MAX_BUNDLE_SIZE) {
      if (this.#current.length === 0) {
        throw new BundleTooLargeError(`the entry of ${JSON.stringify(path)} alone exceeds a bundle block`)
      }
      await this.#endPiece()
    }
    this.#current.push(entry)
    this.#currentBytes += entry.length + (this.#current.length > 1 ? 1 : 0)
    if (this.#currentBytes >= MIN_PIECE && (pathHash(path) & CUT_MASK) === 0) await this.#endPiece()
  }

  /** Records an empty directory (`null`) or a directory symlink (its target). */
  addDirectory(path: string, entry: DirectoryEntry): void {
    this.#directories.set(path, entry)
  }

  /** Stores the remaining pieces and returns the top bundle (not stored: the caller chooses its encryption). */
  async finish(prior?: string): Promise<BundleWriterResult> {
    const directories = this.#directories.size > 0 ? sortedMap(this.#directories) : undefined
    if (!this.#streaming) {
      const pieces = [...this.#held, ...(this.#current.length > 0 ? [this.#current] : [])]
      const single = this.#single(pieces.flat(), directories, prior)
      if (single !== undefined) return { top: single, subBundles: [], files: this.#files }
      for (const piece of this.#held) this.#subBundles.push(await this.#store(pieceJson(piece)))
      this.#held.length = 0
    }
    if (this.#current.length > 0) this.#subBundles.push(await this.#store(pieceJson(this.#current)))
    this.#current = []
    const top = createBundle()
    if (directories !== undefined) top.directories = directories
    top.bundles = this.#subBundles
    if (prior !== undefined) top.prior = prior
    return { top: serializeBundle(top), subBundles: this.#subBundles, files: this.#files }
  }

  async #endPiece(): Promise<void> {
    const piece = this.#current
    const bytes = this.#currentBytes
    this.#current = []
    this.#currentBytes = EMPTY_PIECE
    if (this.#streaming) {
      this.#subBundles.push(await this.#store(pieceJson(piece)))
      return
    }
    this.#held.push(piece)
    this.#heldBytes += bytes
    if (this.#heldBytes > MAX_BUNDLE_SIZE) {
      // Too much for one block after all: from now on every piece is stored as it ends.
      this.#streaming = true
      for (const held of this.#held) this.#subBundles.push(await this.#store(pieceJson(held)))
      this.#held.length = 0
    }
  }

  #single(
    entries: string[],
    directories: Map<string, DirectoryEntry> | undefined,
    prior?: string,
  ): Uint8Array | undefined {
    const rest = createBundle()
    if (directories !== undefined) rest.directories = directories
    if (prior !== undefined) rest.prior = prior
    // The top bundle without files, then the entries spliced in: keys sort "directories" < "files" < "prior".
    const empty = Buffer.from(serializeBundle(rest)).toString('latin1')
    const marker = '"files":{}'
    const at = empty.indexOf(marker)
    const text = `${empty.slice(0, at)}"files":{${entries.join(',')}}${empty.slice(at + marker.length)}`
    return text.length <= MAX_BUNDLE_SIZE ? Buffer.from(text, 'latin1') : undefined
  }
}

function pieceJson(entries: string[]): Uint8Array {
  return Buffer.from(`${FILES_OPEN}${entries.join(',')}${FILES_CLOSE}`, 'latin1')
}

function sortedMap<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => compareCodePoints(a, b)))
}

/** FNV-1a over UTF-16 units: cheap, stable, and spread well enough to place cuts. */
function pathHash(path: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  // Fold the high bits in: FNV's low bits alone are weak for short similar keys.
  return (hash ^ (hash >>> 16)) >>> 0
}
