import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import {
  type BundleFile,
  encodeConvergent,
  encodeSegment,
  InvalidBundleError,
  parseBundle,
  parseUrl,
} from '@libernet/core'
import fc from 'fast-check'
import { loadPlaintext } from '../src/content.ts'
import type { GatewayBackend } from '../src/gateway/backend.ts'
import {
  createGatewayApp,
  type Gateway,
  GatewayMetrics,
  HttpError,
  isLoopbackAddress,
  isLoopbackHost,
  localGatewayBackend,
  parseRange,
  renderStatusPage,
  startGateway,
} from '../src/gateway/index.ts'
import type { NodeStatus } from '../src/status.ts'
import {
  createFixture,
  type Fixture,
  networkLikeStore,
  PERCENT_NAME,
  passphraseBlock,
  UNICODE_NAME,
  WEIRD_NAME,
} from './gateway-fixture.ts'

interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** The body ended before Content-Length said it would (the connection was cut). */
  truncated: boolean
}

/** One request with node:http: the path goes out exactly as given (no URL normalisation). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<HttpAnswer> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      let truncated = false
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('aborted', () => {
        truncated = true
      })
      res.on('error', () => {
        truncated = true
      })
      res.on('close', () => {
        const bytes = Buffer.concat(chunks)
        const declared = res.headers['content-length']
        if (method !== 'HEAD' && declared !== undefined && Number(declared) !== bytes.byteLength) truncated = true
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, truncated })
      })
    })
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout on ${method} ${path}`)))
    req.on('error', reject)
    req.end(body)
  })
}

const IMMUTABLE = 'public, max-age=31536000, immutable'

/** Concatenated plaintext of a file in a bundle, by its part sizes: where each part starts. */
function partOffsets(file: BundleFile): number[] {
  const offsets: number[] = []
  let offset = 0
  for (const part of file.parts) {
    offsets.push(offset)
    offset += part.size
  }
  return offsets
}

describe('gateway over a real repository', () => {
  let fixture: Fixture
  let gateway: Gateway
  let store: ReturnType<typeof networkLikeStore>
  let backend: GatewayBackend
  let big: Buffer
  let bigFile: BundleFile
  const get = (path: string, headers?: Record<string, string>) => send(gateway.url, 'GET', path, headers)
  const head = (path: string, headers?: Record<string, string>) => send(gateway.url, 'HEAD', path, headers)

  before(async () => {
    fixture = await createFixture('gateway')
    store = networkLikeStore(fixture.repo.store)
    backend = { ...localGatewayBackend(fixture.repo), store }
    gateway = await startGateway({ backend, port: 0, timeoutMs: 1500 })
    big = fixture.site.files.get('data/big.bin')!
    const root = parseUrl(fixture.url)
    assert.equal(root.kind, 'content')
    const top = parseBundle(await loadPlaintext({ store: fixture.repo.store, pool: fixture.repo.pool }, fixture.url))
    bigFile = top.files.get('data/big.bin')!
    assert.ok(bigFile.parts.length >= 8, `the large file should have many parts, has ${bigFile.parts.length}`)
  })

  after(async () => {
    await gateway?.close()
    await fixture?.cleanup()
  })

  it('binds to 127.0.0.1 unless told otherwise', () => {
    assert.equal(gateway.host, '127.0.0.1')
    assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })

  describe('/sha256/{id}: a block as stored', () => {
    it('GET answers the stored bytes, immutable, with its id as ETag', async () => {
      const id = parseUrl(fixture.url).kind === 'content' ? (parseUrl(fixture.url) as { id: string }).id : ''
      const stored = await fixture.repo.store.get(id)
      const res = await get(`/sha256/${id}`)
      assert.equal(res.status, 200)
      assert.deepEqual(new Uint8Array(res.body), new Uint8Array(stored!))
      assert.equal(res.headers['content-type'], 'application/octet-stream')
      assert.equal(res.headers['content-length'], String(stored!.byteLength))
      assert.equal(res.headers.etag, `"${id}"`)
      assert.equal(res.headers['cache-control'], IMMUTABLE)
      assert.equal(createHash('sha256').update(res.body).digest('hex'), id)
    })

    it('HEAD answers the same headers and no body', async () => {
      const { id } = parseUrl(fixture.url) as { id: string }
      const [full, bare] = [await get(`/sha256/${id}`), await head(`/sha256/${id}`)]
      assert.equal(bare.status, 200)
      assert.equal(bare.body.byteLength, 0)
      for (const name of ['content-type', 'content-length', 'etag', 'cache-control', 'accept-ranges']) {
        assert.equal(bare.headers[name], full.headers[name], name)
      }
    })

    it('serves byte ranges of a block', async () => {
      const { id } = parseUrl(fixture.url) as { id: string }
      const stored = (await fixture.repo.store.get(id))!
      const res = await get(`/sha256/${id}`, { range: 'bytes=10-19' })
      assert.equal(res.status, 206)
      assert.equal(res.headers['content-range'], `bytes 10-19/${stored.byteLength}`)
      assert.deepEqual(new Uint8Array(res.body), stored.subarray(10, 20))
    })
  })

  describe('decrypted blocks', () => {
    it('/sha256/{id}/aes256/{key} of content that is not a bundle answers its plaintext', async () => {
      const res = await get(fixture.loose.url)
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, fixture.loose.plaintext)
      assert.equal(res.headers['content-type'], 'application/octet-stream')
      assert.equal(res.headers['cache-control'], IMMUTABLE)
      assert.ok(typeof res.headers.etag === 'string' && res.headers.etag.startsWith('"'))
    })

    it('/sha256/{id}/passphrase/{key} decrypts a passphrase block', async () => {
      const block = passphraseBlock('a passphrase block\n', 'hunter2')
      await fixture.repo.store.put(block.id, block.bytes)
      const res = await get(`/sha256/${block.id}/passphrase/${block.key}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.toString(), 'a passphrase block\n')
    })

    it('a passphrase-encrypted snapshot lists and serves like a convergent one', async () => {
      const res = await get(`${fixture.passphraseUrl}/docs/readme.txt`)
      assert.equal(res.status, 200)
      assert.equal(res.body.toString(), 'Read me.\n')
      const listing = await get(`${fixture.passphraseUrl}/`, { accept: 'application/json' })
      assert.equal(listing.status, 200)
    })

    it('a wrong key is a 400 with a short reason', async () => {
      const { id } = parseUrl(fixture.loose.url) as { id: string }
      const res = await get(`/sha256/${id}/aes256/${'ab'.repeat(32)}`)
      assert.equal(res.status, 400)
      assert.match(res.body.toString(), /^400 Bad Request: cannot decode this block with the key in the URL/)
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      const asPassphrase = await get(`/sha256/${id}/passphrase/${'cd'.repeat(32)}/index.html`)
      assert.equal(asPassphrase.status, 400)
    })

    it('a path inside content that is not a bundle is a 404', async () => {
      const res = await get(`${fixture.loose.url}/index.html`)
      assert.equal(res.status, 404)
      assert.match(res.body.toString(), /not a bundle/)
    })
  })

  describe('bundles', () => {
    it('the bundle URL without a slash redirects to the directory form, so relative links work', async () => {
      const res = await get(fixture.url)
      assert.equal(res.status, 301)
      assert.equal(res.headers.location, `${fixture.url}/`)
    })

    it('a directory with index.html answers the page', async () => {
      const res = await get(`${fixture.url}/`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
      assert.deepEqual(res.body, fixture.site.files.get('index.html'))
      assert.equal(res.headers['cache-control'], IMMUTABLE)
    })

    it('a directory without index.html is an HTML listing with escaped names and encoded links', async () => {
      const res = await get(`${fixture.url}/docs/`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
      const html = res.body.toString()
      assert.ok(!html.includes('<ird>'), 'names are escaped')
      assert.ok(html.includes('we&lt;ird&gt; &amp; &quot;q&quot; &#39;x&#39;.txt'))
      for (const name of [WEIRD_NAME, UNICODE_NAME, PERCENT_NAME, 'readme.txt']) {
        assert.ok(html.includes(`href="./${encodeSegment(name).replace(/&/g, '&amp;')}"`), name)
      }
      assert.ok(html.includes('href="./deeper/"'))
      assert.ok(html.includes('href="../"'))
      // Every listed link resolves to a URL the gateway serves.
      for (const name of [WEIRD_NAME, UNICODE_NAME, PERCENT_NAME]) {
        const file = await get(`${fixture.url}/docs/${encodeSegment(name)}`)
        assert.equal(file.status, 200, name)
        assert.deepEqual(file.body, fixture.site.files.get(`docs/${name}`))
      }
    })

    it('answers the listing as JSON for Accept: application/json', async () => {
      const res = await get(`${fixture.url}/docs`, { accept: 'application/json' })
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      assert.equal(res.headers.vary, 'Accept')
      const listing = JSON.parse(res.body.toString()) as {
        path: string
        entries: Array<{ name: string; type: string; size?: number }>
      }
      assert.equal(listing.path, 'docs')
      const byName = new Map(listing.entries.map((entry) => [entry.name, entry]))
      assert.equal(byName.get('deeper')?.type, 'directory')
      assert.equal(byName.get(WEIRD_NAME)?.size, 6)
      assert.equal(byName.get('readme.txt')?.type, 'file')
      const root = JSON.parse((await get(`${fixture.url}/`, { accept: 'application/json' })).body.toString()) as {
        entries: Array<{ name: string; type: string; link?: string }>
      }
      const names = new Map(root.entries.map((entry) => [entry.name, entry]))
      assert.equal(names.get('emptydir')?.type, 'directory')
      assert.equal(names.get('linked')?.type, 'directory-link')
      assert.equal(names.get('index.html')?.type, 'file')
    })

    it('HTML and JSON listings of one URL have different ETags', async () => {
      const [html, json] = [
        await get(`${fixture.url}/docs/`),
        await get(`${fixture.url}/docs/`, { accept: 'application/json' }),
      ]
      assert.notEqual(html.headers.etag, json.headers.etag)
    })

    it('an empty directory lists as empty', async () => {
      const res = await get(`${fixture.url}/emptydir/`, { accept: 'application/json' })
      assert.equal(res.status, 200)
      assert.deepEqual((JSON.parse(res.body.toString()) as { entries: unknown[] }).entries, [])
    })

    it('a directory link inside the bundle redirects to its target; one leading outside is a 404', async () => {
      const inside = await get(`${fixture.url}/linked`)
      assert.equal(inside.status, 302)
      assert.equal(inside.headers.location, `${fixture.url}/docs/`)
      const outside = await get(`${fixture.url}/escape/`)
      assert.equal(outside.status, 404)
      assert.match(outside.body.toString(), /outside this bundle/)
    })

    it('a path that is not in the bundle is a 404 with a short body', async () => {
      for (const path of ['nope', 'docs/nope.txt', 'index.html/more', 'docs/deeper/x/y']) {
        const res = await get(`${fixture.url}/${path}`)
        assert.equal(res.status, 404, path)
        assert.match(res.body.toString(), /^404 Not Found: /)
        assert.ok(res.body.byteLength < 500)
      }
    })
  })

  describe('files in a bundle', () => {
    it('streams each file with Content-Type from its extension, Content-Length, ETag and immutable caching', async () => {
      const types: Record<string, string> = {
        'index.html': 'text/html; charset=utf-8',
        'style.css': 'text/css; charset=utf-8',
        'img/logo.png': 'image/png',
        'docs/readme.txt': 'text/plain; charset=utf-8',
        'docs/deeper/note.md': 'text/markdown; charset=utf-8',
        'data/big.bin': 'application/octet-stream',
        'empty.txt': 'text/plain; charset=utf-8',
      }
      for (const [path, type] of Object.entries(types)) {
        const res = await get(`${fixture.url}/${path.split('/').map(encodeSegment).join('/')}`)
        const expected = fixture.site.files.get(path)!
        assert.equal(res.status, 200, path)
        assert.equal(res.headers['content-type'], type, path)
        assert.equal(res.headers['content-length'], String(expected.byteLength), path)
        assert.equal(res.headers['cache-control'], IMMUTABLE, path)
        assert.equal(res.headers['accept-ranges'], 'bytes', path)
        assert.match(String(res.headers.etag), /^"[0-9a-f]{40}"$/, path)
        assert.ok(res.body.equals(expected), path)
      }
    })

    it('different files have different ETags, and the same file always the same one', async () => {
      const a = await head(`${fixture.url}/style.css`)
      const b = await head(`${fixture.url}/index.html`)
      const again = await head(`${fixture.url}/style.css`)
      assert.notEqual(a.headers.etag, b.headers.etag)
      assert.equal(a.headers.etag, again.headers.etag)
    })

    it('If-None-Match with the ETag answers 304 without a body', async () => {
      const first = await get(`${fixture.url}/style.css`)
      const res = await get(`${fixture.url}/style.css`, { 'if-none-match': String(first.headers.etag) })
      assert.equal(res.status, 304)
      assert.equal(res.body.byteLength, 0)
      assert.equal(res.headers.etag, first.headers.etag)
    })

    it('HEAD of a file reads no block and sends the headers of GET', async () => {
      store.reads.length = 0
      const res = await head(`${fixture.url}/data/big.bin`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-length'], String(big.byteLength))
      assert.equal(res.body.byteLength, 0)
      // Only the bundle itself may be read (it is usually cached): never a part of the file.
      const partIds = new Set(bigFile.parts.map((part) => (parseUrl(part.url) as { id: string }).id))
      assert.ok(!store.reads.some((id) => partIds.has(id)))
    })

    it('serves single byte ranges: start-end, open-ended, suffix, across part boundaries', async () => {
      const offsets = partOffsets(bigFile)
      const boundary = offsets[3]!
      const cases: Array<[string, number, number]> = [
        ['bytes=0-99', 0, 99],
        [`bytes=${boundary - 10}-${boundary + 9}`, boundary - 10, boundary + 9],
        [`bytes=${big.byteLength - 1000}-`, big.byteLength - 1000, big.byteLength - 1],
        ['bytes=-500', big.byteLength - 500, big.byteLength - 1],
        [`bytes=100-${big.byteLength + 5000}`, 100, big.byteLength - 1],
        [`bytes=${offsets[1]}-${offsets[5]! - 1}`, offsets[1]!, offsets[5]! - 1],
      ]
      for (const [range, start, end] of cases) {
        const res = await get(`${fixture.url}/data/big.bin`, { range })
        assert.equal(res.status, 206, range)
        assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${big.byteLength}`, range)
        assert.equal(res.headers['content-length'], String(end - start + 1), range)
        assert.ok(res.body.equals(big.subarray(start, end + 1)), range)
      }
    })

    it('a range fetches only the parts that cover it', async () => {
      const offsets = partOffsets(bigFile)
      const partId = (index: number): string => (parseUrl(bigFile.parts[index]!.url) as { id: string }).id
      store.reads.length = 0
      const inside = await get(`${fixture.url}/data/big.bin`, { range: `bytes=${offsets[4]! + 5}-${offsets[4]! + 50}` })
      assert.equal(inside.status, 206)
      const partIds = new Set(bigFile.parts.map((_, index) => partId(index)))
      assert.deepEqual(
        store.reads.filter((id) => partIds.has(id)),
        [partId(4)],
      )
      store.reads.length = 0
      await get(`${fixture.url}/data/big.bin`, { range: `bytes=${offsets[6]! - 1}-${offsets[6]!}` })
      assert.deepEqual(
        store.reads.filter((id) => partIds.has(id)),
        [partId(5), partId(6)],
      )
    })

    it('HEAD with a range answers 206 headers', async () => {
      const res = await head(`${fixture.url}/data/big.bin`, { range: 'bytes=5-9' })
      assert.equal(res.status, 206)
      assert.equal(res.headers['content-range'], `bytes 5-9/${big.byteLength}`)
      assert.equal(res.headers['content-length'], '5')
      assert.equal(res.body.byteLength, 0)
    })

    it('an unsatisfiable range is a 416 naming the size', async () => {
      for (const range of [`bytes=${big.byteLength}-`, 'bytes=-0']) {
        const res = await get(`${fixture.url}/data/big.bin`, { range })
        assert.equal(res.status, 416, range)
        assert.equal(res.headers['content-range'], `bytes */${big.byteLength}`)
      }
      const empty = await get(`${fixture.url}/empty.txt`, { range: 'bytes=0-10' })
      assert.equal(empty.status, 416)
    })

    it('multiple ranges, bad syntax or a stale If-Range answer the whole file', async () => {
      const etag = String((await head(`${fixture.url}/style.css`)).headers.etag)
      const expected = fixture.site.files.get('style.css')!
      const variants: Array<Record<string, string>> = [
        { range: 'bytes=0-1,5-6' },
        { range: 'bytes=5-1' },
        { range: 'items=0-1' },
        { range: 'bytes=0-1', 'if-range': '"not-the-etag"' },
      ]
      for (const headers of variants) {
        const res = await get(`${fixture.url}/style.css`, headers)
        assert.equal(res.status, 200, JSON.stringify(headers))
        assert.ok(res.body.equals(expected))
      }
      const matching = await get(`${fixture.url}/style.css`, { range: 'bytes=0-1', 'if-range': etag })
      assert.equal(matching.status, 206)
    })

    it('random ranges of the large file match the original bytes', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(big.byteLength - 1), fc.nat(300_000), async (start, length) => {
          const end = Math.min(big.byteLength - 1, start + length)
          const res = await get(`${fixture.url}/data/big.bin`, { range: `bytes=${start}-${end}` })
          assert.equal(res.status, 206)
          assert.ok(res.body.equals(big.subarray(start, end + 1)))
        }),
        { numRuns: 25 },
      )
    })

    it('a file URL with a trailing slash redirects to the file', async () => {
      const res = await get(`${fixture.url}/style.css/`)
      assert.equal(res.status, 301)
      assert.equal(res.headers.location, `${fixture.url}/style.css`)
    })

    it('a query string is ignored', async () => {
      const res = await get(`${fixture.url}/style.css?v=3`)
      assert.equal(res.status, 200)
      assert.ok(res.body.equals(fixture.site.files.get('style.css')!))
    })
  })

  describe('/sha256/like/{id}', () => {
    it('answers JSON {url: size}, the closest first', async () => {
      const { id } = parseUrl(fixture.loose.url) as { id: string }
      const res = await get(`/sha256/like/${id}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      const answer = JSON.parse(res.body.toString()) as Record<string, number>
      const entries = Object.entries(answer)
      assert.ok(entries.length > 1 && entries.length <= 100)
      const stored = await fixture.repo.store.get(id)
      assert.deepEqual(entries[0], [`/sha256/${id}`, stored!.byteLength])
      for (const url of Object.keys(answer)) assert.equal(parseUrl(url).kind, 'block')
    })
  })

  describe('PUT /sha256/{id}', () => {
    it('stores a block that verifies: 201, then 200 when it is already there', async () => {
      const block = encodeConvergent(Buffer.from('put through the gateway'))
      const first = await send(gateway.url, 'PUT', `/sha256/${block.id}`, {}, block.bytes)
      assert.equal(first.status, 201)
      assert.deepEqual(JSON.parse(first.body.toString()), {
        url: `/sha256/${block.id}`,
        size: block.bytes.byteLength,
        new: true,
      })
      assert.deepEqual(await fixture.repo.store.get(block.id), block.bytes)
      const again = await send(gateway.url, 'PUT', `/sha256/${block.id}`, {}, block.bytes)
      assert.equal(again.status, 200)
      const read = await get(`/sha256/${block.id}/aes256/${block.key}`)
      assert.equal(read.body.toString(), 'put through the gateway')
    })

    it('refuses bytes that are not the block (400), oversize bodies (413) and other URL forms (400)', async () => {
      const block = encodeConvergent(Buffer.from('honest'))
      const tampered = Buffer.from(block.bytes)
      tampered[0]! ^= 1
      const bad = await send(gateway.url, 'PUT', `/sha256/${block.id}`, {}, tampered)
      assert.equal(bad.status, 400)
      assert.equal(await fixture.repo.store.has(block.id), false)
      const huge = await send(gateway.url, 'PUT', `/sha256/${block.id}`, {}, new Uint8Array(1_048_593))
      assert.equal(huge.status, 413)
      const content = await send(gateway.url, 'PUT', `/sha256/${block.id}/aes256/${block.key}`, {}, block.bytes)
      assert.equal(content.status, 400)
      const like = await send(gateway.url, 'PUT', `/sha256/like/${block.id}`, {}, block.bytes)
      assert.equal(like.status, 400)
      const garbage = await send(gateway.url, 'PUT', '/sha256/zz', {}, block.bytes)
      assert.equal(garbage.status, 400)
    })

    it('refuses a Host that is not a loopback name (DNS rebinding)', async () => {
      const block = encodeConvergent(Buffer.from('rebinding'))
      const res = await send(gateway.url, 'PUT', `/sha256/${block.id}`, { host: 'evil.example:8042' }, block.bytes)
      assert.equal(res.status, 403)
      const status = await send(gateway.url, 'GET', '/', { host: 'evil.example' })
      assert.equal(status.status, 403)
      // Content is public: any Host may read it.
      const content = await send(gateway.url, 'GET', `${fixture.url}/style.css`, { host: 'evil.example' })
      assert.equal(content.status, 200)
    })
  })

  describe('errors', () => {
    it('a URL outside the grammar is a 400 with a short reason', async () => {
      const { id } = parseUrl(fixture.url) as { id: string }
      for (const path of [
        '/nothing',
        '/sha256',
        '/sha256/',
        `/sha256/${id.toUpperCase()}`,
        `/sha256/${id}/aes256`,
        `/sha256/${id}/aes256/xyz`,
        `/sha256/${id}/rot13/${id}`,
        `/sha256/${id}/aes256/${id}/a/../b`,
        `/sha256/${id}/aes256/${id}/%zz`,
        `/sha256/${id}/aes256/${id}//x`,
        `/sha256/${id}/aes256/${id}/%00`,
        '/sha256/like/xyz',
        `/sha256/like/${id}/more`,
        `/${'a'.repeat(17_000)}`,
      ]) {
        const res = await get(path)
        assert.equal(res.status, 400, path.slice(0, 100))
        assert.match(res.body.toString(), /^400 Bad Request: /)
        assert.ok(res.body.byteLength <= 500, 'short body')
      }
    })

    it('a block nobody supplies is a 504, before any byte of the answer', async () => {
      const block = encodeConvergent(Buffer.from('nobody has this one'))
      await fixture.repo.store.put(block.id, block.bytes)
      const { id, key } = { id: block.id, key: block.key! }
      store.unavailable.add(id)
      try {
        for (const path of [`/sha256/${id}`, `/sha256/${id}/aes256/${key}`]) {
          const res = await get(path)
          assert.equal(res.status, 504, path)
          assert.match(res.body.toString(), /^504 Gateway Timeout: block [0-9a-f]{64} /)
          assert.equal(res.headers['cache-control'], 'no-store')
        }
      } finally {
        store.unavailable.clear()
      }
    })

    it('a missing first part of a file is a 504; a missing later part cuts the connection instead of a short 200', async () => {
      const first = (parseUrl(bigFile.parts[0]!.url) as { id: string }).id
      const later = (parseUrl(bigFile.parts.at(-1)!.url) as { id: string }).id
      store.unavailable.add(first)
      try {
        assert.equal((await get(`${fixture.url}/data/big.bin`)).status, 504)
      } finally {
        store.unavailable.clear()
      }
      store.unavailable.add(later)
      try {
        const res = await get(`${fixture.url}/data/big.bin`)
        assert.equal(res.status, 200)
        assert.equal(res.truncated, true)
        assert.ok(res.body.byteLength < big.byteLength)
      } finally {
        store.unavailable.clear()
      }
    })

    it('a block file corrupted on disk is never served: the store quarantines it and the answer is a 504', async () => {
      const plaintext = randomBytes(300_000)
      const block = encodeConvergent(plaintext)
      await fixture.repo.store.put(block.id, block.bytes)
      const file = fixture.repo.store.localFile?.(block.id)
      assert.ok(file !== undefined, 'the repository offers its block files to the workers')
      const damaged = readFileSync(file.path)
      damaged[damaged.length >> 1]! ^= 0x01
      writeFileSync(file.path, damaged)
      const res = await get(`/sha256/${block.id}/aes256/${block.key}`)
      assert.equal(res.status, 504)
      assert.match(res.body.toString(), /quarantine/)
      assert.equal(fixture.repo.store.localFile?.(block.id), undefined, 'the corrupt file is no longer offered')
      // A good copy arriving later is served again.
      await fixture.repo.store.put(block.id, block.bytes)
      const again = await get(`/sha256/${block.id}/aes256/${block.key}`)
      assert.equal(again.status, 200)
      assert.ok(Buffer.from(again.body).equals(plaintext))
    })

    it('with no network behind the store (offline), a missing block is a 404', async () => {
      const offline = await startGateway({ backend, port: 0, offline: true })
      try {
        const block = encodeConvergent(Buffer.from('not here either'))
        const res = await send(offline.url, 'GET', `/sha256/${block.id}/aes256/${block.key}`)
        assert.equal(res.status, 404)
        assert.match(res.body.toString(), /no node is running/)
      } finally {
        await offline.close()
      }
    })

    it('a network that does not answer in time is a 504', async () => {
      const block = encodeConvergent(Buffer.from('slow network'))
      await fixture.repo.store.put(block.id, block.bytes)
      store.stalled = true
      try {
        const started = performance.now()
        const res = await get(`/sha256/${block.id}/aes256/${block.key}`)
        assert.equal(res.status, 504)
        assert.match(res.body.toString(), /timed out/)
        assert.ok(performance.now() - started < 10_000)
      } finally {
        store.stalled = false
      }
    })

    it('other methods are a 405 naming the allowed ones', async () => {
      for (const method of ['POST', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await send(gateway.url, method, `${fixture.url}/style.css`)
        assert.equal(res.status, 405, method)
        assert.equal(res.headers.allow, 'GET, HEAD, PUT')
      }
    })

    it('HttpError carries its status and name', () => {
      const err = new HttpError(404, 'gone')
      assert.equal(err.name, 'HttpError')
      assert.equal(err.status, 404)
    })

    it('a bundle that is not valid is a 400, not a 5xx', async () => {
      const json = Buffer.from('{"files":{"../escape.txt":{"contents":[],"modified":0.0,"size":0}}}')
      const block = encodeConvergent(json)
      await fixture.repo.store.put(block.id, block.bytes)
      const url = `/sha256/${block.id}/aes256/${block.key}`
      assert.throws(() => parseBundle(json), InvalidBundleError)
      const res = await get(`${url}/escape.txt`)
      assert.equal(res.status, 400)
      assert.match(res.body.toString(), /the bundle is not valid/)
      // Without a path it is just content.
      assert.equal((await get(url)).status, 200)
    })
  })

  describe('status page and metrics', () => {
    it('/ is an HTML page that refreshes itself and shows the node, storage, peers and snapshots', async () => {
      const res = await get('/')
      assert.equal(res.status, 200)
      assert.match(String(res.headers['content-type']), /^text\/html/)
      assert.equal(res.headers['cache-control'], 'no-store')
      const html = res.body.toString()
      assert.ok(html.includes('<meta http-equiv="refresh" content="10">'))
      assert.ok(!html.includes('<script'))
      assert.match(html, /<span id="peer-count">0 peers<\/span>/)
      assert.ok(html.includes('<table id="peers">'))
      assert.ok(html.includes('No peers connected.'))
      assert.ok(html.includes('<table id="storage">'))
      assert.ok(html.includes('unlimited'))
      assert.ok(html.includes(`href="${fixture.url}/"`), 'the snapshot links to its listing')
      assert.ok(html.includes(fixture.site.dir))
      assert.ok(html.includes('blocks only on this node'))
      assert.ok(html.includes(gateway.url))
    })

    it('/ answers the status as JSON for Accept: application/json', async () => {
      const res = await get('/', { accept: 'application/json' })
      const status = JSON.parse(res.body.toString()) as NodeStatus
      assert.deepEqual(status.peers, [])
      assert.equal(status.gateway, gateway.url)
      assert.ok(status.storage.usedBytes > big.byteLength)
      assert.ok(status.storage.pinnedBytes > 0)
      assert.equal(status.snapshots.length, 1)
      assert.equal(status.snapshots[0]!.url, fixture.url)
      const { replication } = status.snapshots[0]!
      assert.ok(replication.blocks > bigFile.parts.length)
      assert.equal(replication.localOnly, replication.blocks)
    })

    it('/metrics is Prometheus text with requests, latencies, bytes, peers and storage', async () => {
      await get(`${fixture.url}/style.css`)
      const res = await get('/metrics')
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
      const text = res.body.toString()
      assert.match(text, /^# HELP libernet_gateway_requests_total /m)
      assert.match(text, /^libernet_gateway_requests_total\{kind="file",code="200"\} \d+$/m)
      assert.match(text, /^libernet_gateway_request_duration_seconds_bucket\{le="0\.1",kind="file"\} \d+$/m)
      assert.match(text, /^libernet_gateway_sent_bytes_total [1-9]\d*$/m)
      assert.match(text, /^libernet_gateway_blocks_read_total [1-9]\d*$/m)
      assert.match(text, /^libernet_peers\{discovered_by="mdns"\} 0$/m)
      assert.match(text, /^libernet_store\{kind="used_bytes"\} [1-9]\d*$/m)
      assert.match(text, /^libernet_node_blocks_served 0$/m)
      assert.match(text, /^libernet_node_bytes_in 0$/m)
      assert.match(text, /^libernet_snapshots 1$/m)
      assert.doesNotMatch(text, /^libernet_store\{kind="quota_bytes"\}/m, 'no quota when unbounded')
      // A registry of its own: nothing from prom-client's global registry (default process metrics).
      assert.ok(!text.includes('process_cpu_seconds_total'))
    })

    it('the status page escapes everything that comes from outside', () => {
      const hostile = '<script>alert(1)</script>'
      const status: NodeStatus = {
        peerId: hostile,
        addresses: [`/ip4/1.2.3.4/tcp/1/${hostile}`],
        startedAt: hostile,
        replicas: 3,
        peers: [
          { id: hostile, addresses: [hostile], discoveredBy: 'mdns', latencyMs: 3.2, replicasHeld: 7 },
          { id: 'peer-b', addresses: [], discoveredBy: 'dht', replicasHeld: 0 },
          { id: 'peer-c', addresses: [], discoveredBy: 'bootstrap', replicasHeld: 0 },
        ],
        storage: { usedBytes: 5 * 1024 ** 3, pinnedBytes: 1024, quotaBytes: 20 * 1024 ** 3, blocks: 9 },
        snapshots: [
          {
            folder: `/home/${hostile}`,
            url: `/sha256/${'a'.repeat(64)}/aes256/${'b'.repeat(64)}`,
            time: hostile,
            replication: { blocks: 4, replicated: 4, underReplicated: 0, localOnly: 0, minReplicas: 3 },
          },
        ],
        traffic: {
          blocksServed: 0,
          bytesServed: 0,
          blocksFetched: 0,
          bytesFetched: 0,
          blocksReplicated: 0,
          bytesReplicated: 0,
        },
      }
      const html = renderStatusPage(status)
      assert.ok(!html.includes('<script'))
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
      assert.match(html, /3 peers/)
      assert.ok(html.includes('mDNS (LAN)') && html.includes('DHT') && html.includes('bootstrap'))
      assert.ok(html.includes('3 ms'))
      assert.ok(html.includes('20.0 GiB'))
      assert.ok(html.includes('healthy'))
    })
  })
})

describe('private endpoints from other machines', () => {
  let fixture: Fixture
  before(async () => {
    fixture = await createFixture('gateway-remote', 64 * 1024)
  })
  after(async () => {
    await fixture?.cleanup()
  })

  // The app is driven with a socket whose peer is another machine: tests may not open non-loopback connections.
  const from = (remoteAddress: string) =>
    ({ incoming: { socket: { remoteAddress } } }) as unknown as Parameters<
      ReturnType<typeof createGatewayApp>['request']
    >[2]

  function app(allowRemotePrivate: boolean) {
    const backend = localGatewayBackend(fixture.repo)
    return createGatewayApp({
      backend,
      metrics: new GatewayMetrics(),
      boundHost: '0.0.0.0',
      allowRemotePrivate,
      putBlock: (id, bytes) => backend.store.put(id, bytes),
      timeoutMs: 5000,
      gatewayUrl: () => undefined,
      onError: (err) => {
        throw err
      },
    })
  }

  it('answers status, metrics and PUT only to loopback by default; content to anyone', async () => {
    const gateway = app(false)
    const block = encodeConvergent(Buffer.from('remote put'))
    const remote = from('192.0.2.7')
    const headers = { host: '192.0.2.1:8042' }
    assert.equal((await gateway.request('/', { headers }, remote)).status, 403)
    assert.equal((await gateway.request('/metrics', { headers }, remote)).status, 403)
    const put = await gateway.request(`/sha256/${block.id}`, { method: 'PUT', body: block.bytes, headers }, remote)
    assert.equal(put.status, 403)
    assert.match(await put.text(), /only to clients on the same machine/)
    assert.equal(await fixture.repo.store.has(block.id), false)
    const content = await gateway.request(`${fixture.url}/style.css`, { headers }, remote)
    assert.equal(content.status, 200)
    const local = from('::ffff:127.0.0.1')
    assert.equal((await gateway.request('/', { headers: { host: 'localhost:8042' } }, local)).status, 200)
  })

  it('answers them to everyone when configured to', async () => {
    const gateway = app(true)
    const block = encodeConvergent(Buffer.from('remote put allowed'))
    const remote = from('192.0.2.7')
    const headers = { host: '192.0.2.1:8042' }
    assert.equal((await gateway.request('/', { headers }, remote)).status, 200)
    assert.equal((await gateway.request('/metrics', { headers }, remote)).status, 200)
    const put = await gateway.request(`/sha256/${block.id}`, { method: 'PUT', body: block.bytes, headers }, remote)
    assert.equal(put.status, 201)
  })
})

describe('address and range rules', () => {
  it('tells loopback clients from others', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) {
      assert.equal(isLoopbackAddress(address), true, address)
    }
    for (const address of [
      undefined,
      '',
      '10.0.0.1',
      '192.168.1.2',
      '::ffff:10.0.0.1',
      'fe80::1',
      '128.0.0.1',
      'localhost',
    ]) {
      assert.equal(isLoopbackAddress(address), false, String(address))
    }
  })

  it('accepts loopback names in Host and refuses others', () => {
    for (const host of ['localhost', 'localhost:8042', '127.0.0.1:8042', '[::1]:8042', 'app.localhost', 'gw.lan:1']) {
      assert.equal(isLoopbackHost(host, 'gw.lan'), true, host)
    }
    for (const host of [undefined, '', 'evil.example', 'evil.example:8042', '10.0.0.1', 'localhost.evil.example']) {
      assert.equal(isLoopbackHost(host, '127.0.0.1'), false, String(host))
    }
  })

  it('parses single ranges and always stays within the content', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { kind: 'partial', start: 0, end: 0 })
    assert.deepEqual(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 })
    assert.deepEqual(parseRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 })
    assert.deepEqual(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' })
    assert.deepEqual(parseRange(undefined, 10), { kind: 'whole' })
    assert.deepEqual(parseRange('bytes=1-2, 4-5', 10), { kind: 'whole' })
    fc.assert(
      fc.property(fc.string(), fc.nat(1 << 30), (header, size) => {
        const range = parseRange(header, size)
        if (range.kind === 'partial') assert.ok(range.start >= 0 && range.start <= range.end && range.end < size)
      }),
    )
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.integer({ min: 1, max: 1000 }), (a, b, size) => {
        const range = parseRange(`bytes=${a}-${b}`, size)
        if (b < a) assert.equal(range.kind, 'whole')
        else if (a >= size) assert.equal(range.kind, 'unsatisfiable')
        else assert.deepEqual(range, { kind: 'partial', start: a, end: Math.min(b, size - 1) })
      }),
    )
  })
})
