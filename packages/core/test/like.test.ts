import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type BlockMode,
  decodeBlock,
  decodeConvergent,
  decodePassphrase,
  decodePlain,
  isValidStoredBlock,
  passphraseKey,
} from '../src/codec/index.ts'
import { DEFAULT_LIKE_SCORE, MAX_CHUNK_SIZE } from '../src/constants.ts'
import { MaxAttemptsExceededError } from '../src/errors.ts'
import { likeScore, likeSuffixLength, type MinedBlock, mineLike } from '../src/like.ts'
import { loadManifest, readVectorBlock } from './fixtures/vectors.ts'

const PASSPHRASE = 'correct horse battery staple'
const TARGET = createHash('sha256').update('USER:alice@2024-03').digest('hex')

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function assertRejectsWith(promise: Promise<unknown>, name: string): Promise<Error> {
  let caught: Error | undefined
  await assert.rejects(promise, (err: Error) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
    caught = err
    return true
  })
  return caught!
}

/** Reference score: compare the ids as bit strings. */
function bitStringScore(a: string, b: string): number {
  const bits = (id: string) => [...Buffer.from(id, 'hex')].map((byte) => byte.toString(2).padStart(8, '0')).join('')
  const x = bits(a)
  const y = bits(b)
  let score = 0
  while (score < 256 && x[score] === y[score]) score++
  return score
}

describe('likeScore', () => {
  it('counts equal leading bits', () => {
    const id = 'f586d7e49db373b8e503b4aaa01809b33e2d08261bc405ac8630bbdb7b8182fd'
    assert.equal(likeScore(id, id), 256)
    assert.equal(likeScore(`0${id.slice(1)}`, `8${id.slice(1)}`), 0)
    assert.equal(likeScore(`${'0'.repeat(63)}0`, `${'0'.repeat(63)}1`), 255)
    assert.equal(likeScore(id, 'f583ef9907238b76e07aeaf9d4534d8aaa6fb70b7cfdf06979cc1b6c41b65c1d'), 13)
    assert.equal(likeScore(Buffer.from(id, 'hex'), id), 256)
  })

  it('agrees with a bit-string comparison and is symmetric (property)', () => {
    const id = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'))
    const pair = fc.oneof(
      fc.tuple(id, id),
      // ids sharing a prefix of random length, to reach every score
      fc.tuple(id, fc.integer({ min: 0, max: 256 })).map(([a, bits]) => {
        const b = Buffer.from(a, 'hex')
        if (bits < 256) b[bits >> 3]! ^= 0x80 >> (bits & 7)
        return [a, b.toString('hex')] as [string, string]
      }),
    )
    fc.assert(
      fc.property(pair, ([a, b]) => {
        assert.equal(likeScore(a, b), bitStringScore(a, b))
        assert.equal(likeScore(b, a), likeScore(a, b))
      }),
      { numRuns: 300 },
    )
  })

  it('refuses what is not an id', () => {
    const id = sha256Hex(new Uint8Array())
    for (const bad of ['', 'abc', id.toUpperCase(), `${id}00`]) {
      assert.throws(() => likeScore(bad, id), { name: 'InvalidIdError' })
    }
    assert.throws(() => likeScore(new Uint8Array(31), id), { name: 'InvalidIdError' })
  })
})

describe('like-mined vectors (head)', () => {
  const manifest = loadManifest('head')
  const likeCases = manifest.cases.filter((entry) => entry.mode?.startsWith('like-') === true)

  it('holds the three like-mined cases', () => {
    assert.deepEqual(likeCases.map((entry) => entry.mode).sort(), ['like-convergent', 'like-passphrase', 'like-plain'])
    assert.ok(likeCases.every((entry) => entry.like?.similar === TARGET && entry.like.min_score === DEFAULT_LIKE_SCORE))
  })

  for (const vector of likeCases) {
    it(`decodes ${vector.name} to its input and scores it`, () => {
      const [, id, key] = /^\/sha256\/([0-9a-f]{64})(?:\/\w+\/([0-9a-f]{64}))?$/.exec(vector.parts![0]!.url)!
      const stored = Uint8Array.from(readVectorBlock('head', id!))
      const mode = vector.mode!.slice('like-'.length) as BlockMode
      const expected = Buffer.from(vector.input_hex!, 'hex')
      assert.deepEqual(Buffer.from(decodeBlock(mode, stored, id!, key, { mined: true })), expected)
      if (mode !== 'plain') assert.deepEqual(Buffer.from(decodeBlock(mode, stored, id!, key)), expected)
      if (mode === 'passphrase') assert.equal(key, passphraseKey(vector.passphrase!))
      assert.ok(isValidStoredBlock(id!, stored))
      const score = likeScore(id!, vector.like!.similar)
      assert.equal(score, vector.like!.score)
      assert.ok(score >= vector.like!.min_score)
    })
  }
})

describe('mineLike', () => {
  const settings = Buffer.from(JSON.stringify({ note: 'backup settings', paths: ['/home/alice'], every: 3600 }))

  function assertMined(block: MinedBlock, minScore: number): void {
    assert.ok(block.score >= minScore)
    assert.equal(likeScore(block.id, TARGET), block.score)
    assert.ok(block.attempts >= 1)
    assert.ok(isValidStoredBlock(block.id, block.bytes))
  }

  it('mines convergent blocks that decode with and without the mined flag', async () => {
    const block = await mineLike('convergent', settings, TARGET)
    assertMined(block, DEFAULT_LIKE_SCORE)
    assert.equal(block.key, sha256Hex(settings))
    assert.equal(block.size, settings.byteLength)
    assert.equal(block.id, sha256Hex(block.bytes))
    // the suffix: 0x00 then non-zero bytes, after whole AES blocks
    const suffixLength = likeSuffixLength(DEFAULT_LIKE_SCORE)
    const suffix = block.bytes.subarray(block.bytes.byteLength - suffixLength)
    assert.equal(suffix[0], 0)
    assert.ok(suffix.subarray(1).every((byte) => byte !== 0))
    assert.equal((block.bytes.byteLength - suffixLength) % 16, 0)
    assert.deepEqual(
      decodeConvergent(block.bytes, block.key!, { id: block.id, mined: true }),
      Uint8Array.from(settings),
    )
    assert.deepEqual(decodeConvergent(block.bytes, block.key!, { id: block.id }), Uint8Array.from(settings))
  })

  it('mines passphrase blocks that decode with and without the mined flag', async () => {
    const block = await mineLike('passphrase', settings, TARGET, { passphrase: PASSPHRASE, minScore: 10 })
    assertMined(block, 10)
    assert.equal(block.key, passphraseKey(PASSPHRASE))
    assert.deepEqual(
      decodePassphrase(block.bytes, block.key!, { id: block.id, mined: true }),
      Uint8Array.from(settings),
    )
    assert.deepEqual(decodePassphrase(block.bytes, block.key!, { id: block.id }), Uint8Array.from(settings))
    const withKey = await mineLike('passphrase', settings, TARGET, {
      passphrase: Buffer.from(block.key!, 'hex'),
      minScore: 4,
    })
    assert.deepEqual(decodeBlock('passphrase', withKey.bytes, withKey.id, block.key), Uint8Array.from(settings))
  })

  it('mines plain blocks named by their content plus suffix', async () => {
    const block = await mineLike('plain', settings, TARGET, { minScore: 10 })
    assertMined(block, 10)
    assert.equal(block.key, undefined)
    const content = decodePlain(block.bytes, block.id)
    assert.equal(sha256Hex(content), block.id)
    assert.deepEqual(content.subarray(0, settings.byteLength), Uint8Array.from(settings))
    assert.deepEqual(decodePlain(block.bytes, block.id, { mined: true }), Uint8Array.from(settings))
  })

  it('round-trips arbitrary content in every mode (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<BlockMode>('convergent', 'passphrase', 'plain'),
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 0, max: 8 }),
        async (mode, plaintext, minScore) => {
          const block = await mineLike(mode, plaintext, TARGET, { minScore, passphrase: PASSPHRASE })
          assertMined(block, minScore)
          assert.deepEqual(decodeBlock(mode, block.bytes, block.id, block.key, { mined: true }), plaintext)
          if (mode !== 'plain') assert.deepEqual(decodeBlock(mode, block.bytes, block.id, block.key), plaintext)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('reports progress and yields to the event loop', async () => {
    const reports: number[] = []
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    try {
      const error = await assertRejectsWith(
        mineLike('convergent', settings, TARGET, {
          minScore: 200,
          maxAttempts: 20_000,
          onProgress: (n) => reports.push(n),
        }),
        'MaxAttemptsExceededError',
      )
      assert.ok(error instanceof MaxAttemptsExceededError)
      assert.equal(error.attempts, 20_000)
      assert.ok(error.bestScore >= 1 && error.bestScore < 200)
      assert.equal(error.code, 'ERR_MAX_ATTEMPTS_EXCEEDED')
    } finally {
      clearInterval(timer)
    }
    assert.ok(reports.length >= 4, `progress reported ${reports.length} times`)
    assert.ok(reports.every((count, index) => index === 0 || count > reports[index - 1]!))
    assert.equal(reports.at(-1), 20_000)
    assert.ok(ticks >= 2, 'timers ran while mining')
  })

  it('stops on abort with an AbortError', async () => {
    const before = new AbortController()
    before.abort()
    await assertRejectsWith(mineLike('plain', settings, TARGET, { signal: before.signal }), 'AbortError')

    const during = new AbortController()
    let reports = 0
    await assertRejectsWith(
      mineLike('convergent', settings, TARGET, {
        minScore: 200,
        signal: during.signal,
        onProgress: () => {
          if (++reports === 2) during.abort()
        },
      }),
      'AbortError',
    )
    assert.equal(reports, 2)
  })

  it('refuses bad requests with typed errors', async () => {
    await assertRejectsWith(mineLike('passphrase', settings, TARGET), 'InvalidKeyError')
    await assertRejectsWith(mineLike('convergent', settings, 'not an id'), 'InvalidIdError')
    // a mined encrypted block must still fit in 1 MiB
    const full = new Uint8Array(MAX_CHUNK_SIZE)
    await assertRejectsWith(mineLike('passphrase', full, TARGET, { passphrase: PASSPHRASE }), 'BlockTooLargeError')
    await assert.rejects(mineLike('convergent', settings, TARGET, { minScore: 257 }), RangeError)
    await assert.rejects(mineLike('convergent', settings, TARGET, { maxAttempts: 0 }), RangeError)
    await assert.rejects(mineLike('convergent', settings, TARGET, { level: 12 }), RangeError)
  })
})
