import { InvalidBundleError, SizeMismatchError } from '../errors.ts'
import {
  isPyObject,
  type ParsePyJsonOptions,
  PyFloat,
  type PyJson,
  type PyObject,
  parsePyJson,
  setPyKey,
} from '../pyjson.ts'
import { fromEpoch2001 } from '../time.ts'
import {
  type Bundle,
  type BundleEra,
  type BundleFile,
  type BundlePart,
  type DirectoryEntry,
  rememberModified,
} from './model.ts'
import { assertBlockUrl, assertSize, type EntryTracker, validateBundle } from './validate.ts'

export interface ParseBundleOptions extends ParsePyJsonOptions {
  /** Check entries against those of other pieces already read (sub-bundles of the same top bundle). */
  tracker?: EntryTracker
}

/**
 * Parses a bundle (top level or sub-bundle, either era) from its decoded JSON
 * and validates it. Malformed or hostile input is an {@link InvalidBundleError}
 * or one of its subclasses.
 */
export function parseBundle(json: Uint8Array | string, options: ParseBundleOptions = {}): Bundle {
  const bundle = bundleFromPyJson(parsePyJson(json, options))
  validateBundle(bundle, options.tracker)
  return bundle
}

const CURRENT_TOP_KEYS = new Set(['files', 'directories', 'bundles', 'prior'])
const LEGACY_TOP_KEYS = new Set(['files', 'bundles', 'previous', 'timestamp'])
const FILE_KEYS = new Set(['size', 'modified', 'executable', 'readonly', 'link'])
const PART_KEYS = new Set(['url', 'size'])

/** Converts parsed JSON into the model. Shapes only: {@link validateBundle} checks the content. */
export function bundleFromPyJson(value: PyJson): Bundle {
  if (!isPyObject(value)) throw new InvalidBundleError('a bundle is a JSON object')
  const files = value.files
  if (!isPyObject(files)) throw new InvalidBundleError('a bundle has a "files" object')
  const era = detectEra(value, files)
  const bundle: Bundle = { era, files: new Map() }

  for (const [path, entry] of Object.entries(files)) {
    bundle.files.set(path, fileFromPyJson(path, entry, era))
  }

  if (era === 'current') {
    if (value.directories !== undefined) bundle.directories = directoriesFromPyJson(value.directories)
    if (value.prior !== undefined) bundle.prior = priorFromPyJson(value.prior, 'prior')
  } else {
    if (value.previous !== undefined) bundle.prior = priorFromPyJson(value.previous, 'previous')
    if (value.timestamp !== undefined) bundle.timestamp = numberFromPyJson(value.timestamp, 'timestamp')
  }
  if (value.bundles !== undefined) {
    if (!Array.isArray(value.bundles)) throw new InvalidBundleError('"bundles" is not an array')
    bundle.bundles = value.bundles.map((url, index) => {
      assertBlockUrl(url, `sub-bundle ${index}`)
      return url
    })
  }
  const extra = extraKeys(value, era === 'current' ? CURRENT_TOP_KEYS : LEGACY_TOP_KEYS)
  if (extra !== undefined) bundle.extra = extra
  return bundle
}

function detectEra(top: PyObject, files: PyObject): BundleEra {
  let era: BundleEra | undefined
  for (const [path, entry] of Object.entries(files)) {
    if (!isPyObject(entry)) throw new InvalidBundleError(`entry of ${JSON.stringify(path)} is not an object`)
    const hasContents = entry.contents !== undefined
    const hasParts = entry.parts !== undefined
    if (hasContents === hasParts) {
      throw new InvalidBundleError(`${JSON.stringify(path)} needs exactly one of "contents" and "parts"`)
    }
    const entryEra: BundleEra = hasContents ? 'current' : '2022'
    if (era !== undefined && era !== entryEra) throw new InvalidBundleError('bundle mixes "contents" and "parts"')
    era = entryEra
  }
  const looksCurrent = top.prior !== undefined || top.directories !== undefined
  const looksLegacy = top.previous !== undefined || (era === undefined && !looksCurrent && top.timestamp !== undefined)
  if (looksCurrent && (looksLegacy || era === '2022')) {
    throw new InvalidBundleError('bundle mixes keys of the 2022 and current formats')
  }
  if (looksLegacy && era === 'current') {
    throw new InvalidBundleError('bundle mixes keys of the 2022 and current formats')
  }
  return era ?? (looksLegacy ? '2022' : 'current')
}

function fileFromPyJson(path: string, entry: PyJson, era: BundleEra): BundleFile {
  const where = () => JSON.stringify(path)
  if (!isPyObject(entry)) throw new InvalidBundleError(`entry of ${where()} is not an object`)
  const partsKey = era === 'current' ? 'contents' : 'parts'
  const parts = entry[partsKey]
  if (!Array.isArray(parts)) throw new InvalidBundleError(`"${partsKey}" of ${where()} is not an array`)
  if (entry.size === undefined) throw new InvalidBundleError(`${where()} has no "size"`)
  const modified = entry.modified
  if (modified === undefined) throw new InvalidBundleError(`${where()} has no "modified"`)
  if (typeof modified !== 'number' && typeof modified !== 'bigint' && !(modified instanceof PyFloat)) {
    throw new InvalidBundleError(`"modified" of ${where()} is not a number`)
  }
  const written = modified instanceof PyFloat ? modified.value : Number(modified)
  const file: BundleFile = {
    size: sizeFromPyJson(entry.size, () => `size of ${where()}`),
    mtime: era === 'current' ? fromEpoch2001(written) : written,
    parts: parts.map((part, index) => partFromPyJson(part, () => `part ${index} of ${where()}`)),
  }
  for (const flag of ['executable', 'readonly'] as const) {
    const value = entry[flag]
    if (value === undefined) continue
    if (typeof value !== 'boolean') throw new InvalidBundleError(`"${flag}" of ${where()} is not a boolean`)
    file[flag] = value
  }
  if (entry.link !== undefined) {
    if (typeof entry.link !== 'string') throw new InvalidBundleError(`"link" of ${where()} is not a string`)
    file.link = entry.link
  }
  const extra = extraKeys(entry, FILE_KEYS, partsKey)
  if (extra !== undefined) file.extra = extra
  rememberModified(file, era, modified)
  return file
}

function partFromPyJson(part: PyJson, where: () => string): BundlePart {
  if (!isPyObject(part)) throw new InvalidBundleError(`${where()} is not an object`)
  if (typeof part.url !== 'string') throw new InvalidBundleError(`url of ${where()} is not a string`)
  if (part.size === undefined) throw new InvalidBundleError(`${where()} has no "size"`)
  const result: BundlePart = { url: part.url, size: sizeFromPyJson(part.size, () => `size of ${where()}`) }
  const extra = extraKeys(part, PART_KEYS)
  if (extra !== undefined) result.extra = extra
  return result
}

function sizeFromPyJson(value: PyJson, what: () => string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  if (value instanceof PyFloat) throw new SizeMismatchError(`${what()} is a float: ${value}`)
  if (typeof value !== 'number' && typeof value !== 'bigint') throw new InvalidBundleError(`${what()} is not a number`)
  assertSize(value, what)
  return value
}

function directoriesFromPyJson(value: PyJson): Map<string, DirectoryEntry> {
  if (!isPyObject(value)) throw new InvalidBundleError('"directories" is not an object')
  const directories = new Map<string, DirectoryEntry>()
  for (const [path, entry] of Object.entries(value)) {
    if (entry !== null && typeof entry !== 'string') {
      throw new InvalidBundleError(`directory ${JSON.stringify(path)} is neither null nor a link target`)
    }
    directories.set(path, entry)
  }
  return directories
}

function priorFromPyJson(value: PyJson, key: string): string | null {
  if (value === null) return null
  assertBlockUrl(value, `"${key}"`)
  return value
}

function numberFromPyJson(value: PyJson, key: string): number {
  if (value instanceof PyFloat) return value.value
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  throw new InvalidBundleError(`"${key}" is not a number`)
}

function extraKeys(object: PyObject, known: Set<string>, alsoKnown?: string): PyObject | undefined {
  let extra: PyObject | undefined
  for (const [key, value] of Object.entries(object)) {
    if (known.has(key) || key === alsoKnown) continue
    extra ??= {}
    setPyKey(extra, key, value)
  }
  return extra
}
