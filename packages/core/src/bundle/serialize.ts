import { MAX_BUNDLE_SIZE } from '../constants.ts'
import { BundleTooLargeError } from '../errors.ts'
import { asciiBytes, PyFloat, type PyObject, quotePyString, setPyKey, stringifyPyJson } from '../pyjson.ts'
import { toEpoch2001 } from '../time.ts'
import { type Bundle, type BundleFile, type BundlePart, recalledModified } from './model.ts'
import { assertSafePath, validateBundle, validateFile } from './validate.ts'

/**
 * Writes bundles in the current era, byte for byte as the original's
 * `json.dumps(bundle, sort_keys=True, separators=(",", ":"))`.
 */

/**
 * The bundle as UTF-8 JSON. Validates it first (a bundle this node writes is
 * one it would accept) and throws {@link BundleTooLargeError} above
 * {@link MAX_BUNDLE_SIZE}: use `splitBundle` for large trees.
 */
export function serializeBundle(bundle: Bundle): Uint8Array {
  validateBundle(bundle)
  const json = asciiBytes(stringifyPyJson(bundleToPyJson(bundle)))
  if (json.byteLength > MAX_BUNDLE_SIZE) {
    throw new BundleTooLargeError(`bundle of ${json.byteLength} bytes exceeds ${MAX_BUNDLE_SIZE}; split it`)
  }
  return json
}

/** The JSON value of a bundle in the current era. The 2022 `timestamp` has no current-era key and is dropped. */
export function bundleToPyJson(bundle: Bundle): PyObject {
  const top: PyObject = { ...bundle.extra }
  const files: PyObject = {}
  for (const [path, file] of bundle.files) setPyKey(files, path, fileToPyJson(file))
  top.files = files
  if (bundle.directories !== undefined) {
    const directories: PyObject = {}
    for (const [path, entry] of bundle.directories) setPyKey(directories, path, entry)
    top.directories = directories
  }
  if (bundle.bundles !== undefined) top.bundles = [...bundle.bundles]
  if (bundle.prior !== undefined) top.prior = bundle.prior
  return top
}

/**
 * One file's `"path":{...}`, as it appears in a bundle's `files` object,
 * after the checks {@link serializeBundle} makes on it: what a writer
 * streaming a large bundle joins into pieces, one entry at a time.
 */
export function serializeFileEntry(path: string, file: BundleFile): string {
  assertSafePath(path)
  validateFile(path, file)
  return `${quotePyString(path)}:${stringifyPyJson(fileToPyJson(file))}`
}

/** The JSON value of one file entry in the current era. */
export function fileToPyJson(file: BundleFile): PyObject {
  const entry: PyObject = { ...file.extra }
  entry.contents = file.parts.map(partToPyJson)
  entry.modified = recalledModified(file) ?? new PyFloat(toEpoch2001(file.mtime))
  entry.size = file.size
  if (file.executable !== undefined) entry.executable = file.executable
  if (file.readonly !== undefined) entry.readonly = file.readonly
  if (file.link !== undefined) entry.link = file.link
  return entry
}

function partToPyJson(part: BundlePart): PyObject {
  return { ...part.extra, size: part.size, url: part.url }
}
