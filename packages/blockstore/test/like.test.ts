import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { type BlockId, idToCid, likeScore } from '@libernet/core'
import fc from 'fast-check'
import { LibernetBlockstore } from '../src/index.ts'
import { queryLike } from '../src/like-index.ts'
import { MetadataDb } from '../src/metadata.ts'
import { makeTempDir, randomBlock } from './helpers.ts'

interface Match {
  id: BlockId
  size: number
  score: number
}

/** The definition: score every id, sort by score (desc) then id; the answer is a prefix of this ranking. */
function ranking(entries: Map<BlockId, number>, target: BlockId): Match[] {
  const targetBytes = Buffer.from(target, 'hex')
  return [...entries]
    .map(([id, size]) => ({ id, size, score: likeScore(targetBytes, idBytes(id)) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

function bruteForce(entries: Map<BlockId, number>, target: BlockId, limit: number, minScore = 0): Match[] {
  return ranking(entries, target)
    .filter((match) => match.score >= minScore)
    .slice(0, limit)
}

const bytesOfId = new Map<BlockId, Uint8Array>()
function idBytes(id: BlockId): Uint8Array {
  let bytes = bytesOfId.get(id)
  if (bytes === undefined) {
    bytes = Buffer.from(id, 'hex')
    bytesOfId.set(id, bytes)
  }
  return bytes
}

/** An id close to `id`: the first `bits` bits kept, the rest random. */
function near(id: BlockId, bits: number): BlockId {
  const bytes = Buffer.from(id, 'hex')
  const noise = randomBytes(32)
  for (let bit = bits; bit < 256; bit++) {
    const mask = 0x80 >> (bit % 8)
    bytes[bit >> 3] = (bytes[bit >> 3]! & ~mask) | (noise[bit >> 3]! & mask)
  }
  return bytes.toString('hex')
}

describe('like index', () => {
  it('returns the same top N as a brute-force scan on 10,000 random ids', async () => {
    await using dir = await makeTempDir('like')
    const store = await LibernetBlockstore.open({ path: dir.path, concurrency: 32 })
    const entries = new Map<BlockId, number>()
    const blocks = Array.from({ length: 10_000 }, (_, index) => randomBlock(16 + (index % 64)))
    for (const block of blocks) entries.set(block.id, block.bytes.byteLength)
    for await (const _ of store.putMany(blocks.map((block) => ({ cid: idToCid(block.id), bytes: block.bytes })))) {
      // drained
    }
    assert.equal(store.stats().blocks, 10_000)

    const stored = [...entries.keys()]
    const targets = [
      ...Array.from({ length: 20 }, () => randomBlock(8).id),
      ...stored.slice(0, 5),
      ...stored.slice(5, 25).map((id, index) => near(id, 4 + index)),
      '0'.repeat(64),
      'f'.repeat(64),
    ]
    for (const target of targets) {
      const expected = ranking(entries, target)
      for (const limit of [1, 5, 20, 100]) {
        assert.deepEqual(store.like(target, { limit }), expected.slice(0, limit), `${target} limit ${limit}`)
      }
      const strong = expected.filter((match) => match.score >= 12).slice(0, 50)
      assert.deepEqual(store.like(target, { limit: 50, minScore: 12 }), strong)
    }
    await store.close()
  })

  it('breaks ties by id exactly like the definition, even across the target (property)', async () => {
    await using dir = await makeTempDir('like-property')
    const db = new MetadataDb(join(dir.path, 'meta.sqlite'))
    // Few distinct leading bytes: many equal scores, so the N-th place is usually a tie.
    const idArbitrary = fc
      .tuple(
        fc.constantFrom(0x00, 0x3f, 0x40, 0x7f, 0x80, 0xc1, 0xff),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 30, maxLength: 30 }),
      )
      .map(([first, second, rest]) => Buffer.concat([Buffer.from([first, second << 5]), rest]).toString('hex'))
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(idArbitrary, { maxLength: 60 }),
          idArbitrary,
          fc.integer({ min: 1, max: 25 }),
          fc.integer({ min: 0, max: 12 }),
          async (ids, target, limit, minScore) => {
            db.db.exec('DELETE FROM blocks')
            const entries = new Map<BlockId, number>()
            ids.forEach((id, index) => {
              db.insertBlock(Buffer.from(id, 'hex'), index, 0, 0, 0)
              entries.set(id, index)
            })
            const result = queryLike(db, Buffer.from(target, 'hex'), limit, minScore).map((entry) => ({
              id: Buffer.from(entry.id).toString('hex'),
              size: entry.size,
              score: entry.score,
            }))
            assert.deepEqual(result, bruteForce(entries, target, limit, minScore))
          },
        ),
        { numRuns: 300 },
      )
    } finally {
      db.close()
    }
  })

  it('checks its arguments', async () => {
    await using dir = await makeTempDir('like-args')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const target = randomBlock().id
    assert.deepEqual(store.like(target), [])
    assert.deepEqual(store.like(target, { limit: 0 }), [])
    assert.throws(() => store.like(target, { limit: -1 }), RangeError)
    assert.throws(() => store.like(target, { limit: 10_001 }), RangeError)
    assert.throws(() => store.like(target, { minScore: 257 }), RangeError)
    assert.throws(
      () => store.like('xyz'),
      (err: Error) => err.name === 'InvalidIdError',
    )
    await store.close()
  })
})
