import { MAX_BUNDLE_SIZE } from '../constants.ts'
import { BundleTooLargeError, throwIfAborted } from '../errors.ts'
import { asciiBytes, compareCodePoints, type PyObject, quotePyString, stringifyPyJson } from '../pyjson.ts'
import type { Bundle, BundleFile } from './model.ts'
import { bundleToPyJson, fileToPyJson } from './serialize.ts'
import { assertBlockUrl, validateBundle } from './validate.ts'

/**
 * Splitting a bundle that is too large for one block into a top-level bundle
 * plus sub-bundles `{"files":{...}}` listed under `"bundles"`.
 *
 * The choice of files follows the original (`__thin_bundle` and
 * `__files_for_bundle` in its `libernet/bundle.py`), so that the same tree
 * gives the same blocks: files are taken most parts first, and a piece takes
 * every file that still fits an estimate built from the average serialized
 * bytes per part. The top-level bundle is filled first (it keeps the
 * directories and other keys), then one sub-bundle after another.
 *
 * Two things differ, both only where the original fails an assertion: the
 * estimate is backed by an exact byte count, so no piece ever exceeds
 * {@link MAX_BUNDLE_SIZE} (the estimate under-counts files with few parts and
 * long or non-ASCII names), and when the top level cannot hold its list of
 * sub-bundle URLs the plan is redone with room reserved for them. Files
 * whose part counts tie are taken in code point order of their paths (the
 * original used directory-walk order, which no other machine can reproduce).
 */

export type EncodeSubBundle = (json: Uint8Array) => string | Promise<string>

export interface SplitBundleOptions {
  signal?: AbortSignal
}

export interface SplitBundleResult {
  /** The top-level bundle's JSON. */
  top: Uint8Array
  /** Sub-bundles in the order the top level lists them. */
  subBundles: Array<{ url: string; json: Uint8Array }>
}

/** Length of `/sha256/{id}/aes256/{key}`, the URL of a convergent sub-bundle. */
const CONVERGENT_URL_LENGTH = 144
const EMPTY_SUB_BUNDLE = '{"files":{}}'
const MAX_PLANS = 16

interface Candidate {
  path: string
  file: BundleFile
  parts: number
  /** Python `len()` of the path: code points. */
  nameLength: number
  /** Bytes of `"path":{...}` in the serialized bundle. */
  cost: number
}

interface Plan {
  top: Candidate[]
  subs: Candidate[][]
}

/**
 * Serializes `bundle`, moving files into sub-bundles when it exceeds
 * {@link MAX_BUNDLE_SIZE}. `encode` stores each sub-bundle (convergent, as the
 * original does) and returns its URL; it is called once per sub-bundle, in
 * order. (Only if it returns URLs longer than convergent ones and the top
 * level then overflows is the plan redone, and pieces of the first plan may
 * go unused.) Throws {@link BundleTooLargeError} when no split can work (a single
 * file with too many parts, or directories and extra keys that alone exceed
 * the limit).
 */
export async function splitBundle(
  bundle: Bundle,
  encode: EncodeSubBundle,
  options: SplitBundleOptions = {},
): Promise<SplitBundleResult> {
  validateBundle(bundle)
  const whole = stringifyPyJson(bundleToPyJson(bundle))
  if (whole.length <= MAX_BUNDLE_SIZE) return { top: asciiBytes(whole), subBundles: [] }

  const existing = bundle.bundles ?? []
  const candidates = rankCandidates(bundle.files)
  const estimate = originalEstimate(bundle, existing, candidates)
  const encoded = new Map<string, string>()
  let reserved = 0
  let urlLength = CONVERGENT_URL_LENGTH

  for (let attempt = 0; attempt < MAX_PLANS; attempt++) {
    const plan = planSplit(bundle, existing, candidates, estimate, reserved, urlLength)
    const topBase = topSize(bundle, existing, plan.subs.length, urlLength)
    if (topBase + piecesCost(plan.top) > MAX_BUNDLE_SIZE) {
      // The top level cannot also list this many sub-bundles: plan again with room for them.
      reserved = Math.max(reserved + 1, plan.subs.length)
      continue
    }

    const subBundles: Array<{ url: string; json: Uint8Array }> = []
    for (const piece of plan.subs) {
      throwIfAborted(options.signal)
      const text = stringifyPyJson({ files: filesObject(piece) })
      const json = asciiBytes(text)
      let url = encoded.get(text)
      if (url === undefined) {
        url = await encode(json)
        assertBlockUrl(url, 'URL returned for a sub-bundle')
        encoded.set(text, url)
      }
      subBundles.push({ url, json })
    }

    const topBundle: Bundle = {
      ...bundle,
      files: new Map(plan.top.map((candidate) => [candidate.path, candidate.file])),
      bundles: [...existing, ...subBundles.map((sub) => sub.url)],
    }
    const top = stringifyPyJson(bundleToPyJson(topBundle))
    if (top.length <= MAX_BUNDLE_SIZE) return { top: asciiBytes(top), subBundles }
    // The URLs came back longer than planned for (not convergent ones): plan again with their length.
    urlLength = Math.max(urlLength + 1, ...subBundles.map((sub) => sub.url.length))
  }
  throw new BundleTooLargeError('could not fit the list of sub-bundles into the top-level bundle')
}

function rankCandidates(files: Map<string, BundleFile>): Candidate[] {
  const candidates: Candidate[] = []
  for (const [path, file] of files) {
    const entry = `${quotePyString(path)}:${stringifyPyJson(fileToPyJson(file))}`
    let nameLength = 0
    for (const _ of path) nameLength++
    candidates.push({ path, file, parts: file.parts.length, nameLength, cost: entry.length })
  }
  // Most parts first ("big rocks on first"); ties by path so the result does not depend on map order.
  return candidates.sort((a, b) => b.parts - a.parts || compareCodePoints(a.path, b.path))
}

interface Estimate {
  sizePerPart: number
  topOverhead: number
  subOverhead: number
}

/** The original's size model: average serialized bytes per part, and the fixed bytes around the files. */
function originalEstimate(bundle: Bundle, existing: string[], candidates: Candidate[]): Estimate {
  const raw = bundleToPyJson({ ...bundle, bundles: existing })
  const rawSize = stringifyPyJson(raw).length
  const filesSize = stringifyPyJson(raw.files as PyObject).length
  const totalParts = candidates.reduce((sum, candidate) => sum + candidate.parts, 0)
  // The original divides by zero here; with no parts at all the exact check alone decides.
  const sizePerPart = totalParts > 0 ? filesSize / totalParts : filesSize
  const pieceCount = Math.floor((rawSize - 1) / MAX_BUNDLE_SIZE) + 1
  const urlsEstimate = Math.trunc((pieceCount - 1) * sizePerPart)
  return { sizePerPart, topOverhead: rawSize - filesSize + urlsEstimate, subOverhead: EMPTY_SUB_BUNDLE.length }
}

function planSplit(
  bundle: Bundle,
  existing: string[],
  candidates: Candidate[],
  estimate: Estimate,
  reserved: number,
  urlLength: number,
): Plan {
  const topBase = topSize(bundle, existing, reserved, urlLength)
  if (topBase > MAX_BUNDLE_SIZE) {
    throw new BundleTooLargeError(`the top-level bundle needs ${topBase} bytes without any file`)
  }
  const top = selectPiece(candidates, estimate.topOverhead, estimate.sizePerPart, topBase)
  let remaining = without(candidates, top)
  const subs: Candidate[][] = []
  while (remaining.length > 0) {
    const piece = selectPiece(remaining, estimate.subOverhead, estimate.sizePerPart, EMPTY_SUB_BUNDLE.length)
    if (piece.length === 0) {
      const first = remaining[0]!
      throw new BundleTooLargeError(
        `the entry of ${JSON.stringify(first.path)} (${first.parts} parts) does not fit in a bundle of ${MAX_BUNDLE_SIZE} bytes`,
      )
    }
    subs.push(piece)
    remaining = without(remaining, piece)
  }
  return { top, subs }
}

/** First fit over the ranked candidates, as the original's `__files_for_bundle`, plus an exact byte check. */
function selectPiece(candidates: Candidate[], overhead: number, sizePerPart: number, exactBase: number): Candidate[] {
  const selected: Candidate[] = []
  let parts = 0
  let names = 0
  let exact = exactBase
  for (const candidate of candidates) {
    const estimated = (parts + candidate.parts) * sizePerPart + overhead + names
    const exactWith = exact + candidate.cost + (selected.length > 0 ? 1 : 0)
    if (estimated < MAX_BUNDLE_SIZE && exactWith <= MAX_BUNDLE_SIZE) {
      selected.push(candidate)
      parts += candidate.parts
      names += candidate.nameLength
      exact = exactWith
    }
  }
  return selected
}

/** Bytes of the top-level bundle with no files and `count` sub-bundle URLs of `urlLength` characters added. */
function topSize(bundle: Bundle, existing: string[], count: number, urlLength: number): number {
  const placeholder = 'u'.repeat(urlLength)
  const bundles = [...existing, ...Array.from({ length: count }, () => placeholder)]
  return stringifyPyJson(bundleToPyJson({ ...bundle, files: new Map(), bundles })).length
}

/** Bytes the entries add inside `"files":{}`: their own plus the commas between them. */
function piecesCost(piece: Candidate[]): number {
  return piece.reduce((sum, candidate) => sum + candidate.cost, 0) + Math.max(0, piece.length - 1)
}

function without(candidates: Candidate[], taken: Candidate[]): Candidate[] {
  const set = new Set(taken)
  return candidates.filter((candidate) => !set.has(candidate))
}

function filesObject(piece: Candidate[]): PyObject {
  return bundleToPyJson({ era: 'current', files: new Map(piece.map((c) => [c.path, c.file])) }).files as PyObject
}
