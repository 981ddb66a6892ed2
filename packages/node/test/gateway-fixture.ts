import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { encodeConvergent, encodePassphrase } from '@libernet/core'
import { backup } from '../src/backup/backup.ts'
import { openRepo, type Repo } from '../src/repo.ts'
import type { EngineStore } from '../src/store.ts'
import { scratch } from './helpers.ts'

/** A real PNG of `width` × `height` in one colour (browsers must decode it: naturalWidth > 0). */
export function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.byteLength)
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** Deterministic pseudo-random bytes (xorshift), so a failing range is reproducible. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(size)
  let state = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 0xff
  }
  return bytes
}

export const WEIRD_NAME = 'we<ird> & "q" \'x\'.txt'
export const UNICODE_NAME = 'ünï cødé.txt'
export const PERCENT_NAME = 'a%20b.txt'

/** What the web bundle holds, by path. */
export interface WebSite {
  dir: string
  files: Map<string, Buffer>
}

/** A small web site (HTML, CSS, an image, relative links) plus the awkward cases: odd names, links, a large file. */
export function writeWebSite(dir: string, bigSize = 3 * 1024 * 1024): WebSite {
  const files = new Map<string, Buffer>()
  const put = (path: string, content: string | Buffer): void => {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), bytes)
    files.set(path, bytes)
  }
  put(
    'index.html',
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Libernet web bundle</title><link rel="stylesheet" href="style.css"></head>
<body><h1 id="title">Hello from a bundle</h1>
<img id="logo" src="img/logo.png" alt="logo">
<p><a id="next" href="pages/second.html">Second page</a> · <a href="docs/">Docs</a></p>
</body></html>
`,
  )
  put('style.css', 'h1 { color: rgb(12, 34, 56); }\nbody { background-color: rgb(250, 240, 230); }\n')
  put('img/logo.png', png(16, 8, [200, 30, 60]))
  put(
    'pages/second.html',
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Second</title><link rel="stylesheet" href="../style.css"></head>
<body><h1 id="second">Second page</h1><img id="logo2" src="../img/logo.png" alt="logo"><a id="back" href="../index.html">Back</a></body></html>
`,
  )
  // A page whose script tries the gateway's private endpoints from the content origin.
  put(
    'probe.html',
    `<!doctype html>
<html><head><meta charset="utf-8"><title>probing</title></head><body><p id="result">pending</p>
<script>
const show = (text) => { document.getElementById('result').textContent = text; document.title = 'done' }
Promise.allSettled([
  fetch('/').then((res) => res.text()),
  fetch('/sha256/${'0'.repeat(64)}', { method: 'PUT', body: 'x' }).then((res) => res.status),
]).then(([status, put]) => show('status:' + status.status + ' put:' + put.status + ' origin:' + String(self.origin)))
</script></body></html>
`,
  )
  put('docs/readme.txt', 'Read me.\n')
  put(`docs/${WEIRD_NAME}`, 'weird\n')
  put(`docs/${UNICODE_NAME}`, 'unicode\n')
  put(`docs/${PERCENT_NAME}`, 'percent\n')
  put('docs/deeper/note.md', '# note\n')
  put('empty.txt', '')
  put('data/big.bin', pseudoRandom(bigSize, 7))
  mkdirSync(join(dir, 'emptydir'))
  symlinkSync('docs', join(dir, 'linked'))
  symlinkSync('../..', join(dir, 'escape'))
  return { dir, files }
}

export interface Fixture {
  repo: Repo
  site: WebSite
  /** The convergent snapshot of the site. */
  url: string
  /** The same folder, its top bundle passphrase-encrypted. */
  passphraseUrl: string
  /** Encrypted content that is not a bundle, and its plaintext. */
  loose: { url: string; plaintext: Buffer }
  cleanup(): Promise<void>
}

/** A real repository in a temp directory, filled by the real backup engine. */
export async function createFixture(prefix: string, bigSize?: number): Promise<Fixture> {
  const { dir, cleanup } = scratch(prefix)
  const site = writeWebSite(join(dir, 'site'), bigSize)
  const repo = await openRepo(join(dir, 'data'), { workers: 2 })
  // Small chunks: the large file has many parts, so ranges cross part boundaries.
  const chunker = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 }
  const { url } = await backup(site.dir, { store: repo.store, pool: repo.pool, snapshots: repo.snapshots, chunker })
  const second = await backup(site.dir, {
    store: repo.store,
    pool: repo.pool,
    prior: null,
    passphrase: 'open sesame',
    chunker,
  })
  const plaintext = Buffer.from('loose content, not a bundle\n'.repeat(50))
  const block = encodeConvergent(plaintext)
  await repo.store.put(block.id, block.bytes)
  return {
    repo,
    site,
    url,
    passphraseUrl: second.url,
    loose: { url: `/sha256/${block.id}/aes256/${block.key}`, plaintext },
    async cleanup() {
      await repo.close()
      cleanup()
    },
  }
}

/** A passphrase block that is not a bundle (for the passphrase URL form with raw content). */
export function passphraseBlock(text: string, passphrase: string): { id: string; key: string; bytes: Uint8Array } {
  const block = encodePassphrase(Buffer.from(text), passphrase)
  return { id: block.id, key: block.key!, bytes: block.bytes }
}

/**
 * The node's contract for a network-backed store, over a local one: blocks in
 * `unavailable` are never supplied (`get` resolves undefined, as when no peer
 * has them in time); while `stalled`, `get` waits until its signal aborts.
 * Every read is recorded, so tests can see which blocks a request needed.
 */
export function networkLikeStore(store: EngineStore): EngineStore & {
  reads: string[]
  unavailable: Set<string>
  stalled: boolean
} {
  const wrapped = {
    reads: [] as string[],
    unavailable: new Set<string>(),
    stalled: false,
    has: (id: string) => store.has(id),
    async get(id: string, options: { signal?: AbortSignal; verify?: boolean } = {}) {
      if (wrapped.stalled) {
        await new Promise<void>((resolve) => {
          if (options.signal === undefined) return
          if (options.signal.aborted) resolve()
          options.signal.addEventListener('abort', () => resolve(), { once: true })
        })
        options.signal?.throwIfAborted()
      }
      wrapped.reads.push(id)
      if (wrapped.unavailable.has(id)) return undefined
      return store.get(id, options)
    },
    // Local block files go to the workers as on a node; a block made unavailable or stalled is not offered.
    localFile(id: string) {
      if (wrapped.stalled || wrapped.unavailable.has(id)) return undefined
      const file = store.localFile?.(id)
      if (file !== undefined) wrapped.reads.push(id)
      return file
    },
    put: (id: string, bytes: Uint8Array, options?: { signal?: AbortSignal }) => store.put(id, bytes, options),
    pin: (url: string, owner: string) => store.pin(url, owner),
    close: () => store.close(),
  }
  return wrapped
}
