import assert from 'node:assert/strict'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { type BlockId, idToCid } from '@libernet/core'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { LibernetBlockstore } from '../src/index.ts'
import { makeTempDir, randomBlock, type TestBlock } from './helpers.ts'

function blockFile(storePath: string, id: BlockId): string {
  const { dir, file } = new NextToLast().encode(idToCid(id))
  return join(storePath, 'blocks', dir, file)
}

async function corrupt(storePath: string, id: BlockId): Promise<void> {
  const file = blockFile(storePath, id)
  const bytes = await readFile(file)
  bytes[0]! ^= 0xff
  await writeFile(file, bytes)
}

async function fill(store: LibernetBlockstore, count: number): Promise<TestBlock[]> {
  const blocks = Array.from({ length: count }, (_, index) => randomBlock(500 + index))
  for (const block of blocks) await store.putBlock(block.id, block.bytes)
  return blocks
}

describe('recovery', () => {
  it('rebuilds metadata that is not a database, setting the damaged file aside', async () => {
    await using dir = await makeTempDir('garbage-db')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const blocks = await fill(store, 12)
    await store.close()
    await corrupt(dir.path, blocks[3]!.id)
    await writeFile(join(dir.path, 'meta.sqlite'), Buffer.alloc(8192, 0x5a))

    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'rebuilt')
    assert.match(again.recovery.reason ?? '', /metadata unreadable/)
    assert.equal(again.recovery.added, 11)
    assert.deepEqual(again.recovery.quarantined, [blocks[3]!.id])
    assert.ok((await readdir(dir.path)).some((name) => name.startsWith('meta.sqlite.damaged-')))
    assert.equal(again.stats().blocks, 11)
    for (const block of blocks.filter((_, index) => index !== 3)) {
      assert.deepEqual(await again.getBlock(block.id), block.bytes)
    }
    await again.close()
  })

  it('rebuilds metadata written by an unknown schema version', async () => {
    await using dir = await makeTempDir('future-db')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const blocks = await fill(store, 3)
    await store.close()
    const db = new DatabaseSync(join(dir.path, 'meta.sqlite'))
    db.exec('PRAGMA user_version = 99')
    db.close()
    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'rebuilt')
    assert.equal(again.stats().blocks, blocks.length)
    await again.close()
  })

  it('verify() quarantines corrupt files, indexes stray valid ones and forgets missing ones', async () => {
    await using dir = await makeTempDir('verify')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const blocks = await fill(store, 10)
    await corrupt(dir.path, blocks[1]!.id)
    await corrupt(dir.path, blocks[6]!.id)
    await rm(blockFile(dir.path, blocks[8]!.id))
    // Written behind the store's back by a plain blockstore-fs: one good, one not matching its name.
    const plain = new FsBlockstore(join(dir.path, 'blocks'))
    const stray = randomBlock(700)
    const forged = randomBlock(700)
    await plain.put(idToCid(stray.id), stray.bytes)
    await plain.put(idToCid(forged.id), randomBlock(700).bytes)

    const report = await store.verify()
    assert.equal(report.checked, 11)
    assert.deepEqual(report.corrupt.sort(), [blocks[1]!.id, blocks[6]!.id, forged.id].sort())
    assert.equal(report.added, 1)
    assert.equal(report.removed, 1)
    assert.equal(report.resized, 0)
    assert.equal(report.metadataRebuilt, false)
    assert.equal((await readdir(join(dir.path, 'quarantine'))).length, 3)
    assert.deepEqual(await store.getBlock(stray.id), stray.bytes)
    const kept = blocks.filter((_, index) => ![1, 6, 8].includes(index))
    assert.equal(store.stats().blocks, kept.length + 1)
    assert.equal(store.stats().bytes, kept.reduce((sum, block) => sum + block.bytes.byteLength, 0) + 700)

    const clean = await store.verify()
    assert.deepEqual(clean.corrupt, [])
    assert.equal(clean.checked, kept.length + 1)
    await store.close()
  })

  it('verify() honours an AbortSignal', async () => {
    await using dir = await makeTempDir('verify-abort')
    const store = await LibernetBlockstore.open({ path: dir.path })
    await fill(store, 3)
    await assert.rejects(store.verify({ signal: AbortSignal.abort() }), (err: Error) => err.name === 'AbortError')
    await store.close()
  })
})
