import { posix } from 'node:path'
import {
  type Bundle,
  type BundleFile,
  type BundlePart,
  blockUrl,
  type ContentUrl,
  formatUrl,
  InvalidBundleError,
  type LibernetUrl,
  parseBundle,
  SizeMismatchError,
} from '@libernet/core'
import { contentType as contentTypeOf } from 'mime-types'
import { type ContentContext, fileContents, loadPlaintext, loadStored, rootOf } from '../content.ts'
import { NotFoundError } from '../errors.ts'
import type { GatewayBackend } from './backend.ts'
import { HttpError } from './http-errors.ts'
import { lookUpPath, renderListing, sortedEntries } from './listing.ts'
import type { RouteKind } from './metrics.ts'
import { type AnswerOptions, answer, bytesResource, etagOf, IMMUTABLE, type Resource } from './resource.ts'

/** Most like answers in one response, as the original caps them. */
export const LIKE_LIMIT = 100

export interface ContentRequest extends AnswerOptions {
  url: LibernetUrl
  /** The client prefers JSON (Accept: application/json without text/html). */
  json: boolean
  content: ContentContext
  backend: GatewayBackend
  bundles: BundleCache
  setKind(kind: RouteKind): void
}

/** Answers GET/HEAD for every URL form of DESIGN §2. */
export async function serveContent(request: ContentRequest): Promise<Response> {
  const { url } = request
  switch (url.kind) {
    case 'block': {
      request.setKind('block')
      const stored = await loadStored(request.content, url.id)
      return answer(bytesResource(stored, 'application/octet-stream', `"${url.id}"`), request)
    }
    case 'like':
      request.setKind('like')
      return serveLike(request, url.id)
    case 'content':
      request.setKind('content')
      return serveEncrypted(request, url)
  }
}

async function serveLike(request: ContentRequest, id: string): Promise<Response> {
  const matches = await request.backend.like(id, { limit: LIKE_LIMIT, signal: request.content.signal })
  const body: Record<string, number> = {}
  for (const match of matches) body[blockUrl(match.id)] = match.size
  const text = JSON.stringify(body)
  return new Response(request.head ? null : text, {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      // The answer changes as blocks arrive.
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    },
  })
}

async function serveEncrypted(request: ContentRequest, url: ContentUrl): Promise<Response> {
  const rootUrl = rootOf(url)
  const wantsDirectory = url.path.length > 0 || url.trailingSlash === true
  const top = await request.bundles.get(rootUrl, async () => {
    const plaintext = await loadPlaintext(request.content, rootUrl)
    try {
      return { bundle: parseBundle(plaintext) }
    } catch (err) {
      if (!(err instanceof InvalidBundleError)) throw err
      return { plaintext, reason: err }
    }
  })
  if (top.bundle === undefined) {
    // JSON that is not a valid bundle is a hostile or broken bundle, not content without paths.
    if (wantsDirectory && looksLikeJson(top.plaintext)) throw top.reason
    if (wantsDirectory) {
      throw new HttpError(404, `${rootUrl} is not a bundle, so it has no paths inside (${top.reason.message})`, {
        cause: top.reason,
      })
    }
    return answer(bytesResource(top.plaintext, 'application/octet-stream', etagOf(rootUrl, 'bytes')), request)
  }
  return serveBundlePath(request, url, rootUrl, top.bundle)
}

async function serveBundlePath(
  request: ContentRequest,
  url: ContentUrl,
  rootUrl: string,
  top: Bundle,
): Promise<Response> {
  const path = url.path.join('/')
  const direct = path === '' ? undefined : top.files.get(path)
  if (direct !== undefined) return serveFile(request, url, path, direct)

  const lookup = await lookUpPath(request.content, top, rootUrl, path)
  if (lookup.file !== undefined) return serveFile(request, url, path, lookup.file)
  if (lookup.link !== undefined) return followDirectoryLink(request, url, path, lookup.link)
  if (!lookup.directory) throw new NotFoundError(`no file or directory ${JSON.stringify(path)} in this bundle`)

  if (url.trailingSlash !== true && !request.json) return redirect(request, { ...url, trailingSlash: true })
  const index = lookup.entries.get('index.html')
  if (!request.json && (index?.type === 'file' || index?.type === 'link')) {
    const indexPath = path === '' ? 'index.html' : `${path}/index.html`
    const file = top.files.get(indexPath) ?? (await lookUpPath(request.content, top, rootUrl, indexPath)).file
    if (file !== undefined) return serveFile(request, url, indexPath, file)
  }
  request.setKind('listing')
  const entries = sortedEntries(lookup.entries)
  const canonical = formatUrl({ ...url, trailingSlash: true })
  if (request.json) {
    const body = JSON.stringify({ url: canonical, path, entries })
    const resource = bytesResource(
      Buffer.from(body),
      'application/json; charset=utf-8',
      etagOf(canonical, 'listing.json'),
      { vary: 'Accept' },
    )
    return answer(resource, request)
  }
  const html = renderListing(path, entries, rootUrl)
  return answer(
    bytesResource(Buffer.from(html), 'text/html; charset=utf-8', etagOf(canonical, 'listing.html'), { vary: 'Accept' }),
    request,
  )
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte === 0x7b) return true
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false
  }
  return false
}

function serveFile(request: ContentRequest, url: ContentUrl, path: string, file: BundleFile): Promise<Response> {
  request.setKind('file')
  if (url.trailingSlash === true && url.path.join('/') === path) {
    return Promise.resolve(redirect(request, { ...url, trailingSlash: false }))
  }
  const name = path.slice(path.lastIndexOf('/') + 1)
  const resource: Resource = {
    size: file.size,
    contentType: contentTypeOf(name) || 'application/octet-stream',
    etag: etagOf(rootOf(url), path, 'file'),
    read: (start, end) => readFileRange(request.content, file, start, end),
  }
  return answer(resource, request)
}

/** A directory link inside the bundle is followed by a redirect; one leading outside it is not served. */
function followDirectoryLink(request: ContentRequest, url: ContentUrl, path: string, target: string): Response {
  const resolved = posix.normalize(posix.join(posix.dirname(path), target))
  if (posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../') || resolved === '.') {
    throw new NotFoundError(`${JSON.stringify(path)} is a link to ${JSON.stringify(target)}, outside this bundle`)
  }
  return redirect(request, { ...url, path: resolved.split('/'), trailingSlash: true }, 302)
}

function redirect(request: ContentRequest, target: ContentUrl, status = 301): Response {
  request.setKind('redirect')
  const location = formatUrl(target)
  request.onFirstBytes?.()
  return new Response(null, {
    status,
    headers: { location, 'cache-control': status === 301 ? IMMUTABLE : 'no-cache', 'content-length': '0' },
  })
}

/**
 * The bytes `start`..`end` (inclusive) of a file: only the parts that
 * overlap the range are fetched, a few ahead of the one being sent.
 */
export async function* readFileRange(
  context: ContentContext,
  file: BundleFile,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  const selected: BundlePart[] = []
  let offset = 0
  let skip = 0
  for (const part of file.parts) {
    const partEnd = offset + part.size
    if (part.size > 0 && partEnd > start && offset <= end) {
      if (selected.length === 0) skip = start - offset
      selected.push(part)
    }
    offset = partEnd
    if (offset > end) break
  }
  let remaining = end - start + 1
  let index = 0
  for await (const bytes of fileContents(context, { ...file, parts: selected })) {
    const part = selected[index++]!
    if (bytes.byteLength !== part.size) {
      throw new SizeMismatchError(`part ${part.url} holds ${bytes.byteLength} bytes, the bundle says ${part.size}`)
    }
    let chunk = index === 1 ? bytes.subarray(skip) : bytes
    if (chunk.byteLength > remaining) chunk = chunk.subarray(0, remaining)
    remaining -= chunk.byteLength
    if (chunk.byteLength > 0) yield chunk
    if (remaining === 0) return
  }
}

type DecodedRoot =
  | { bundle: Bundle; plaintext?: undefined }
  | { bundle?: undefined; plaintext: Uint8Array; reason: Error }

/**
 * The last few decoded roots. Content never changes under a URL, so a page
 * and its images or a run of range requests decode the bundle once.
 */
export class BundleCache {
  readonly #entries = new Map<string, Promise<DecodedRoot>>()
  readonly #capacity: number

  constructor(capacity = 8) {
    this.#capacity = capacity
  }

  async get(rootUrl: string, load: () => Promise<DecodedRoot>): Promise<DecodedRoot> {
    const cached = this.#entries.get(rootUrl)
    if (cached !== undefined) {
      this.#entries.delete(rootUrl)
      this.#entries.set(rootUrl, cached)
      try {
        return await cached
      } catch (err) {
        // Another request's load was cancelled with that request: this one loads for itself.
        if (!(err instanceof Error) || err.name !== 'AbortError') throw err
      }
    }
    const loading = load()
    this.#entries.set(rootUrl, loading)
    // Failures are not kept: a block missing now may arrive later.
    loading.catch(() => {
      if (this.#entries.get(rootUrl) === loading) this.#entries.delete(rootUrl)
    })
    while (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!)
    return loading
  }
}
