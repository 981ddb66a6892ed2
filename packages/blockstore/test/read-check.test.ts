import assert from 'node:assert/strict'
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import { type BlockId, idToCid } from '@libernet/core'
import { NextToLast } from 'blockstore-fs/sharding'
import fc from 'fast-check'
import { LibernetBlockstore } from '../src/index.ts'
import { makeTempDir, randomBlock } from './helpers.ts'

function blockFile(storePath: string, id: BlockId): string {
  const { dir, file } = new NextToLast().encode(idToCid(id))
  return join(storePath, 'blocks', dir, file)
}

async function rejectsWithName(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.equal(err.name, name)
    return true
  })
}

/** The recorded CRC of each block, read from a closed store's database. */
function recordedCrcs(storePath: string): Map<BlockId, number | null> {
  const db = new DatabaseSync(join(storePath, 'meta.sqlite'))
  try {
    const rows = db.prepare('SELECT id, crc FROM blocks').all()
    return new Map(
      rows.map((row) => [Buffer.from(row.id as Uint8Array).toString('hex'), row.crc === null ? null : Number(row.crc)]),
    )
  } finally {
    db.close()
  }
}

function sql(storePath: string, statements: string): void {
  const db = new DatabaseSync(join(storePath, 'meta.sqlite'))
  try {
    db.exec(statements)
  } finally {
    db.close()
  }
}

describe('read checks: CRC-32 recorded at put', () => {
  it('records the CRC-32 of the stored bytes with every put', async () => {
    await using dir = await makeTempDir('crc-recorded')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const blocks = [randomBlock(1), randomBlock(5000), randomBlock(70_000)]
    for (const block of blocks) await store.putBlock(block.id, block.bytes)
    await store.close()
    const crcs = recordedCrcs(dir.path)
    for (const block of blocks) assert.equal(crcs.get(block.id), crc32(block.bytes))
  })

  it('detects any single flipped bit, quarantines the file and never returns it (property)', async () => {
    await using dir = await makeTempDir('crc-bit')
    const store = await LibernetBlockstore.open({ path: dir.path })
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), fc.nat(), async (size, position) => {
          const block = randomBlock(size)
          await store.putBlock(block.id, block.bytes)
          const file = blockFile(dir.path, block.id)
          const bytes = await readFile(file)
          const bit = position % (size * 8)
          bytes[bit >> 3]! ^= 1 << (bit & 7)
          await writeFile(file, bytes)
          await rejectsWithName(store.getBlock(block.id), 'CorruptBlockError')
          assert.equal(store.hasBlock(block.id), false)
          await rejectsWithName(store.getBlock(block.id), 'NotFoundError')
        }),
        { numRuns: 40 },
      )
      assert.equal(store.stats().blocks, 0)
      assert.equal((await readdir(join(dir.path, 'quarantine'))).length, 40)
    } finally {
      await store.close()
    }
  })

  it('detects a file truncated by one byte, or grown by one', async () => {
    await using dir = await makeTempDir('crc-truncated')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const short = randomBlock(3000)
    const long = randomBlock(3000)
    await store.putBlock(short.id, short.bytes)
    await store.putBlock(long.id, long.bytes)
    await truncate(blockFile(dir.path, short.id), 2999)
    await writeFile(blockFile(dir.path, long.id), Buffer.concat([long.bytes, Buffer.from([0])]))
    await rejectsWithName(store.getBlock(short.id), 'CorruptBlockError')
    await rejectsWithName(store.getBlock(long.id), 'CorruptBlockError')
    assert.equal(store.stats().blocks, 0)
    await store.close()
  })

  it("detects a file replaced by another valid block's bytes, of the same size or not", async () => {
    await using dir = await makeTempDir('crc-swapped')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const a = randomBlock(4096)
    const b = randomBlock(4096)
    const c = randomBlock(1000)
    for (const block of [a, b, c]) await store.putBlock(block.id, block.bytes)
    // Each file now holds bytes that are a perfectly valid block, just not the one its name says.
    await writeFile(blockFile(dir.path, a.id), b.bytes)
    await writeFile(blockFile(dir.path, c.id), b.bytes)
    await rejectsWithName(store.getBlock(a.id), 'CorruptBlockError')
    await rejectsWithName(store.getBlock(c.id), 'CorruptBlockError')
    assert.deepEqual(await store.getBlock(b.id), b.bytes)
    assert.equal(store.stats().blocks, 1)
    await store.close()
  })

  it("returns a valid file whose row's CRC is wrong, and repairs the row", async () => {
    await using dir = await makeTempDir('crc-stale-row')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(2048)
    await store.putBlock(block.id, block.bytes)
    await store.close()
    sql(dir.path, 'UPDATE blocks SET crc = crc + 1')

    const again = await LibernetBlockstore.open({ path: dir.path })
    // The mismatch is judged by SHA-256: the bytes are the block, so they are served.
    assert.deepEqual(await again.getBlock(block.id), block.bytes)
    await again.close()
    assert.equal(recordedCrcs(dir.path).get(block.id), crc32(block.bytes))
  })

  it("full verification (verify: 'full', verify()) catches what the CRC cannot see", async () => {
    await using dir = await makeTempDir('crc-full')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(4096)
    const other = randomBlock(4096)
    await store.putBlock(block.id, block.bytes)
    await store.putBlock(other.id, other.bytes)
    await store.close()
    // Damage the file and make the row agree with it: a CRC collision, the one case a CRC check misses.
    const damaged = Buffer.from(block.bytes)
    damaged[100]! ^= 0xff
    await writeFile(blockFile(dir.path, block.id), damaged)
    sql(dir.path, `UPDATE blocks SET crc = ${crc32(damaged)} WHERE id = x'${block.id}'`)
    // Same again for `other`, for verify() to find.
    const damagedOther = Buffer.from(other.bytes)
    damagedOther[7]! ^= 0x01
    await writeFile(blockFile(dir.path, other.id), damagedOther)
    sql(dir.path, `UPDATE blocks SET crc = ${crc32(damagedOther)} WHERE id = x'${other.id}'`)

    const again = await LibernetBlockstore.open({ path: dir.path })
    await rejectsWithName(again.getBlock(block.id, { verify: 'full' }), 'CorruptBlockError')
    assert.equal(again.hasBlock(block.id), false)
    // The CRC alone cannot tell this one from the original; consumers hash end to end, and verify() does here.
    assert.deepEqual(await again.getBlock(other.id), new Uint8Array(damagedOther))
    const report = await again.verify()
    assert.deepEqual(report.corrupt, [other.id])
    assert.equal(again.stats().blocks, 0)
    await again.close()
  })

  it('refuses a verify option it does not know (TypeError)', async () => {
    await using dir = await makeTempDir('crc-option')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock()
    await store.putBlock(block.id, block.bytes)
    await rejectsWithName(store.getBlock(block.id, { verify: 'sha' as unknown as 'full' }), 'TypeError')
    await store.close()
  })
})

describe('read checks: metadata without CRCs', () => {
  it('migrates a version 1 database: rows without a CRC are checked in full once, then get one', async () => {
    await using dir = await makeTempDir('crc-migrate')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const read = randomBlock(3000)
    const unread = randomBlock(3000)
    const damaged = randomBlock(3000)
    for (const block of [read, unread, damaged]) await store.putBlock(block.id, block.bytes)
    await store.close()
    // What the previous version wrote: no crc column, user_version 1.
    sql(dir.path, 'ALTER TABLE blocks DROP COLUMN crc; PRAGMA user_version = 1')
    const file = blockFile(dir.path, damaged.id)
    const bytes = await readFile(file)
    bytes[2999]! ^= 0x80
    await writeFile(file, bytes)

    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'clean')
    assert.deepEqual(await again.getBlock(read.id), read.bytes)
    await rejectsWithName(again.getBlock(damaged.id), 'CorruptBlockError')
    await again.close()

    const db = new DatabaseSync(join(dir.path, 'meta.sqlite'))
    assert.equal(Object.values(db.prepare('PRAGMA user_version').get()!)[0], 2)
    db.close()
    const crcs = recordedCrcs(dir.path)
    assert.equal(crcs.get(read.id), crc32(read.bytes))
    assert.equal(crcs.get(unread.id), null)
    assert.equal(crcs.has(damaged.id), false)
  })

  it('rebuilds lost metadata with the CRC of every file that passes SHA-256', async () => {
    await using dir = await makeTempDir('crc-rebuild')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const good = randomBlock(2000)
    const bad = randomBlock(2000)
    await store.putBlock(good.id, good.bytes)
    await store.putBlock(bad.id, bad.bytes)
    await store.close()
    await rm(join(dir.path, 'meta.sqlite'))
    await writeFile(blockFile(dir.path, bad.id), Buffer.alloc(2000, 1))

    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'rebuilt')
    assert.deepEqual(again.recovery.quarantined, [bad.id])
    assert.deepEqual(await again.getBlock(good.id), good.bytes)
    await again.close()
    assert.deepEqual(recordedCrcs(dir.path), new Map([[good.id, crc32(good.bytes)]]))
  })
})
