/**
 * The backup index: which snapshots a user has, per machine and folder. It
 * is the only thing a new machine can find with a user name and passphrase,
 * so it is read as hostile (anyone can mine a block toward a user's target)
 * and every field is checked and bounded before it is used.
 *
 *   {"machines":{MACHINE:{FOLDER:{"time":ISO,"url":SNAPSHOT_URL}}},
 *    "supersedes":[INDEX_URL,...],"user":NAME,"version":1}
 *
 * Serialized as Python's sorted compact JSON, zlib-compressed, then
 * passphrase-encrypted (as the original stores its backup settings).
 */
import { deflateSync, inflateSync } from 'node:zlib'
import {
  BundleTooLargeError,
  type ContentUrl,
  encodePyJson,
  InvalidBundleError,
  isPyObject,
  MAX_CHUNK_SIZE,
  type PyJson,
  type PyObject,
  parsePyJson,
  parseUrl,
} from '@libernet/core'
import { MAX_USER_LENGTH } from './target.ts'

export const INDEX_VERSION = 1

/** One folder's latest snapshot. */
export interface IndexEntry {
  /** The snapshot's top bundle, `/sha256/{id}/aes256/{key}` (or `/passphrase/{key}`). */
  url: string
  /** When the snapshot was taken, ISO 8601 UTC (`2026-11-25T17:10:00.000Z`). */
  time: string
}

/** machine → folder → latest snapshot. */
export type IndexMachines = Record<string, Record<string, IndexEntry>>

export interface BackupIndex {
  user: string
  machines: IndexMachines
  /** URLs of the index blocks this one replaces (it holds everything they held, or newer). */
  supersedes: string[]
  version: typeof INDEX_VERSION
}

/** A backup index that is not what {@link parseIndex} accepts: bad JSON, wrong types, beyond the bounds. */
export class InvalidIndexError extends InvalidBundleError {
  static override readonly code = 'ERR_INVALID_INDEX'
}

export const MAX_MACHINES = 1000
export const MAX_FOLDERS_PER_MACHINE = 1000
export const MAX_ENTRIES = 10_000
export const MAX_SUPERSEDES = 1000
export const MAX_MACHINE_LENGTH = 255
export const MAX_FOLDER_LENGTH = 4096
export const MAX_INDEX_URL_LENGTH = 512
/** Largest JSON an index inflates to; inflating stops there. */
export const MAX_INDEX_JSON = 1_048_576
/**
 * Largest compressed index: its AES padding (≤ 16 B) and a like suffix
 * (≤ 15 B) must still fit in a 1 MiB block.
 */
export const MAX_INDEX_BYTES = MAX_CHUNK_SIZE - 32

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: names with control characters are refused on purpose
const CONTROL = /[\u0000-\u001f\u007f]/
const TOP_KEYS = new Set(['user', 'machines', 'supersedes', 'version'])

/** Checks a parsed JSON value and returns it as an index (InvalidIndexError otherwise). */
export function validateIndex(value: unknown): BackupIndex {
  if (!isObject(value)) throw invalid('an index is a JSON object')
  for (const key of Object.keys(value)) {
    if (!TOP_KEYS.has(key)) throw invalid(`unknown key ${JSON.stringify(key.slice(0, 64))}`)
  }
  if (value.version !== INDEX_VERSION) throw invalid(`unsupported index version`)
  const user = value.user
  if (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER_LENGTH || !user.isWellFormed()) {
    throw invalid('"user" is a name of 1 to 256 characters')
  }
  return {
    user,
    machines: validateMachines(value.machines),
    supersedes: validateSupersedes(value.supersedes),
    version: 1,
  }
}

function validateMachines(value: PyJson | undefined): IndexMachines {
  if (!isObject(value)) throw invalid('"machines" is an object')
  const machines = Object.entries(value)
  if (machines.length > MAX_MACHINES) throw invalid(`more than ${MAX_MACHINES} machines`)
  let entries = 0
  const out: [string, Record<string, IndexEntry>][] = []
  for (const [machine, folders] of machines) {
    checkName(machine, MAX_MACHINE_LENGTH, 'machine')
    if (!isObject(folders)) throw invalid('each machine maps folders to snapshots')
    const list = Object.entries(folders)
    if (list.length > MAX_FOLDERS_PER_MACHINE)
      throw invalid(`more than ${MAX_FOLDERS_PER_MACHINE} folders on a machine`)
    entries += list.length
    if (entries > MAX_ENTRIES) throw invalid(`more than ${MAX_ENTRIES} folders in all`)
    out.push([
      machine,
      Object.fromEntries(
        list.map(([folder, entry]) => [checkName(folder, MAX_FOLDER_LENGTH, 'folder'), validateEntry(entry)]),
      ),
    ])
  }
  return Object.fromEntries(out)
}

function validateEntry(value: PyJson): IndexEntry {
  if (!isObject(value)) throw invalid('a snapshot entry is an object')
  const keys = Object.keys(value)
  if (keys.length !== 2) throw invalid('a snapshot entry has exactly "url" and "time"')
  const { url, time } = value
  if (typeof url !== 'string' || !isSnapshotUrl(url)) throw invalid('"url" is the URL of an encrypted snapshot')
  if (typeof time !== 'string' || !isIsoTime(time)) throw invalid('"time" is an ISO 8601 UTC time')
  return { url, time }
}

function validateSupersedes(value: PyJson | undefined): string[] {
  if (!Array.isArray(value)) throw invalid('"supersedes" is an array')
  if (value.length > MAX_SUPERSEDES) throw invalid(`more than ${MAX_SUPERSEDES} superseded indexes`)
  return value.map((url) => {
    if (typeof url !== 'string' || !isIndexUrl(url)) throw invalid('"supersedes" lists passphrase block URLs')
    return url
  })
}

function checkName(name: string, maxLength: number, what: string): string {
  if (name.length === 0 || name.length > maxLength || CONTROL.test(name) || !name.isWellFormed()) {
    throw invalid(`a ${what} name is 1 to ${maxLength} characters, without control characters`)
  }
  return name
}

function contentUrlOf(url: string): ContentUrl | undefined {
  if (url.length > MAX_INDEX_URL_LENGTH) return undefined
  try {
    const parsed = parseUrl(url)
    return parsed.kind === 'content' && parsed.path.length === 0 && parsed.trailingSlash !== true ? parsed : undefined
  } catch {
    return undefined
  }
}

/** A snapshot's top bundle: an encrypted block URL without a path inside it. */
export function isSnapshotUrl(url: string): boolean {
  return contentUrlOf(url) !== undefined
}

/** An index block: `/sha256/{id}/passphrase/{key}`. */
export function isIndexUrl(url: string): boolean {
  return contentUrlOf(url)?.mode === 'passphrase'
}

/** A strict ISO 8601 UTC time that names a real instant. */
export function isIsoTime(time: string): boolean {
  if (!ISO_TIME.test(time)) return false
  const ms = Date.parse(time)
  // Date.parse rolls 2026-02-31 over to March; the round trip catches it.
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === time.slice(0, 19)
}

function isObject(value: unknown): value is PyObject {
  return isPyObject(value as PyJson)
}

function invalid(message: string): InvalidIndexError {
  return new InvalidIndexError(`backup index: ${message}`)
}

/** The index as stored inside its passphrase block: sorted compact JSON, zlib-compressed. */
export function serializeIndex(index: BackupIndex): Uint8Array {
  const checked = validateIndex(toPyJson(index))
  const json = encodePyJson(toPyJson(checked))
  if (json.byteLength > MAX_INDEX_JSON) throw new BundleTooLargeError(`an index of ${json.byteLength} bytes of JSON`)
  const compressed = deflateSync(json, { level: 9 })
  if (compressed.byteLength > MAX_INDEX_BYTES) {
    throw new BundleTooLargeError(`an index of ${compressed.byteLength} compressed bytes does not fit in a block`)
  }
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength)
}

/** Inflates, parses and validates a decrypted index; anything else is an InvalidIndexError. */
export function parseIndex(plaintext: Uint8Array): BackupIndex {
  let json: Uint8Array
  try {
    json = inflateSync(plaintext, { maxOutputLength: MAX_INDEX_JSON })
  } catch (err) {
    throw new InvalidIndexError('backup index: not zlib data of at most 1 MiB', { cause: err })
  }
  let value: PyJson
  try {
    value = parsePyJson(json, { maxBytes: MAX_INDEX_JSON, maxDepth: 8 })
  } catch (err) {
    throw new InvalidIndexError('backup index: not valid JSON', { cause: err })
  }
  return validateIndex(value)
}

function toPyJson(index: BackupIndex): PyObject {
  return {
    user: index.user,
    machines: Object.fromEntries(
      Object.entries(index.machines).map(([machine, folders]) => [
        machine,
        Object.fromEntries(
          Object.entries(folders).map(([folder, entry]) => [folder, { url: entry.url, time: entry.time }]),
        ),
      ]),
    ),
    supersedes: [...index.supersedes],
    version: index.version,
  }
}

/** True when `a` is a later snapshot than `b` (ties: the larger URL, so every reader picks the same one). */
function isNewer(a: IndexEntry, b: IndexEntry): boolean {
  const difference = Date.parse(a.time) - Date.parse(b.time)
  return difference !== 0 ? difference > 0 : a.url > b.url
}

/**
 * Every (machine, folder) any of `indexes` names, each with its latest
 * snapshot. Indexes written by different machines, or superseded ones, add
 * up: an entry only ever gives way to a later one.
 */
export function mergeIndexes(indexes: Iterable<Pick<BackupIndex, 'machines'>>): IndexMachines {
  const merged = new Map<string, Map<string, IndexEntry>>()
  for (const index of indexes) {
    for (const [machine, folders] of Object.entries(index.machines)) {
      let known = merged.get(machine)
      if (known === undefined) {
        known = new Map()
        merged.set(machine, known)
      }
      for (const [folder, entry] of Object.entries(folders)) {
        const current = known.get(folder)
        if (current === undefined || isNewer(entry, current)) known.set(folder, { url: entry.url, time: entry.time })
      }
    }
  }
  return machinesFromMap(merged)
}

/** Plain objects, keys sorted, built with defineProperty semantics (a machine called `__proto__` stays a key). */
export function machinesFromMap(machines: Map<string, Map<string, IndexEntry>>): IndexMachines {
  return Object.fromEntries(
    [...machines.keys()].sort().map((machine) => {
      const folders = machines.get(machine)!
      return [machine, Object.fromEntries([...folders.keys()].sort().map((folder) => [folder, folders.get(folder)!]))]
    }),
  )
}

/** `machines` as nested Maps, for editing. */
export function machinesToMap(machines: IndexMachines): Map<string, Map<string, IndexEntry>> {
  return new Map(Object.entries(machines).map(([machine, folders]) => [machine, new Map(Object.entries(folders))]))
}

/** One (machine, folder) of an index, with its latest snapshot. */
export interface SnapshotListing extends IndexEntry {
  machine: string
  folder: string
}

/**
 * Every snapshot `machines` lists, newest first, optionally only one
 * machine's or one folder's. Use this rather than indexing the object with
 * a name from the command line: names are data, and a machine called
 * `constructor` must not find Object's.
 */
export function listSnapshots(
  machines: IndexMachines,
  filter: { machine?: string; folder?: string } = {},
): SnapshotListing[] {
  const out: SnapshotListing[] = []
  for (const [machine, folders] of Object.entries(machines)) {
    if (filter.machine !== undefined && machine !== filter.machine) continue
    for (const [folder, entry] of Object.entries(folders)) {
      if (filter.folder !== undefined && folder !== filter.folder) continue
      out.push({ machine, folder, url: entry.url, time: entry.time })
    }
  }
  return out.sort(
    (a, b) =>
      Date.parse(b.time) - Date.parse(a.time) ||
      compareStrings(a.machine, b.machine) ||
      compareStrings(a.folder, b.folder),
  )
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
