import type { BlockMode } from './codec/types.ts'
import { InvalidUrlError } from './errors.ts'
import { type BlockId, isBlockId } from './id.ts'

/**
 * The Libernet URL grammar (DESIGN §2):
 *
 *   /sha256/{id}                          a block as stored
 *   /sha256/{id}/aes256/{key}[/path...]   convergent content, or a file inside that bundle
 *   /sha256/{id}/passphrase/{key}[/path...]
 *   /sha256/like/{id}                     blocks whose ids are closest to {id}
 *
 * Paths inside a bundle are percent-encoded segment by segment. There is no
 * `/bundle/` segment in any era.
 */
export type LibernetUrl = BlockUrl | ContentUrl | LikeUrl

export interface BlockUrl {
  kind: 'block'
  id: BlockId
}

export type ContentMode = 'convergent' | 'passphrase'

export interface ContentUrl {
  kind: 'content'
  mode: ContentMode
  id: BlockId
  key: BlockId
  /** Decoded path segments inside the bundle; empty for the block itself. */
  path: string[]
  /** The URL ended in `/`: a directory was asked for (relative links resolve below it). */
  trailingSlash?: boolean
}

export interface LikeUrl {
  kind: 'like'
  id: BlockId
}

/** Longer URLs are refused before any work: no legitimate bundle path comes near it. */
export const MAX_URL_LENGTH = 16_384

const MODE_SEGMENT = new Map<string | undefined, ContentMode>([
  ['aes256', 'convergent'],
  ['passphrase', 'passphrase'],
])
const SEGMENT_OF_MODE: Record<ContentMode, string> = { convergent: 'aes256', passphrase: 'passphrase' }

/**
 * Parses a Libernet URL path (or an http(s) gateway URL, whose path is used).
 * Anything outside the grammar is an {@link InvalidUrlError}.
 */
export function parseUrl(text: string): LibernetUrl {
  if (typeof text !== 'string' || text.length > MAX_URL_LENGTH) {
    throw new InvalidUrlError(`URL longer than ${MAX_URL_LENGTH} characters`)
  }
  const path = /^https?:\/\//i.test(text) ? pathOfHttpUrl(text) : text
  if (path.includes('?') || path.includes('#')) {
    throw invalid(text, 'query strings and fragments are not part of a Libernet URL')
  }
  const segments = path.split('/')
  if (segments[0] !== '' || segments[1] !== 'sha256') {
    throw invalid(text, 'a Libernet URL starts with /sha256/')
  }
  const [, , first, second, third, ...rest] = segments

  if (first === 'like') {
    if (!isBlockId(second) || third !== undefined) throw invalid(text, 'expected /sha256/like/{id}')
    return { kind: 'like', id: second }
  }
  if (!isBlockId(first)) throw invalid(text, 'expected 64 lowercase hex digits after /sha256/')
  if (second === undefined) return { kind: 'block', id: first }

  const mode = MODE_SEGMENT.get(second)
  if (mode === undefined) {
    throw invalid(text, 'expected /aes256/{key} or /passphrase/{key} after the id')
  }
  if (!isBlockId(third)) throw invalid(text, `expected a 64-hex-digit key after /${second}/`)

  const url: ContentUrl = { kind: 'content', mode, id: first, key: third, path: [] }
  if (rest.length > 0 && rest[rest.length - 1] === '') {
    rest.pop()
    url.trailingSlash = true
  }
  url.path = rest.map((segment) => decodeSegment(segment, text))
  return url
}

const CANONICAL_BLOCK_URL = /^\/sha256\/[0-9a-f]{64}(?:\/(?:aes256|passphrase)\/[0-9a-f]{64})?$/
/** The longest of them: `/sha256/{id}/passphrase/{key}`. */
const CANONICAL_BLOCK_URL_MAX = 148

/**
 * True for a block URL or an encrypted-content URL without a path, exactly
 * as {@link formatUrl} writes it: what bundles hold for every part.
 * Recognised without parsing; anything else (other forms included) is not.
 */
export function isCanonicalBlockUrl(url: unknown): url is string {
  return typeof url === 'string' && url.length <= CANONICAL_BLOCK_URL_MAX && CANONICAL_BLOCK_URL.test(url)
}

/** What a block URL names: the block and, for encrypted content, how to open it. */
export interface BlockTarget {
  mode: BlockMode
  id: BlockId
  key?: BlockId
}

/** Where a canonical URL keeps the id: right after `/sha256/`. */
const CANONICAL_ID_START = '/sha256/'.length
const CANONICAL_ID_END = CANONICAL_ID_START + 64

/**
 * The block a URL names (undefined for a like query): read by position for
 * canonical URLs, which bundles hold for every part of every file, else by
 * parsing.
 */
export function blockTargetOfUrl(url: string): BlockTarget | undefined {
  if (isCanonicalBlockUrl(url)) {
    const id = url.slice(CANONICAL_ID_START, CANONICAL_ID_END)
    if (url.length === CANONICAL_ID_END) return { mode: 'plain', id }
    // `/aes256/` or `/passphrase/` follows the id, and the key ends the URL.
    const mode = url.charCodeAt(CANONICAL_ID_END + 1) === 0x61 ? 'convergent' : 'passphrase'
    return { mode, id, key: url.slice(-64) }
  }
  const parsed = parseUrl(url)
  if (parsed.kind === 'block') return { mode: 'plain', id: parsed.id }
  if (parsed.kind === 'content') return { mode: parsed.mode, id: parsed.id, key: parsed.key }
  return undefined
}

/** The id of the block a URL names (undefined for a like query). */
export function blockIdOfUrl(url: string): BlockId | undefined {
  return blockTargetOfUrl(url)?.id
}

/** Formats a URL in canonical form: lowercase hex, each path segment percent-encoded. */
export function formatUrl(url: LibernetUrl): string {
  switch (url.kind) {
    case 'block':
      return `/sha256/${url.id}`
    case 'like':
      return `/sha256/like/${url.id}`
    case 'content': {
      const base = `/sha256/${url.id}/${SEGMENT_OF_MODE[url.mode]}/${url.key}`
      const path = url.path.map((segment) => `/${encodeSegment(segment)}`).join('')
      return `${base}${path}${url.trailingSlash === true ? '/' : ''}`
    }
  }
}

/** The URL of an encrypted block or bundle root. */
export function contentUrl(mode: ContentMode, id: BlockId, key: BlockId, path: string[] = []): string {
  return formatUrl({ kind: 'content', mode, id, key, path })
}

/** The URL of a block as stored (also the URL of a plain block). */
export function blockUrl(id: BlockId): string {
  return formatUrl({ kind: 'block', id })
}

// RFC 3986 unreserved characters, as Python's urllib.parse.quote leaves them.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/** Percent-encodes one path segment: every byte of its UTF-8 form outside the unreserved set becomes %XX. */
export function encodeSegment(segment: string): string {
  let out = ''
  for (const char of segment) {
    if (UNRESERVED.test(char)) {
      out += char
    } else {
      for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
  }
  return out
}

function decodeSegment(segment: string, text: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch (err) {
    throw invalid(text, 'malformed percent-encoding', err)
  }
  if (decoded === '' || decoded === '.' || decoded === '..') {
    throw invalid(text, 'empty, "." and ".." path segments are not allowed')
  }
  if (decoded.includes('/') || decoded.includes('\0')) {
    throw invalid(text, 'a path segment may not contain "/" or NUL')
  }
  if (decoded.isWellFormed() === false) {
    throw invalid(text, 'a path segment must be valid UTF-8')
  }
  return decoded
}

function pathOfHttpUrl(text: string): string {
  try {
    const parsed = new URL(text)
    if (parsed.search !== '' || parsed.hash !== '') {
      throw invalid(text, 'query strings and fragments are not part of a Libernet URL')
    }
    return parsed.pathname
  } catch (err) {
    if (err instanceof InvalidUrlError) throw err
    throw invalid(text, 'not a valid http(s) URL', err)
  }
}

function invalid(text: string, reason: string, cause?: unknown): InvalidUrlError {
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text
  return new InvalidUrlError(`invalid Libernet URL ${JSON.stringify(shown)}: ${reason}`, { cause })
}
