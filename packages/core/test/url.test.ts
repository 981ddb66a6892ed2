import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidUrlError } from '../src/errors.ts'
import {
  blockIdOfUrl,
  blockTargetOfUrl,
  encodeSegment,
  formatUrl,
  isCanonicalBlockUrl,
  type LibernetUrl,
  parseUrl,
} from '../src/url.ts'

const ID = '1d9dfda4178b4e580ab21c57a5f70c3658e6d99e7c2119526507e2e53e1c6b25'
const KEY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const hexId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'))
const segment = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((s) => s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0'))

const anyUrl: fc.Arbitrary<LibernetUrl> = fc.oneof(
  hexId.map((id) => ({ kind: 'block' as const, id })),
  hexId.map((id) => ({ kind: 'like' as const, id })),
  fc
    .record({
      mode: fc.constantFrom('convergent' as const, 'passphrase' as const),
      id: hexId,
      key: hexId,
      path: fc.array(segment, { maxLength: 5 }),
      trailingSlash: fc.boolean(),
    })
    .map(({ trailingSlash, ...rest }) => ({
      kind: 'content' as const,
      ...rest,
      ...(trailingSlash ? { trailingSlash } : {}),
    })),
)

describe('URL grammar', () => {
  it('parses every form of DESIGN §2', () => {
    assert.deepEqual(parseUrl(`/sha256/${ID}`), { kind: 'block', id: ID })
    assert.deepEqual(parseUrl(`/sha256/like/${ID}`), { kind: 'like', id: ID })
    assert.deepEqual(parseUrl(`/sha256/${ID}/aes256/${KEY}`), {
      kind: 'content',
      mode: 'convergent',
      id: ID,
      key: KEY,
      path: [],
    })
    assert.deepEqual(parseUrl(`/sha256/${ID}/passphrase/${KEY}`), {
      kind: 'content',
      mode: 'passphrase',
      id: ID,
      key: KEY,
      path: [],
    })
    assert.deepEqual(parseUrl(`/sha256/${ID}/aes256/${KEY}/docs/notes%20with%20spaces.txt`), {
      kind: 'content',
      mode: 'convergent',
      id: ID,
      key: KEY,
      path: ['docs', 'notes with spaces.txt'],
    })
    assert.deepEqual(parseUrl(`/sha256/${ID}/aes256/${KEY}/`), {
      kind: 'content',
      mode: 'convergent',
      id: ID,
      key: KEY,
      path: [],
      trailingSlash: true,
    })
  })

  it('takes the path of a gateway http URL', () => {
    assert.deepEqual(parseUrl(`http://127.0.0.1:8042/sha256/${ID}/aes256/${KEY}/a%C3%A9.txt`), {
      kind: 'content',
      mode: 'convergent',
      id: ID,
      key: KEY,
      path: ['aé.txt'],
    })
  })

  it('percent-encodes segments the way Python quote() does', () => {
    assert.equal(encodeSegment('notes with spaces.txt'), 'notes%20with%20spaces.txt')
    assert.equal(encodeSegment('a-b_c.d~e'), 'a-b_c.d~e')
    assert.equal(encodeSegment("é!*'()%?#"), '%C3%A9%21%2A%27%28%29%25%3F%23')
    assert.equal(encodeSegment('😀'), '%F0%9F%98%80')
  })

  it('round-trips format → parse', () => {
    fc.assert(
      fc.property(anyUrl, (url) => {
        assert.deepEqual(parseUrl(formatUrl(url)), url)
      }),
      { numRuns: 500 },
    )
  })

  it('refuses anything outside the grammar with InvalidUrlError', () => {
    const bad = [
      '',
      '/',
      `sha256/${ID}`,
      `/sha256/${ID.toUpperCase()}`,
      `/sha256/${ID.slice(1)}`,
      `/sha256/${ID}/`,
      `/sha256/${ID}/aes256`,
      `/sha256/${ID}/aes256/${KEY.slice(2)}`,
      `/sha256/${ID}/aes128/${KEY}`,
      `/sha256/${ID}/__proto__/${KEY}`,
      `/sha256/${ID}/bundle/${KEY}`,
      `/sha256/like/${ID}/x`,
      `/sha256/like/`,
      `/sha512/${ID}`,
      `/sha256/${ID}/aes256/${KEY}/a//b`,
      `/sha256/${ID}/aes256/${KEY}/../etc/passwd`,
      `/sha256/${ID}/aes256/${KEY}/%2E%2E/x`,
      `/sha256/${ID}/aes256/${KEY}/a%2Fb`,
      `/sha256/${ID}/aes256/${KEY}/a%00b`,
      `/sha256/${ID}/aes256/${KEY}/%E0%A4%A`,
      `/sha256/${ID}/aes256/${KEY}/%FF`,
      `/sha256/${ID}/aes256/${KEY}?x=1`,
      `/sha256/${ID}#frag`,
      'http://[::1/sha256/x',
      `/sha256/${ID}/aes256/${KEY}/${'a'.repeat(20_000)}`,
    ]
    for (const text of bad) {
      assert.throws(() => parseUrl(text), InvalidUrlError, text)
    }
  })

  it('never throws anything but InvalidUrlError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/sha256/${ID}/aes256/${KEY}/${s}`),
        ),
        (text) => {
          try {
            parseUrl(text)
          } catch (err) {
            assert.ok(err instanceof InvalidUrlError)
            assert.equal((err as Error).name, 'InvalidUrlError')
          }
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('canonical block URLs (the fast path of bundle validation)', () => {
  /** What the fast path stands for: parses as a block, or content without a path, and formats back unchanged. */
  function canonicalByParsing(text: string): boolean {
    try {
      const url = parseUrl(text)
      const bare = url.kind === 'block' || (url.kind === 'content' && url.path.length === 0 && !url.trailingSlash)
      return bare && formatUrl(url) === text
    } catch {
      return false
    }
  }
  // Mostly well-formed ids and keys, so both answers come up often; sometimes a wrong length or case.
  const hex = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[0-9a-f]{64}$/) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-F]{63,65}$/) },
  )
  const middle = fc.constantFrom(
    '',
    '/aes256/',
    '/passphrase/',
    '',
    '/aes256/',
    '/passphrase/',
    '/AES256/',
    '/aes256',
    '/like/',
  )
  const candidate = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(hex, middle, hex) },
    { weight: 1, arbitrary: fc.tuple(hex, middle, fc.constant('')) },
    { weight: 1, arbitrary: fc.tuple(fc.string(), fc.constant(''), fc.string()) },
  )

  it('recognises exactly the URLs that parse and format back as a bare block or content URL', () => {
    const seen = { canonical: 0, other: 0 }
    fc.assert(
      fc.property(candidate, fc.constantFrom('', '', '', '', '/', '?x', '/file'), ([id, between, key], tail) => {
        const text = `/sha256/${id}${between === '' ? '' : between + key}${tail}`
        const canonical = isCanonicalBlockUrl(text)
        assert.equal(canonical, canonicalByParsing(text), text)
        if (canonical) {
          seen.canonical++
          assert.equal(blockIdOfUrl(text), (parseUrl(text) as { id: string }).id)
          // Read by position, as the parser reads it.
          const parsed = parseUrl(text)
          assert.deepEqual(
            blockTargetOfUrl(text),
            parsed.kind === 'content'
              ? { mode: parsed.mode, id: parsed.id, key: parsed.key }
              : { mode: 'plain', id: (parsed as { id: string }).id },
          )
        } else seen.other++
      }),
      { numRuns: 3000 },
    )
    assert.ok(seen.canonical > 500 && seen.other > 500, JSON.stringify(seen))
  })

  it('gives the block id of every URL form, none for a like query', () => {
    const id = 'ab'.repeat(32)
    const key = 'cd'.repeat(32)
    assert.equal(blockIdOfUrl(`/sha256/${id}`), id)
    assert.equal(blockIdOfUrl(`/sha256/${id}/aes256/${key}`), id)
    assert.equal(blockIdOfUrl(`/sha256/${id}/passphrase/${key}/dir/a%20b.txt`), id)
    assert.equal(blockIdOfUrl(`/sha256/like/${id}`), undefined)
    assert.throws(() => blockIdOfUrl(`/sha256/${id.toUpperCase()}`), InvalidUrlError)
  })
})
