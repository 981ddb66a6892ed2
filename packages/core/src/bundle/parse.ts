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
import { fromEpoch2001, toEpoch2001 } from '../time.ts'
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

  // `for...in` over parsed JSON (plain objects, own keys only): no array of entries for thousands of files.
  for (const path in files) {
    bundle.files.set(path, fileFromPyJson(path, files[path]!, era))
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
  for (const path in files) {
    const entry = files[path]
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
  // Messages are built only on failure: this runs for every file of every bundle read.
  if (!isPyObject(entry)) throw new InvalidBundleError(`entry of ${JSON.stringify(path)} is not an object`)
  const partsKey = era === 'current' ? 'contents' : 'parts'
  const parts = entry[partsKey]
  if (!Array.isArray(parts)) throw new InvalidBundleError(`"${partsKey}" of ${JSON.stringify(path)} is not an array`)
  if (entry.size === undefined) throw new InvalidBundleError(`${JSON.stringify(path)} has no "size"`)
  const modified = entry.modified
  if (modified === undefined) throw new InvalidBundleError(`${JSON.stringify(path)} has no "modified"`)
  if (typeof modified !== 'number' && typeof modified !== 'bigint' && !(modified instanceof PyFloat)) {
    throw new InvalidBundleError(`"modified" of ${JSON.stringify(path)} is not a number`)
  }
  const written = modified instanceof PyFloat ? modified.value : Number(modified)
  const size = sizeFromPyJson(entry.size, path)
  const fileParts: BundlePart[] = new Array(parts.length)
  for (let index = 0; index < parts.length; index++) fileParts[index] = partFromPyJson(parts[index]!, path, index)
  const file: BundleFile = { size, mtime: era === 'current' ? fromEpoch2001(written) : written, parts: fileParts }
  const { executable, readonly, link } = entry
  if (executable !== undefined) file.executable = booleanFromPyJson(executable, 'executable', path)
  if (readonly !== undefined) file.readonly = booleanFromPyJson(readonly, 'readonly', path)
  if (link !== undefined) {
    if (typeof link !== 'string') throw new InvalidBundleError(`"link" of ${JSON.stringify(path)} is not a string`)
    file.link = link
  }
  const extra = extraKeys(entry, FILE_KEYS, partsKey)
  if (extra !== undefined) file.extra = extra
  // The serializer writes a current-era float back from the mtime; only a token that would not come out the same is kept.
  if (era === 'current' && !(modified instanceof PyFloat && Object.is(toEpoch2001(file.mtime), written))) {
    rememberModified(file, era, modified)
  }
  return file
}

function booleanFromPyJson(value: PyJson, key: string, path: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidBundleError(`"${key}" of ${JSON.stringify(path)} is not a boolean`)
  return value
}

function partFromPyJson(part: PyJson, path: string, index: number): BundlePart {
  if (!isPyObject(part)) throw new InvalidBundleError(`${partName(path, index)} is not an object`)
  if (typeof part.url !== 'string') throw new InvalidBundleError(`url of ${partName(path, index)} is not a string`)
  if (part.size === undefined) throw new InvalidBundleError(`${partName(path, index)} has no "size"`)
  const result: BundlePart = { url: part.url, size: sizeFromPyJson(part.size, path, index) }
  const extra = extraKeys(part, PART_KEYS)
  if (extra !== undefined) result.extra = extra
  return result
}

function partName(path: string, index: number): string {
  return `part ${index} of ${JSON.stringify(path)}`
}

/** A file's size, or with `index` the size of one of its parts. */
function sizeFromPyJson(value: PyJson, path: string, index?: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  const what = () => `size of ${index === undefined ? JSON.stringify(path) : partName(path, index)}`
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
  for (const key in object) {
    if (known.has(key) || key === alsoKnown) continue
    extra ??= {}
    setPyKey(extra, key, object[key]!)
  }
  return extra
}
