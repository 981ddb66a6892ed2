import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { deflateSync } from 'node:zlib'
import { LibernetBlockstore } from '@libernet/blockstore'
import {
  type BlockId,
  contentUrl,
  decodePassphrase,
  likeScore,
  MAX_CHUNK_SIZE,
  mineLike,
  passphraseKey,
  sha256Hex,
} from '@libernet/core'
import fc from 'fast-check'
import {
  type BackupIndex,
  findBackups,
  type GetBlock,
  INDEX_VERSION,
  type LikeQuery,
  listSnapshots,
  MAX_AUTO_SCORE,
  MAX_MACHINES,
  mergeIndexes,
  minePassphraseBlock,
  parseIndex,
  recentMonths,
  rendezvousTarget,
  requiredScore,
  serializeIndex,
  validateIndex,
  writeIndex,
} from '../src/rendezvous/index.ts'

const NOW = new Date('2026-11-25T17:00:00.000Z')
const USER = 'alice'
const PASSPHRASE = 'correct horse battery staple'

function snapshotUrl(): string {
  return contentUrl('convergent', randomBytes(32).toString('hex'), randomBytes(32).toString('hex'))
}

function threadCount(): number {
  return readdirSync('/proc/self/task').length
}

/** A like-mined passphrase block holding `plaintext`, mined in this thread (a fixture, not the code under test). */
async function mineFixture(
  plaintext: Uint8Array,
  passphrase: string,
  target: BlockId,
): Promise<{ id: BlockId; bytes: Uint8Array }> {
  const block = await mineLike('passphrase', plaintext, target, { passphrase })
  return { id: block.id, bytes: block.bytes }
}

/** Entries sorted by key (plain `.sort()` would stringify them, and a folder may be called `toString`). */
function byKey<T>(object: Record<string, T>): [string, T][] {
  return Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function zlibJson(value: unknown): Uint8Array {
  return deflateSync(Buffer.from(JSON.stringify(value), 'utf8'))
}

function index(user: string, machines: BackupIndex['machines'], supersedes: string[] = []): BackupIndex {
  return { user, machines, supersedes, version: INDEX_VERSION }
}

/** A real blockstore in a temp dir standing in for the network's like answers and blocks. */
class StoreFixture {
  readonly dir: string
  store!: LibernetBlockstore

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'libernet-rendezvous-'))
  }

  async open(): Promise<this> {
    this.store = await LibernetBlockstore.open({ path: this.dir })
    return this
  }

  readonly like: LikeQuery = (target, { minScore, limit }) => this.store.like(target, { minScore, limit })

  readonly get: GetBlock = async (id) => (this.store.hasBlock(id) ? this.store.getBlock(id) : undefined)

  async put(block: { id: BlockId; bytes: Uint8Array }): Promise<void> {
    await this.store.putBlock(block.id, block.bytes)
  }

  async close(): Promise<void> {
    await this.store.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

describe('rendezvous target', () => {
  it('is sha256 of USER:{name}@{YYYY-MM}', () => {
    const expected = createHash('sha256').update('USER:alice@2026-03', 'utf8').digest('hex')
    assert.equal(rendezvousTarget('alice', { year: 2026, month: 3 }), expected)
    const unicode = createHash('sha256').update('USER:zoë@0999-12', 'utf8').digest('hex')
    assert.equal(rendezvousTarget('zoë', { year: 999, month: 12 }), unicode)
  })

  it('lists recent months newest first, across a year boundary (UTC)', () => {
    assert.deepEqual(recentMonths(new Date('2026-02-01T00:30:00Z'), 3), [
      { year: 2026, month: 2 },
      { year: 2026, month: 1 },
      { year: 2025, month: 12 },
    ])
    // Still January in UTC, although February in UTC+1.
    assert.deepEqual(recentMonths(new Date('2026-02-01T00:30:00+01:00'), 1), [{ year: 2026, month: 1 }])
  })

  it('refuses bad names, months and counts with InvalidArgumentError', () => {
    for (const call of [
      () => rendezvousTarget('', { year: 2026, month: 1 }),
      () => rendezvousTarget('x'.repeat(257), { year: 2026, month: 1 }),
      () => rendezvousTarget('\ud800', { year: 2026, month: 1 }),
      () => rendezvousTarget('alice', { year: 2026, month: 13 }),
      () => rendezvousTarget('alice', { year: 2026.5, month: 1 }),
      () => recentMonths(NOW, 0),
      () => recentMonths(NOW, 1.5),
      () => recentMonths(new Date(Number.NaN), 1),
    ]) {
      assert.throws(call, { name: 'InvalidArgumentError' })
    }
  })
})

describe('index format', () => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: names with control characters are invalid by design
  const name = fc.string({ minLength: 1, maxLength: 12 }).filter((text) => !/[\u0000-\u001f\u007f]/.test(text))
  const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'))
  const entry = fc.record(
    {
      url: fc
        .tuple(fc.constantFrom('convergent', 'passphrase') as fc.Arbitrary<'convergent' | 'passphrase'>, hex, hex)
        .map(([mode, id, key]) => contentUrl(mode, id, key)),
      time: fc
        .date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString()),
    },
    { noNullPrototype: true },
  )
  const arbitraryIndex = fc.record(
    {
      user: fc.string({ minLength: 1, maxLength: 20 }).filter((text) => text.isWellFormed()),
      machines: fc.dictionary(name, fc.dictionary(name, entry, { maxKeys: 4, noNullPrototype: true }), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
      supersedes: fc.array(
        fc.tuple(hex, hex).map(([id, key]) => contentUrl('passphrase', id, key)),
        { maxLength: 3 },
      ),
      version: fc.constant(INDEX_VERSION),
    },
    { noNullPrototype: true },
  )

  it('round-trips through serializeIndex and parseIndex', () => {
    fc.assert(
      fc.property(arbitraryIndex, (value) => {
        const parsed = parseIndex(serializeIndex(value))
        assert.equal(parsed.user, value.user)
        assert.deepEqual(parsed.supersedes, value.supersedes)
        assert.deepEqual(byKey(parsed.machines), byKey(value.machines))
      }),
      { numRuns: 200 },
    )
  })

  it('keeps a machine called __proto__ as a key', () => {
    const value = validateIndex(
      JSON.parse(
        `{"user":"a","version":1,"supersedes":[],"machines":{"__proto__":{"/x":${JSON.stringify({ url: snapshotUrl(), time: NOW.toISOString() })}}}}`,
      ),
    )
    assert.equal(Object.getPrototypeOf(value.machines), Object.prototype)
    assert.deepEqual(Object.keys(parseIndex(serializeIndex(value)).machines), ['__proto__'])
  })

  it('refuses hostile documents with InvalidIndexError', () => {
    const good = { url: snapshotUrl(), time: NOW.toISOString() }
    const base = { user: USER, version: 1, supersedes: [], machines: { m: { '/f': good } } }
    const hostile: unknown[] = [
      null,
      [],
      'index',
      { ...base, version: 2 },
      { ...base, version: '1' },
      { ...base, user: 7 },
      { ...base, user: '' },
      { ...base, extra: true },
      { ...base, machines: [] },
      { ...base, machines: { m: [] } },
      { ...base, machines: { m: { '/f': { ...good, url: 42 } } } },
      { ...base, machines: { m: { '/f': { ...good, url: `/sha256/like/${'a'.repeat(64)}` } } } },
      { ...base, machines: { m: { '/f': { ...good, url: `${good.url}/inside/a/bundle` } } } },
      { ...base, machines: { m: { '/f': { ...good, time: '2026-02-31T00:00:00Z' } } } },
      { ...base, machines: { m: { '/f': { ...good, time: 1_700_000_000 } } } },
      { ...base, machines: { m: { '/f': { ...good, extra: 1 } } } },
      { ...base, machines: { 'bad\nname': { '/f': good } } },
      { ...base, machines: { '': { '/f': good } } },
      { ...base, machines: { m: { ['x'.repeat(4097)]: good } } },
      { ...base, supersedes: [good.url] },
      { ...base, supersedes: 'none' },
      { ...base, machines: Object.fromEntries(Array.from({ length: MAX_MACHINES + 1 }, (_, i) => [`m${i}`, {}])) },
    ]
    for (const value of hostile) {
      assert.throws(
        () => parseIndex(zlibJson(value)),
        { name: 'InvalidIndexError' },
        JSON.stringify(value)?.slice(0, 200),
      )
    }
  })

  it('refuses bytes that are not a bounded zlib JSON document', () => {
    assert.throws(() => parseIndex(Buffer.from('not zlib')), { name: 'InvalidIndexError' })
    // A zlib bomb: 8 MiB of spaces inflate past the 1 MiB bound.
    assert.throws(() => parseIndex(deflateSync(Buffer.alloc(8 << 20, 0x20))), { name: 'InvalidIndexError' })
    assert.throws(() => parseIndex(deflateSync(Buffer.from('{"user":"a","user":"b"}'))), { name: 'InvalidIndexError' })
    assert.throws(() => parseIndex(deflateSync(Buffer.from('[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]'))), {
      name: 'InvalidIndexError',
    })
  })

  it('refuses to serialize an index that does not fit in a block (BundleTooLargeError)', () => {
    // Random folder names do not compress: 1000 × 1000 B is past the block limit.
    const folders = Object.fromEntries(
      Array.from({ length: 1000 }, () => [
        randomBytes(500).toString('hex'),
        { url: snapshotUrl(), time: NOW.toISOString() },
      ]),
    )
    assert.ok(JSON.stringify(folders).length > MAX_CHUNK_SIZE)
    assert.throws(() => serializeIndex(index(USER, { m: folders })), { name: 'BundleTooLargeError' })
    assert.throws(() => serializeIndex(index(USER, { m: { '': { url: snapshotUrl(), time: NOW.toISOString() } } })), {
      name: 'InvalidIndexError',
    })
  })

  it('merges by time per machine and folder', () => {
    const [a, b, c] = [snapshotUrl(), snapshotUrl(), snapshotUrl()]
    const older = index(USER, {
      laptop: { '/home/a/docs': { url: a, time: '2026-11-01T00:00:00.000Z' } },
      desk: { '/srv': { url: c, time: '2026-10-01T00:00:00Z' } },
    })
    const newer = index(USER, { laptop: { '/home/a/docs': { url: b, time: '2026-11-02T00:00:00.000Z' } } })
    const expected = {
      desk: { '/srv': { url: c, time: '2026-10-01T00:00:00Z' } },
      laptop: { '/home/a/docs': { url: b, time: '2026-11-02T00:00:00.000Z' } },
    }
    assert.deepEqual(mergeIndexes([older, newer]), expected)
    assert.deepEqual(mergeIndexes([newer, older]), expected)
    assert.deepEqual(mergeIndexes([]), {})
    assert.deepEqual(
      listSnapshots(expected).map(({ machine, folder }) => [machine, folder]),
      [
        ['laptop', '/home/a/docs'],
        ['desk', '/srv'],
      ],
    )
    assert.deepEqual(listSnapshots(expected, { machine: 'desk' }), [
      { machine: 'desk', folder: '/srv', url: c, time: '2026-10-01T00:00:00Z' },
    ])
    assert.deepEqual(listSnapshots(expected, { machine: 'constructor' }), [])
    assert.deepEqual(listSnapshots(expected, { folder: '/nowhere' }), [])
  })
})

describe('mining', () => {
  it('mines a passphrase block with score >= 12 that decodes with the passphrase, reporting progress', async () => {
    const target = rendezvousTarget(USER, { year: 2026, month: 11 })
    const plaintext = serializeIndex(index(USER, { m: { '/f': { url: snapshotUrl(), time: NOW.toISOString() } } }))
    const reports: number[] = []
    const block = await minePassphraseBlock(plaintext, PASSPHRASE, target, {
      onProgress: (progress) => {
        assert.ok(progress.rate >= 0 && progress.elapsedMs >= 0)
        reports.push(progress.attempts)
      },
      progressInterval: 0,
    })
    assert.ok(block.score >= 12)
    assert.equal(likeScore(block.id, target), block.score)
    assert.equal(sha256Hex(block.bytes), block.id)
    assert.equal(block.url, contentUrl('passphrase', block.id, passphraseKey(PASSPHRASE)))
    assert.deepEqual(decodePassphrase(block.bytes, block.key, { id: block.id, mined: true }), plaintext)
    assert.ok(reports.length >= 1)
    assert.equal(reports.at(-1), block.attempts)
    assert.deepEqual(
      reports,
      [...reports].sort((x, y) => x - y),
    )
  })

  it('reaches a higher score when asked', async () => {
    const target = randomBytes(32).toString('hex')
    const block = await minePassphraseBlock(new Uint8Array([1, 2, 3]), PASSPHRASE, target, { minScore: 14, threads: 2 })
    assert.ok(likeScore(block.id, target) >= 14)
  })

  it('requires one more than the weakest entry once the like answer is full', () => {
    assert.equal(requiredScore([]), 12)
    assert.equal(requiredScore(Array.from({ length: 99 }, () => ({ score: 20 }))), 12)
    assert.equal(requiredScore(Array.from({ length: 100 }, (_, i) => ({ score: 13 + (i % 3) }))), 14)
    assert.equal(requiredScore(Array.from({ length: 100 }, () => ({ score: 5 }))), 12)
  })

  it('stops every worker promptly when aborted, and leaves no threads', async () => {
    // Warm up: the first worker of the process loads the module graph and may start helper threads.
    await minePassphraseBlock(new Uint8Array(1), PASSPHRASE, randomBytes(32).toString('hex'), {
      minScore: 1,
      threads: 1,
    })
    const baseline = threadCount()
    const controller = new AbortController()
    let progressed = 0
    const mining = minePassphraseBlock(new Uint8Array(16), PASSPHRASE, randomBytes(32).toString('hex'), {
      minScore: 64,
      threads: 2,
      signal: controller.signal,
      onProgress: (progress) => {
        progressed = progress.attempts
      },
      progressInterval: 0,
    })
    const started = Date.now()
    while (progressed === 0 && Date.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(progressed > 0, 'workers reported progress')
    assert.ok(threadCount() >= baseline + 2, 'two worker threads while mining')
    const aborted = Date.now()
    controller.abort()
    await assert.rejects(mining, { name: 'AbortError' })
    assert.ok(Date.now() - aborted < 2000, `stopped in ${Date.now() - aborted} ms`)
    const settle = Date.now()
    while (threadCount() > baseline && Date.now() - settle < 2000)
      await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(threadCount(), baseline)
  })

  it('refuses an already aborted signal before starting any thread', async () => {
    const before = threadCount()
    await assert.rejects(
      minePassphraseBlock(new Uint8Array(1), PASSPHRASE, randomBytes(32).toString('hex'), {
        signal: AbortSignal.abort(),
      }),
      { name: 'AbortError' },
    )
    assert.equal(threadCount(), before)
  })

  it('gives up after maxAttempts with MaxAttemptsExceededError', async () => {
    await assert.rejects(
      minePassphraseBlock(new Uint8Array(1), PASSPHRASE, randomBytes(32).toString('hex'), {
        minScore: 80,
        threads: 2,
        maxAttempts: 2000,
      }),
      (err: Error & { attempts?: number }) => {
        assert.equal(err.name, 'MaxAttemptsExceededError')
        assert.equal(err.attempts, 2000)
        return true
      },
    )
  })

  it('refuses bad options', async () => {
    const target = randomBytes(32).toString('hex')
    await assert.rejects(minePassphraseBlock(new Uint8Array(1), PASSPHRASE, 'nope'), { name: 'InvalidIdError' })
    await assert.rejects(minePassphraseBlock(new Uint8Array(1), PASSPHRASE, target, { threads: 0 }), RangeError)
    await assert.rejects(minePassphraseBlock(new Uint8Array(1), PASSPHRASE, target, { minScore: 257 }), RangeError)
    await assert.rejects(minePassphraseBlock(new Uint8Array(MAX_CHUNK_SIZE), PASSPHRASE, target), {
      name: 'BlockTooLargeError',
    })
  })
})

describe('finding backups in a store', () => {
  let fixture: StoreFixture

  before(async () => {
    fixture = await new StoreFixture().open()
    // Unrelated blocks around: the like answer holds more than the index.
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(64)
      await fixture.store.putBlock(sha256Hex(bytes), bytes)
    }
  })

  after(async () => {
    await fixture?.close()
  })

  const common = () => ({ user: USER, passphrase: PASSPHRASE, like: fixture.like, get: fixture.get, now: NOW })

  it('finds nothing before any index exists', async () => {
    assert.deepEqual(await findBackups(common()), { machines: {}, indexes: [] })
  })

  it('writes indexes that list every machine, and finds them with the passphrase', async () => {
    const laptopDocs = { url: snapshotUrl(), time: '2026-11-20T10:00:00.000Z' }
    const first = await writeIndex({ ...common(), machine: 'laptop', folder: '/home/alice/docs', snapshot: laptopDocs })
    assert.ok(first.score >= 12)
    assert.equal(first.target, rendezvousTarget(USER, { year: 2026, month: 11 }))
    assert.ok(likeScore(first.id, first.target) >= 12)
    assert.deepEqual(first.index.supersedes, [])
    await fixture.put(first)

    const deskSrv = { url: snapshotUrl(), time: new Date('2026-11-21T08:00:00.000Z') }
    const second = await writeIndex({ ...common(), machine: 'desk', folder: '/srv', snapshot: deskSrv })
    assert.deepEqual(second.index.supersedes, [first.url])
    assert.deepEqual(Object.keys(second.index.machines), ['desk', 'laptop'])
    await fixture.put(second)

    const found = await findBackups(common())
    assert.deepEqual(found.machines, {
      desk: { '/srv': { url: deskSrv.url, time: '2026-11-21T08:00:00.000Z' } },
      laptop: { '/home/alice/docs': laptopDocs },
    })
    assert.deepEqual(found.indexes.map((entry) => entry.url).sort(), [first.url, second.url].sort())
    assert.ok(found.indexes.every((entry) => entry.index.user === USER && entry.month.month === 11))
  })

  it('merges indexes two machines wrote without seeing each other, by time', async () => {
    const isolated = await new StoreFixture().open()
    try {
      const folder = '/home/alice/shared'
      const older = { url: snapshotUrl(), time: '2026-11-22T00:00:00.000Z' }
      const newer = { url: snapshotUrl(), time: '2026-11-23T00:00:00.000Z' }
      const alone = { user: USER, passphrase: PASSPHRASE, like: isolated.like, get: isolated.get, now: NOW }
      // Each written against an empty view, as on two machines that were offline.
      const fromB = await writeIndex({ ...alone, machine: 'b', folder, snapshot: newer, threads: 1 })
      const fromA = await writeIndex({ ...alone, machine: 'a', folder, snapshot: older, threads: 1 })
      await fixture.put(fromA)
      await fixture.put(fromB)
      const found = await findBackups(common())
      assert.deepEqual(found.machines.a?.[folder], older)
      assert.deepEqual(found.machines.b?.[folder], newer)
      assert.ok(found.machines.laptop !== undefined, 'earlier indexes still merged')
    } finally {
      await isolated.close()
    }
  })

  it('finds nothing with a wrong passphrase', async () => {
    const found = await findBackups({ ...common(), passphrase: 'Correct horse battery staple' })
    assert.deepEqual(found, { machines: {}, indexes: [] })
  })

  it('never returns another user’s index, even one mined toward this user’s target with this passphrase', async () => {
    const target = rendezvousTarget(USER, { year: 2026, month: 11 })
    const mallory = index('mallory', { evil: { '/': { url: snapshotUrl(), time: '2030-01-01T00:00:00.000Z' } } })
    await fixture.put(await mineFixture(serializeIndex(mallory), PASSPHRASE, target))
    const bob = index('bob', { bobs: { '/b': { url: snapshotUrl(), time: '2026-11-24T00:00:00.000Z' } } })
    await fixture.put(await mineFixture(serializeIndex(bob), 'bob’s passphrase', target))
    // Names that differ only by case or spacing are other users.
    const alike = index('Alice', { alike: { '/': { url: snapshotUrl(), time: '2030-01-01T00:00:00.000Z' } } })
    await fixture.put(await mineFixture(serializeIndex(alike), PASSPHRASE, target))

    const found = await findBackups(common())
    assert.deepEqual(Object.keys(found.machines).sort(), ['a', 'b', 'desk', 'laptop'])
    assert.ok(found.indexes.every((entry) => entry.index.user === USER))
    // Bob, with his own passphrase, sees only his own.
    const bobs = await findBackups({ ...common(), user: 'bob', passphrase: 'bob’s passphrase' })
    assert.deepEqual(bobs.machines, {})
  })

  it('skips hostile candidates that decrypt with the passphrase', async () => {
    const target = rendezvousTarget(USER, { year: 2026, month: 11 })
    const hostile = [
      zlibJson({ user: USER, version: 1, supersedes: [], machines: { m: { '/f': { url: 1, time: 2 } } } }),
      zlibJson({ user: USER, version: 1, supersedes: [], machines: 'all of them' }),
      zlibJson({ user: [USER], version: 1, supersedes: [], machines: {} }),
      deflateSync(Buffer.alloc(4 << 20, 0x7b)),
      Buffer.from('{"user":"alice"} not compressed'),
      new Uint8Array(0),
    ]
    for (const plaintext of hostile) await fixture.put(await mineFixture(plaintext, PASSPHRASE, target))
    const before = fixture.store.like(target, { minScore: 12, limit: 100 }).length
    assert.ok(before >= 10)
    const found = await findBackups(common())
    assert.deepEqual(Object.keys(found.machines).sort(), ['a', 'b', 'desk', 'laptop'])
    assert.equal(found.indexes.length, 4)
  })

  it('looks back the configured number of months', async () => {
    const isolated = await new StoreFixture().open()
    try {
      const march = new Date('2026-03-15T12:00:00Z')
      const base = { user: USER, passphrase: PASSPHRASE, like: isolated.like, get: isolated.get }
      const written = await writeIndex({
        ...base,
        now: march,
        machine: 'old',
        folder: '/old',
        snapshot: { url: snapshotUrl(), time: march },
        threads: 1,
      })
      await isolated.put(written)
      assert.equal(written.target, rendezvousTarget(USER, { year: 2026, month: 3 }))
      assert.deepEqual((await findBackups({ ...base, now: NOW, months: 8 })).machines, {})
      const found = await findBackups({ ...base, now: NOW, months: 9 })
      assert.deepEqual(Object.keys(found.machines), ['old'])
      assert.deepEqual(found.indexes[0]?.month, { year: 2026, month: 3 })
    } finally {
      await isolated.close()
    }
  })

  it('does not fetch what a hostile like answer makes up', async () => {
    const asked: string[] = []
    const target = rendezvousTarget(USER, { year: 2026, month: 11 })
    // What the store itself answers, over the 12 months looked at (a random block may be near another month's target).
    const real = recentMonths(NOW, 12).flatMap((month) =>
      fixture.store.like(rendezvousTarget(USER, month), { minScore: 12, limit: 100 }),
    )
    const far = target.replace(/^./, (digit) => (Number.parseInt(digit, 16) ^ 8).toString(16))
    const like: LikeQuery = (id, options) =>
      id === target
        ? [
            { id: 'not an id', size: 100, score: 256 },
            { id: far, size: 100, score: 256 },
            { id: sha256Hex(randomBytes(8)).replace(/^.{4}/, target.slice(0, 4)), size: 2_000_000, score: 16 },
            ...fixture.store.like(id, options),
          ]
        : fixture.store.like(id, options)
    const get: GetBlock = async (id, options) => {
      asked.push(id)
      return fixture.get(id, options)
    }
    const found = await findBackups({ ...common(), like, get })
    assert.deepEqual(asked.sort(), real.map((match) => match.id).sort())
    assert.equal(found.indexes.length, 4)
  })

  it('stops mining when the progress callback throws', async () => {
    await assert.rejects(
      minePassphraseBlock(new Uint8Array(1), PASSPHRASE, randomBytes(32).toString('hex'), {
        minScore: 64,
        threads: 1,
        progressInterval: 0,
        onProgress: () => {
          throw new Error('display gone')
        },
      }),
      { message: 'display gone' },
    )
  })

  it('takes the score to beat from the ids of the like answer, not from what it claims, and caps it', async () => {
    const target = rendezvousTarget(USER, { year: 2026, month: 11 })
    const snapshot = { url: snapshotUrl(), time: NOW }
    const liar: LikeQuery = (id, options) =>
      id === target
        ? Array.from({ length: 100 }, () => ({ id: sha256Hex(randomBytes(8)), size: 100, score: 250 }))
        : fixture.store.like(id, options)
    const written = await writeIndex({ ...common(), like: liar, machine: 'm', folder: '/f', snapshot, threads: 1 })
    assert.ok(written.score >= 12 && written.score < 40)

    const crowded: LikeQuery = (id, options) =>
      id === target
        ? Array.from({ length: 100 }, () => ({ id: target, size: 100, score: 256 }))
        : fixture.store.like(id, options)
    await assert.rejects(
      writeIndex({ ...common(), like: crowded, machine: 'm', folder: '/f', snapshot, threads: 1, maxAttempts: 1000 }),
      (err: Error) =>
        err.name === 'MaxAttemptsExceededError' && err.message.includes(`no id with ${MAX_AUTO_SCORE} leading bits`),
    )
  })

  it('skips candidates nobody can deliver, and refuses bad arguments', async () => {
    const found = await findBackups({ ...common(), get: async () => undefined })
    assert.deepEqual(found, { machines: {}, indexes: [] })
    await assert.rejects(findBackups({ ...common(), user: '' }), { name: 'InvalidArgumentError' })
    await assert.rejects(findBackups({ ...common(), passphrase: '' }), { name: 'InvalidArgumentError' })
    await assert.rejects(findBackups({ ...common(), months: 0 }), { name: 'InvalidArgumentError' })
    await assert.rejects(findBackups({ ...common(), signal: AbortSignal.abort() }), { name: 'AbortError' })
    await assert.rejects(
      writeIndex({ ...common(), machine: 'm', folder: '/f', snapshot: { url: snapshotUrl(), time: 'yesterday' } }),
      { name: 'InvalidArgumentError' },
    )
    await assert.rejects(
      writeIndex({ ...common(), machine: 'bad\u0000name', folder: '/f', snapshot: { url: snapshotUrl(), time: NOW } }),
      { name: 'InvalidIndexError' },
    )
  })
})
