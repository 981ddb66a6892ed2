import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { encodeSegment, parseUrl } from '@libernet/core'
import fc from 'fast-check'
import { type Gateway, localGatewayBackend, startGateway } from '../src/gateway/index.ts'
import { createFixture, type Fixture, PERCENT_NAME, UNICODE_NAME, WEIRD_NAME } from './gateway-fixture.ts'

const TOTAL = 10_000
const CONCURRENCY = 8
/** Heap growth allowed over the run, after a full GC: a leak of even 1 KiB per request would exceed it. */
const MAX_HEAP_GROWTH = 8 * 1024 * 1024
const MAX_RSS_GROWTH = 96 * 1024 * 1024

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** Makes any string a path node:http will send: bytes outside visible ASCII are percent-encoded. */
function sendable(path: string): string {
  let out = ''
  for (const char of path) {
    const code = char.codePointAt(0)!
    if (code > 0x20 && code < 0x7f) out += char
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).padStart(2, '0')}`
  }
  return out.startsWith('/') ? out : `/${out}`
}

interface Sent {
  status: number
  body: string
}

function send(
  agent: Agent,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        // Keep only the start: the large file is read in full but not kept.
        if (size < 1024) chunks.push(chunk)
        size += chunk.byteLength
      })
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8', 0, 300) }),
      )
      res.on('error', reject)
    })
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${method} ${path.slice(0, 200)}`)))
    req.on('error', reject)
    req.end(body)
  })
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })

describe('gateway fuzz: random and mutated URLs', () => {
  let fixture: Fixture
  let gateway: Gateway
  let valid: string[]
  const unexpected: unknown[] = []

  before(async () => {
    fixture = await createFixture('gateway-fuzz', 512 * 1024)
    gateway = await startGateway({
      backend: localGatewayBackend(fixture.repo),
      port: 0,
      offline: true,
      timeoutMs: 5000,
      onError: (err) => unexpected.push(err),
    })
    const { id, key } = parseUrl(fixture.url) as { id: string; key: string }
    const loose = parseUrl(fixture.loose.url) as { id: string }
    valid = [
      fixture.url,
      `${fixture.url}/`,
      `${fixture.url}/index.html`,
      `${fixture.url}/style.css`,
      `${fixture.url}/img/logo.png`,
      `${fixture.url}/docs/`,
      `${fixture.url}/docs/${encodeSegment(WEIRD_NAME)}`,
      `${fixture.url}/docs/${encodeSegment(UNICODE_NAME)}`,
      `${fixture.url}/docs/${encodeSegment(PERCENT_NAME)}`,
      `${fixture.url}/data/big.bin`,
      `${fixture.url}/linked`,
      `${fixture.url}/escape/`,
      `${fixture.passphraseUrl}/`,
      fixture.loose.url,
      `/sha256/${id}`,
      `/sha256/${loose.id}`,
      `/sha256/like/${id}`,
      `/sha256/${id}/passphrase/${key}`,
      '/',
      '/metrics',
    ]
  })

  after(async () => {
    await gateway?.close()
    await fixture?.cleanup()
  })

  it(`answers ${TOTAL} random and mutated requests without a 5xx, a crash or a leak`, async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom(
        '..',
        '.',
        '',
        '%2e%2e',
        '%2F',
        '%00',
        '%zz',
        '%C3',
        '%ff',
        'sha256',
        'aes256',
        'passphrase',
        'like',
        'index.html',
        '\\',
      ),
      hex(64),
      hex(63),
    )
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 70 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: segment }),
      fc.record({
        kind: fc.constant('append' as const),
        text: fc.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('query' as const), text: fc.string({ maxLength: 20 }) }),
      fc.record({ kind: fc.constant('upper' as const) }),
    )
    type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never
    const mutate = (url: string, change: Mutation): string => {
      switch (change.kind) {
        case 'flip': {
          const at = change.at % Math.max(1, url.length)
          return url.slice(0, at) + change.char + url.slice(at + 1)
        }
        case 'delete': {
          const at = change.at % Math.max(1, url.length)
          return url.slice(0, at) + url.slice(at + change.length)
        }
        case 'insert': {
          const at = change.at % Math.max(1, url.length)
          return `${url.slice(0, at)}${change.text}${url.slice(at)}`
        }
        case 'append':
          return url + change.text
        case 'truncate':
          return url.slice(0, change.at % Math.max(1, url.length))
        case 'query':
          return `${url}?${change.text}`
        case 'upper':
          return url.toUpperCase()
      }
    }
    const requestArbitrary = fc.record({
      path: fc.oneof(
        { weight: 3, arbitrary: fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })) },
        { weight: 1, arbitrary: fc.array(segment, { maxLength: 8 }).map((parts) => `/${parts.join('/')}`) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(hex(64), hex(64), fc.array(segment, { maxLength: 3 }))
            .map(([a, b, rest]) => `/sha256/${a}/aes256/${b}/${rest.join('/')}`),
        },
      ),
      method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'HEAD', 'PUT', 'POST', 'OPTIONS'),
      range: fc.option(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.tuple(fc.nat(4_000_000), fc.nat(4_000_000)).map(([a, b]) => `bytes=${a}-${b}`),
          fc.nat(5000).map((n) => `bytes=-${n}`),
        ),
        { nil: undefined },
      ),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*'),
      ifNoneMatch: fc.option(fc.string({ maxLength: 44 }), { nil: undefined }),
      body: fc.uint8Array({ maxLength: 64 }),
    })

    const requests = fc.sample(requestArbitrary, { numRuns: TOTAL, seed: 0x11be7 })
    const base = new URL(gateway.url)
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
    const statuses = new Map<number, number>()
    const failures: string[] = []
    let next = 0
    let heapAfterWarmup = 0
    let rssAfterWarmup = 0
    const started = performance.now()

    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++
        if (index === 1000) {
          collectGarbage()
          heapAfterWarmup = process.memoryUsage().heapUsed
          rssAfterWarmup = process.memoryUsage().rss
        }
        const spec = requests[index]!
        const raw =
          typeof spec.path === 'string' ? spec.path : spec.path[1].reduce(mutate, valid[spec.path[0] % valid.length]!)
        const path = sendable(raw.slice(0, 20_000))
        const headers: Record<string, string> = {}
        if (spec.range !== undefined) headers.range = spec.range.replace(/[^\x20-\x7e]/g, '')
        if (spec.accept !== undefined) headers.accept = spec.accept
        if (spec.ifNoneMatch !== undefined) headers['if-none-match'] = spec.ifNoneMatch.replace(/[^\x20-\x7e]/g, '')
        const res = await send(
          agent,
          base,
          spec.method,
          path,
          headers,
          spec.method === 'PUT' || spec.method === 'POST' ? spec.body : undefined,
        )
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status >= 500 || res.status < 100)
          failures.push(`${spec.method} ${path.slice(0, 200)} → ${res.status} ${res.body}`)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    agent.destroy()
    const seconds = (performance.now() - started) / 1000

    collectGarbage()
    const heapGrowth = process.memoryUsage().heapUsed - heapAfterWarmup
    const rssGrowth = process.memoryUsage().rss - rssAfterWarmup
    const summary = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')
    console.log(
      `${TOTAL} requests in ${seconds.toFixed(1)} s: ${summary}; heap +${(heapGrowth / 1048576).toFixed(1)} MiB, rss +${(rssGrowth / 1048576).toFixed(1)} MiB`,
    )

    assert.deepEqual(failures.slice(0, 10), [])
    assert.deepEqual(unexpected, [])
    assert.equal(
      [...statuses.values()].reduce((a, b) => a + b, 0),
      TOTAL,
    )
    // The mutations reach past the parser: real content, listings, 404s and 400s all occur.
    for (const status of [200, 400, 404]) assert.ok((statuses.get(status) ?? 0) > 0, `some ${status}`)
    assert.ok(heapGrowth < MAX_HEAP_GROWTH, `heap grew ${heapGrowth} bytes`)
    assert.ok(rssGrowth < MAX_RSS_GROWTH, `rss grew ${rssGrowth} bytes`)

    // Still serving.
    const check = await send(new Agent(), base, 'GET', `${fixture.url}/style.css`, {})
    assert.equal(check.status, 200)
  })
})
