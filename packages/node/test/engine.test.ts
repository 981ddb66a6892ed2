import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  type BlockId,
  type BundleFile,
  blockUrl,
  CodecPool,
  contentUrl,
  createBundle,
  encodeConvergent,
  iterateBundleFiles,
  MAX_BUNDLE_SIZE,
  parseBundle,
  parseUrl,
  serializeBundle,
} from '@libernet/core'
import fc from 'fast-check'
import { backup } from '../src/backup/backup.ts'
import { BundleWriter } from '../src/backup/bundle-writer.ts'
import { compileExcludes } from '../src/backup/exclude.ts'
import { IngestPool } from '../src/backup/ingest-pool.ts'
import { walk } from '../src/backup/walk.ts'
import { loadPlaintext, loadStored, partTarget } from '../src/content.ts'
import { blockIdOfFile } from '../src/import.ts'
import { openRepo } from '../src/repo.ts'
import { restore } from '../src/restore/restore.ts'
import { assertLinkInside, RestoreRoot } from '../src/restore/safe-path.ts'
import { FileSink } from '../src/restore/sink.ts'
import { writeRegularFile } from '../src/restore/writer.ts'
import { SnapshotLog } from '../src/snapshots.ts'
import type { EngineStore } from '../src/store.ts'
import { compareCodePoints } from '../src/util/code-points.ts'
import { Semaphore } from '../src/util/semaphore.ts'
import { describeTree, scratch } from './helpers.ts'

/** A store in memory, for the engine's own logic (the blockstore has its own tests). */
function memoryStore(): EngineStore & { blocks: Map<BlockId, Uint8Array> } {
  const blocks = new Map<BlockId, Uint8Array>()
  return {
    blocks,
    has: async (id) => blocks.has(id),
    // A copy, as a store on disk reads a fresh buffer: readers may move it to a worker thread.
    get: async (id) => blocks.get(id)?.slice(),
    put: async (id, bytes) => {
      if (blocks.has(id)) return false
      blocks.set(id, bytes.slice())
      return true
    },
    pin: async () => {},
    close: async () => {},
  }
}

/** `count` files of random bytes under `root`, spread over `dirs` subdirectories; file `i` holds `size(i)` bytes. */
function writeRandomFiles(
  root: string,
  prefix: string,
  count: number,
  dirs: number,
  size: (index: number) => number,
): void {
  for (let index = 0; index < count; index++) {
    mkdirSync(join(root, `${prefix}${index % dirs}`), { recursive: true })
    writeFileSync(join(root, `${prefix}${index % dirs}/f${index}`), randomBytes(size(index)))
  }
}

function storeJson(store: ReturnType<typeof memoryStore>): (json: Uint8Array) => Promise<string> {
  return async (json) => {
    const block = encodeConvergent(json)
    await store.put(block.id, block.bytes)
    return `/sha256/${block.id}/aes256/${block.key}`
  }
}

function loader(store: ReturnType<typeof memoryStore>) {
  return async (url: string): Promise<Uint8Array> => {
    const parsed = parseUrl(url)
    if (parsed.kind !== 'content') throw new Error('not content')
    const { decodeBlock } = await import('@libernet/core')
    return decodeBlock('convergent', store.blocks.get(parsed.id)!, parsed.id, parsed.key)
  }
}

const PART = { url: `/sha256/${'1'.repeat(64)}/aes256/${'2'.repeat(64)}`, size: 10 }
const file = (mtime: number): BundleFile => ({ size: 10, mtime, parts: [PART] })

describe('code point order', () => {
  it('orders like Python sorts str (astral characters after U+FFFF)', () => {
    const codePoints = (text: string): number[] => Array.from(text, (char) => char.codePointAt(0)!)
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const expected = Math.sign(
          (() => {
            const x = codePoints(a)
            const y = codePoints(b)
            for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
            return x.length - y.length
          })(),
        )
        assert.equal(Math.sign(compareCodePoints(a, b)), expected)
      }),
    )
    assert.ok(compareCodePoints('\u{1F389}', '\uFFFD') > 0)
  })
})

describe('walk', () => {
  const work = scratch('walk')
  after(() => work.cleanup())

  it('yields entries in code point order of their full paths, with empty directories and links', async () => {
    const root = join(work.dir, 'tree')
    for (const path of ['a-b', 'a/b', 'a/c/d', 'a.txt', 'b\uFFFD', 'b\u{1F389}', 'z']) {
      mkdirSync(join(root, path, '..'), { recursive: true })
      writeFileSync(join(root, path), path)
    }
    mkdirSync(join(root, 'empty/inner'), { recursive: true })
    symlinkSync('a', join(root, 'dirlink'))
    symlinkSync('z', join(root, 'filelink'))
    execFileSync('mkfifo', [join(root, 'pipe')])
    const entries = []
    for await (const entry of walk(root)) entries.push(`${entry.kind}:${entry.path}`)
    assert.deepEqual(entries, [
      'file:a-b',
      'file:a.txt',
      'file:a/b',
      'file:a/c/d',
      'file:b\uFFFD',
      'file:b\u{1F389}',
      'directory-link:dirlink',
      'empty-directory:empty/inner',
      'empty-directory:empty',
      'link:filelink',
      'special:pipe',
      'file:z',
    ])
  })

  it('leaves out excluded names, paths and directories, and the data directory', async () => {
    const root = join(work.dir, 'excludes')
    for (const path of ['keep.txt', 'x.tmp', 'sub/y.tmp', 'build/out.o', 'src/build', 'cache/c', 'data/blocks/b']) {
      mkdirSync(join(root, path, '..'), { recursive: true })
      writeFileSync(join(root, path), path)
    }
    const exclude = compileExcludes(['*.tmp', 'build/', 'cache'])
    const paths = []
    for await (const entry of walk(root, { exclude, skipAbsolute: [join(root, 'data')] })) paths.push(entry.path)
    // sub/ keeps its place as an empty directory: only its file was excluded.
    assert.deepEqual(paths, ['keep.txt', 'src/build', 'sub'])
  })
})

describe('restore path safety', () => {
  it('accepts links that stay inside the restore', () => {
    for (const [path, target] of [
      ['a', 'b'],
      ['dir/link', '../file'],
      ['d/e/f', '../../x/y'],
      ['l', './here'],
    ] as const) {
      assertLinkInside(path, target)
    }
  })

  it('refuses absolute links, links that leave, and ".." after a name (UnsafePathError)', () => {
    for (const [path, target] of [
      ['a', '/etc/passwd'],
      ['a', '..'],
      ['dir/link', '../../x'],
      ['l', 'sub/../../x'],
      ['l', 'r/..'],
      ['l', ''],
    ] as const) {
      assert.throws(() => assertLinkInside(path, target), { name: 'UnsafePathError' }, `${path} -> ${target}`)
    }
  })
  it('knows which paths lie in directories the restore found missing, after forgetting the rest', async () => {
    const work = scratch('new-directories')
    try {
      mkdirSync(join(work.dir, 'old/deeper'), { recursive: true })
      const root = await RestoreRoot.open(work.dir)
      for (const path of ['top.txt', 'old/deeper/a.txt', 'old/new/b.txt', 'new/c/d.txt']) await root.checkParents(path)
      root.forget()
      const answers = [
        'top.txt',
        'old/a.txt',
        'old/deeper/a.txt',
        'old/new/b.txt',
        'old/new/x/y',
        'new/c/d.txt',
        'new/e',
      ]
      assert.deepEqual(
        answers.map((path) => root.inNewDirectory(path)),
        [false, false, false, true, true, true, true],
      )
    } finally {
      work.cleanup()
    }
  })
})

describe('BundleWriter', () => {
  it('writes a small tree as one bundle, byte for byte as the serializer', async () => {
    const store = memoryStore()
    const writer = new BundleWriter(storeJson(store))
    const files: Array<[string, BundleFile]> = [
      ['a.txt', file(1_600_000_000.5)],
      ['dir/\u00e9', file(1_600_000_001)],
    ]
    for (const [path, entry] of files) await writer.add(path, entry)
    writer.addDirectory('empty', null)
    const prior = `/sha256/${'3'.repeat(64)}/aes256/${'4'.repeat(64)}`
    const result = await writer.finish(prior)
    const expected = createBundle(files)
    expected.directories = new Map([['empty', null]])
    expected.prior = prior
    assert.deepEqual(Buffer.from(result.top), Buffer.from(serializeBundle(expected)))
    assert.equal(store.blocks.size, 0)
  })

  it('streams a large tree into sub-bundles of at most one block, readable in order', async () => {
    const store = memoryStore()
    const writer = new BundleWriter(storeJson(store))
    const paths = Array.from({ length: 12_000 }, (_, i) => `dir-${i % 97}/file-${String(i).padStart(6, '0')}.txt`)
    paths.sort(compareCodePoints)
    for (const path of paths) await writer.add(path, file(1_600_000_000))
    const result = await writer.finish()
    assert.ok(result.subBundles.length >= 3)
    const top = parseBundle(result.top)
    assert.equal(top.files.size, 0)
    const seen: string[] = []
    for await (const entry of iterateBundleFiles(top, loader(store))) seen.push(entry.path)
    assert.deepEqual(seen, paths)
    for (const url of result.subBundles) {
      assert.ok((await loader(store)(url)).byteLength <= MAX_BUNDLE_SIZE)
    }
  })

  it('cuts pieces where the content says, so one changed file changes one or two pieces', async () => {
    const paths = Array.from({ length: 12_000 }, (_, i) => `f${String(i).padStart(6, '0')}`)
    const pieces = async (changed: string | undefined): Promise<string[]> => {
      const writer = new BundleWriter(storeJson(memoryStore()))
      for (const path of paths) await writer.add(path, file(path === changed ? 2 : 1))
      return (await writer.finish()).subBundles
    }
    const before = await pieces(undefined)
    const afterEdit = await pieces('f005000')
    assert.equal(afterEdit.length, before.length)
    const differing = afterEdit.filter((url, index) => url !== before[index]).length
    assert.ok(differing >= 1 && differing <= 2, `${differing} pieces changed`)
  })

  it('refuses entries out of order', async () => {
    const writer = new BundleWriter(storeJson(memoryStore()))
    await writer.add('b', file(1))
    await assert.rejects(writer.add('a', file(1)), RangeError)
  })
})

describe('SnapshotLog', () => {
  const work = scratch('snapshots')
  after(() => work.cleanup())

  it('keeps each folder history in order and survives reopening', async () => {
    const log = new SnapshotLog(join(work.dir, 'snapshots'))
    const url = (digit: string): string => `/sha256/${digit.repeat(64)}/aes256/${digit.repeat(64)}`
    await log.record('/home/a', { url: url('1'), time: '2024-01-01T00:00:00Z', files: 1, bytes: 2, stored: 3 })
    await log.record('/home/a', { url: url('2'), time: '2024-01-02T00:00:00Z', files: 1, bytes: 2, stored: 0 })
    await log.record('/home/b', { url: url('3'), time: '2024-01-03T00:00:00Z', files: 5, bytes: 6, stored: 7 })
    const reopened = new SnapshotLog(join(work.dir, 'snapshots'))
    assert.equal((await reopened.latest('/home/a'))?.url, url('2'))
    assert.deepEqual(
      (await reopened.all()).map((history) => [history.folder, history.snapshots.length]),
      [
        ['/home/a', 2],
        ['/home/b', 1],
      ],
    )
    assert.equal(await reopened.latest('/nowhere'), undefined)
  })

  it('a damaged history file is a DataDirectoryError', async () => {
    const directory = join(work.dir, 'damaged')
    mkdirSync(directory)
    writeFileSync(join(directory, `${'0'.repeat(32)}.json`), '{"version":1,')
    await assert.rejects(new SnapshotLog(directory).all(), { name: 'DataDirectoryError' })
  })
})

describe('Semaphore', () => {
  it('never lets more than its capacity through', async () => {
    const semaphore = new Semaphore(3)
    let running = 0
    let peak = 0
    await Promise.all(
      Array.from({ length: 20 }, () =>
        semaphore.use(1, async () => {
          running++
          peak = Math.max(peak, running)
          await new Promise((resolve) => setTimeout(resolve, 1))
          running--
        }),
      ),
    )
    assert.equal(peak, 3)
    assert.equal(semaphore.available, 3)
  })

  it('a waiter whose signal aborts gets an AbortError', async () => {
    const semaphore = new Semaphore(1)
    await semaphore.acquire()
    const controller = new AbortController()
    const waiting = semaphore.acquire(1, controller.signal)
    controller.abort()
    await assert.rejects(waiting, { name: 'AbortError' })
  })
})

describe('partTarget', () => {
  it('reads canonical part URLs of every mode as parsing them would', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/)
    fc.assert(
      fc.property(hex, hex, fc.constantFrom('plain', 'convergent', 'passphrase'), (id, key, mode) => {
        const url = mode === 'plain' ? blockUrl(id) : contentUrl(mode, id, key)
        const parsed = parseUrl(url)
        const expected =
          parsed.kind === 'content' ? { mode: parsed.mode, id: parsed.id, key: parsed.key } : { mode: 'plain', id }
        assert.deepEqual(partTarget(url), expected)
      }),
      { numRuns: 300 },
    )
    assert.throws(() => partTarget(`/sha256/like/${'a'.repeat(64)}`), { name: 'NotFoundError' })
  })
})

describe('import layouts', () => {
  const id = 'ab3'.padEnd(64, 'c')
  it('recognizes flat, current and 2022 layouts, and nothing else', () => {
    assert.equal(blockIdOfFile('blocks', id), id)
    assert.equal(blockIdOfFile('ab3', id.slice(3)), id)
    assert.equal(blockIdOfFile('ab', `${id}.raw`), id)
    assert.equal(blockIdOfFile('aes256', `${id}.raw`), undefined, 'a 2022 plaintext cache')
    assert.equal(blockIdOfFile('f58', `${id.slice(3)}.like.json`), undefined)
    assert.equal(blockIdOfFile('x', id.toUpperCase()), undefined)
  })
})

describe('backup and restore workers', () => {
  const work = scratch('workers')
  after(() => work.cleanup())
  /** Chunker parameters for pools fed small files. */
  const CHUNKS = { min: 4096, avg: 16384, max: 65536 }

  /** Large files (several chunks, ring wrap-around), many small ones (batched tasks), an empty one. */
  function makeTree(root: string): void {
    mkdirSync(join(root, 'big'), { recursive: true })
    writeFileSync(join(root, 'big/random.bin'), randomBytes(3 * 1024 * 1024 + 123))
    writeFileSync(join(root, 'big/text.txt'), 'the same line of text, again and again\n'.repeat(80_000))
    writeRandomFiles(root, 'small/', 150, 7, (index) => index * 37)
    writeFileSync(join(root, 'empty'), '')
  }

  it('back up the same snapshot whatever the ring size and worker count, and restore it byte for byte', async () => {
    const source = join(work.dir, 'source')
    makeTree(source)
    const pool = new CodecPool({ size: 2 })
    try {
      const store = memoryStore()
      // A ring of the minimum size makes the worker wait for the main thread and wrap around often.
      const tight = await backup(source, { store, pool, prior: null, inFlightBytes: 1, workers: 1 })
      const wide = await backup(source, { store: memoryStore(), pool, prior: null, workers: 2 })
      assert.equal(tight.url, wide.url)
      assert.equal(tight.files, 153)
      assert.equal(tight.bytesRead, tight.bytes)
      for (const workers of [1, 2]) {
        const target = join(work.dir, `restored-${workers}`)
        const restored = await restore(tight.url, target, { store, pool, workers, inFlightBytes: 1 << 20 })
        assert.equal(restored.written, 153)
        assert.deepEqual(restored.failed, [])
        assert.deepEqual(describeTree(target), describeTree(source))
      }
      // More files than the checking pass keeps: the writing pass reads the bundle again.
      const target = join(work.dir, 'restored-reread')
      const reread = await restore(tight.url, target, { store, pool, keptEntries: 10 })
      assert.equal(reread.written, 153)
      assert.deepEqual(describeTree(target), describeTree(source))
    } finally {
      await pool.close()
    }
  })

  it('a restore leaves out files whose blocks are missing, with no temporary left behind', async () => {
    const source = join(work.dir, 'source-missing')
    makeTree(source)
    const pool = new CodecPool({ size: 2 })
    try {
      const store = memoryStore()
      const { url } = await backup(source, { store, pool, prior: null })
      const gone = parseUrl((await findPart(store, url, 'big/random.bin')).url)
      assert.equal(gone.kind, 'content')
      store.blocks.delete(gone.id)
      const target = join(work.dir, 'restored-missing')
      const restored = await restore(url, target, { store, pool })
      assert.deepEqual(restored.missingBlocks, [gone.id])
      assert.deepEqual(
        restored.failed.map((failure) => failure.path),
        ['big/random.bin'],
      )
      assert.equal(restored.written, 152)
      assert.equal(existsSync(join(target, 'big/random.bin')), false)
      assert.deepEqual(readdirSync(join(target, 'big')), ['text.txt'])
    } finally {
      await pool.close()
    }
  })

  it('small files go to the workers many to a task, and the last ones without being flushed', async () => {
    const source = join(work.dir, 'source-small')
    const count = 600
    writeRandomFiles(source, '', count, 6, (index) => 100 + index)
    const pool = new IngestPool({ store: memoryStore(), params: CHUNKS, size: 2 })
    try {
      // As a backup feeds it: a bounded window of files in flight, the oldest awaited before the next is added.
      const window: Array<Promise<{ size: number }>> = []
      let bytes = 0
      for (let index = 0; index < count; index++) {
        window.push(pool.readFile(join(source, `${index % 6}/f${index}`), 100 + index))
        if (window.length > 64) bytes += (await window.shift()!).size
      }
      // No flush: a partial task goes to whichever worker runs out of work.
      for (const file of window) bytes += (await file).size
      assert.equal(bytes, count * 100 + (count * (count - 1)) / 2)
      // 32 files a task when full; a task per file would be 600.
      assert.ok(pool.tasks <= 60, `${pool.tasks} tasks for ${count} small files`)
    } finally {
      await pool.close()
    }
  })

  it('tells the store its block files were abandoned when the pool stops workers with tasks in hand, not when idle', async () => {
    const source = join(work.dir, 'source-abandon')
    mkdirSync(source, { recursive: true })
    writeFileSync(join(source, 'large.bin'), randomBytes(24 * 1024 * 1024))
    writeFileSync(join(source, 'small.bin'), randomBytes(4096))
    for (const [name, busy] of [
      ['stopped', true],
      ['idle', false],
    ] as const) {
      const repo = await openRepo(join(work.dir, `abandon-${name}-data`), { workers: 1 })
      const blockFiles = repo.store.blockFiles!
      let abandoned = 0
      const store = {
        ...repo.store,
        blockFiles: { target: blockFiles.target, adopt: blockFiles.adopt, abandon: () => abandoned++ },
      }
      const pool = new IngestPool({ store, params: CHUNKS, size: 1 })
      try {
        if (busy) {
          // Closed while the worker has 24 MiB to encode in hand.
          pool.readFile(join(source, 'large.bin'), 24 * 1024 * 1024).catch(() => {})
        } else {
          await pool.readFile(join(source, 'small.bin'), 4096)
          await pool.settle()
        }
      } finally {
        await pool.close()
        await repo.close()
      }
      assert.equal(abandoned, busy ? 1 : 0, name)
    }
  })

  it('records the block files of many tasks in few transactions, all of them before settle() resolves', async () => {
    const source = join(work.dir, 'source-records')
    const count = 300
    writeRandomFiles(source, '', count, 5, (index) => 200 + index)
    const repo = await openRepo(join(work.dir, 'records-data'), { workers: 1 })
    const blockFiles = repo.store.blockFiles!
    let transactions = 0
    const store = {
      ...repo.store,
      blockFiles: {
        target: blockFiles.target,
        adopt: (blocks: Parameters<typeof blockFiles.adopt>[0]) => {
          transactions++
          return blockFiles.adopt(blocks)
        },
        abandon: () => blockFiles.abandon(),
      },
    }
    const pool = new IngestPool({ store, params: CHUNKS, size: 2 })
    try {
      const files = await Promise.all(
        Array.from({ length: count }, (_, index) => pool.readFile(join(source, `${index % 5}/f${index}`), 200 + index)),
      )
      await pool.settle()
      assert.equal(pool.stats.blocks, count)
      assert.equal(pool.stats.newBlocks, count)
      assert.equal(repo.blockstore.stats().blocks, count)
      for (const file of files) assert.ok(repo.store.localFile?.(partTarget(file.parts[0]!.url).id) !== undefined)
      // A transaction per task would be one per 32 files at least.
      assert.ok(transactions < pool.tasks, `${transactions} transactions for ${pool.tasks} tasks`)
    } finally {
      await pool.close()
      await repo.close()
    }
  })

  it('records block files after a short delay without being asked to settle', async () => {
    const source = join(work.dir, 'source-delayed')
    writeRandomFiles(source, '', 20, 2, (index) => 300 + index)
    const repo = await openRepo(join(work.dir, 'delayed-data'), { workers: 1 })
    const pool = new IngestPool({ store: repo.store, params: CHUNKS, size: 1 })
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, index) => pool.readFile(join(source, `${index % 2}/f${index}`), 300)),
      )
      for (let waited = 0; waited < 40 && repo.blockstore.stats().blocks < 20; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      assert.equal(repo.blockstore.stats().blocks, 20)
    } finally {
      await pool.close()
      await repo.close()
    }
  })

  it('an unreadable file is an IngestFileError with the system call and code', async () => {
    const pool = new IngestPool({ store: memoryStore(), params: CHUNKS, size: 1 })
    try {
      await assert.rejects(pool.readFile(join(work.dir, 'no-such-file'), 0), (err: Error & { code?: string }) => {
        assert.equal(err.name, 'Error')
        assert.ok(err instanceof Error && err.constructor.name === 'IngestFileError')
        assert.equal(err.code, 'ENOENT')
        assert.equal((err as Error & { syscall?: string }).syscall, 'open')
        return true
      })
    } finally {
      await pool.close()
    }
  })
})

async function findPart(store: ReturnType<typeof memoryStore>, url: string, path: string) {
  const top = parseBundle(await loader(store)(url))
  for await (const entry of iterateBundleFiles(top, loader(store), { url })) {
    if (entry.path === path) return entry.file.parts[0]!
  }
  throw new Error(`no ${path} in ${url}`)
}

describe('typed errors of the engine', () => {
  const work = scratch('errors')
  after(() => work.cleanup())

  it('MissingBlocksError names the missing block', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const id = '5'.repeat(64)
      await assert.rejects(loadStored({ store: memoryStore(), pool }, id), (err: Error & { ids?: string[] }) => {
        assert.equal(err.name, 'MissingBlocksError')
        assert.deepEqual(err.ids, [id])
        return true
      })
    } finally {
      await pool.close()
    }
  })

  it('a store that fails mid-backup fails the backup promptly, with its error', async () => {
    const source = join(work.dir, 'many-small')
    writeRandomFiles(source, 'd', 400, 13, (index) => 200 + index)
    const store = memoryStore()
    const put = store.put
    let puts = 0
    store.put = async (id, bytes) => {
      if (++puts > 20) throw Object.assign(new Error('no space left on device'), { name: 'DiskFullError' })
      return put(id, bytes)
    }
    const pool = new CodecPool({ size: 2 })
    try {
      const started = performance.now()
      await assert.rejects(backup(source, { store, pool, prior: null }), { name: 'DiskFullError' })
      assert.ok(performance.now() - started < 20_000, 'no file left waiting forever in a batch never sent')
    } finally {
      await pool.close()
    }
  })

  it("pins what the bundle references, as reading it back would: sub-bundles, every part, the prior's reused parts", async () => {
    const source = join(work.dir, 'pinned-source')
    // Over one bundle block of entries (about 250 bytes each): sub-bundles. A multi-part file too.
    writeRandomFiles(source, 'a-directory-with-a-long-name-for-larger-entries-', 4500, 30, (index) => 10 + (index % 50))
    writeFileSync(join(source, 'large.bin'), randomBytes(3 * 1024 * 1024))
    const repo = await openRepo(join(work.dir, 'pinned-data'), { workers: 2 })
    try {
      const first = await backup(source, { store: repo.store, pool: repo.pool, prior: null })
      writeFileSync(join(source, 'a-directory-with-a-long-name-for-larger-entries-0/f0'), 'changed')
      const second = await backup(source, { store: repo.store, pool: repo.pool, prior: first.url })
      for (const url of [first.url, second.url]) {
        const top = parseBundle(await loadPlaintext({ store: repo.store, pool: repo.pool }, url))
        assert.ok((top.bundles?.length ?? 0) > 0, 'the test needs sub-bundles')
        const owner = `backup:${source}`
        const blocks = repo.blockstore.pins().filter((root) => root.url === url && root.owner === owner)
        assert.equal(blocks.length, 1)
        // Walking the bundle pins nothing the backup's own pin left out.
        const pinnedBefore = repo.blockstore.stats().pinnedBlocks
        const walked = await repo.blockstore.pin(url, `walk:${url}`)
        assert.equal(repo.blockstore.stats().pinnedBlocks, pinnedBefore)
        assert.ok(walked.blocks > 4500)
      }
    } finally {
      await repo.close()
    }
  })

  it('a local store on a full disk: the workers writing block files fail the backup promptly, the store stays sound', async () => {
    const source = join(work.dir, 'fills-the-disk')
    writeRandomFiles(source, 'd', 64, 5, () => 100_000)
    const data = join(work.dir, 'full-disk-data')
    mkdirSync(data)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', data])
    try {
      const repo = await openRepo(data, { workers: 2 })
      try {
        assert.ok(repo.store.blockFiles !== undefined, 'a local store takes block files from the workers')
        const started = performance.now()
        await assert.rejects(backup(source, { store: repo.store, pool: repo.pool, prior: null }), {
          name: 'DiskFullError',
        })
        assert.ok(performance.now() - started < 20_000, 'no file left waiting forever')
      } finally {
        // Must not fail on the full disk either (it would hide the DiskFullError).
        await repo.close()
      }
      // Space freed, the store is whole: every block verifies, no temp file is left.
      execFileSync('mount', ['-o', 'remount,size=64m', data])
      const again = await openRepo(data)
      try {
        const report = await again.verifyStore()
        assert.deepEqual(report.corrupt, [])
        assert.ok(report.checked > 0)
        assert.deepEqual(readdirSync(join(data, 'blocks', 'tmp')), [])
      } finally {
        await again.close()
      }
    } finally {
      execFileSync('umount', [data])
    }
  })

  it('NotADirectoryError for a backup of a file', async () => {
    const path = join(work.dir, 'plain.txt')
    writeFileSync(path, 'x')
    const pool = new CodecPool({ size: 1 })
    try {
      await assert.rejects(backup(path, { store: memoryStore(), pool }), { name: 'NotADirectoryError' })
    } finally {
      await pool.close()
    }
  })

  it('a restore worker that dies fails every file being written, including those waiting for budget', async () => {
    const store = memoryStore()
    const pool = new CodecPool({ size: 1 })
    const sink = new FileSink({
      writer: {
        context: { store, pool },
        // Less than the files need at once: some wait for budget the dead worker's messages hold.
        budget: new Semaphore(64 * 1024),
        fsync: false,
        verify: false,
        zeroParts: new Set(),
      },
      workerUrl: new URL('./fixtures/crashing-sink-worker.ts', import.meta.url),
    })
    try {
      const files: BundleFile[] = []
      for (let index = 0; index < 4; index++) {
        const parts = []
        for (let part = 0; part < 3; part++) {
          const block = encodeConvergent(randomBytes(32 * 1024))
          await store.put(block.id, block.bytes)
          parts.push({ url: contentUrl('convergent', block.id, block.key!), size: 32 * 1024 })
        }
        files.push({ size: 3 * 32 * 1024, mtime: 0, parts })
      }
      const writes = files.map((file, index) => sink.write(join(work.dir, `crashed-${index}`), file, true))
      const settled = await Promise.race([
        Promise.allSettled(writes),
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref()),
      ])
      assert.notEqual(settled, 'hung', 'writes still waiting 10 s after the worker died')
      for (const outcome of settled as PromiseSettledResult<unknown>[]) assert.equal(outcome.status, 'rejected')
    } finally {
      await sink.close()
      await pool.close()
    }
  })

  it('RestoreConflictError when a directory stands where a file goes', async () => {
    const path = join(work.dir, 'occupied')
    mkdirSync(path)
    const pool = new CodecPool({ size: 1 })
    try {
      await assert.rejects(
        writeRegularFile(path, file(1), {
          context: { store: memoryStore(), pool },
          budget: new Semaphore(1 << 20),
          fsync: false,
          verify: false,
          zeroParts: new Set(),
        }),
        { name: 'RestoreConflictError' },
      )
    } finally {
      await pool.close()
    }
  })
})
