import assert from 'node:assert/strict'
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { crc32, deflateSync } from 'node:zlib'
import { type BlockId, idToCid, LEGACY_MAX_BLOCK_SIZE, sha256Hex } from '@libernet/core'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import all from 'it-all'
import { CID } from 'multiformats/cid'
import * as identity from 'multiformats/hashes/identity'
import { LibernetBlockstore } from '../src/index.ts'
import { listFiles, makeTempDir, manualClock, randomBlock } from './helpers.ts'

/** Where blockstore-fs keeps a block: computed with its own sharding, not the store's code. */
function blockFile(storePath: string, id: BlockId): string {
  const { dir, file } = new NextToLast().encode(idToCid(id))
  return join(storePath, 'blocks', dir, file)
}

async function rejectsWithName(promise: Promise<unknown> | (() => unknown), name: string): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === 'function' ? promise() : promise),
    (err: Error) => {
      assert.equal(err.name, name)
      return true
    },
  )
}

describe('LibernetBlockstore: put and get', () => {
  it('stores, finds and returns blocks, once', async () => {
    await using dir = await makeTempDir('basic')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(5000)
    assert.equal(store.hasBlock(block.id), false)
    assert.equal(await store.putBlock(block.id, block.bytes), true)
    assert.equal(await store.putBlock(block.id, block.bytes), false)
    assert.equal(store.hasBlock(block.id), true)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.deepEqual(new Uint8Array(await readFile(blockFile(dir.path, block.id))), block.bytes)
    assert.deepEqual(store.stats(), {
      blocks: 1,
      bytes: 5000,
      pinnedBlocks: 0,
      pinnedBytes: 0,
      cachedBlocks: 1,
      cachedBytes: 5000,
      quota: Number.POSITIVE_INFINITY,
      pinRoots: 0,
    })
    await store.close()
  })

  it('lists every id in id order, across pages', async () => {
    await using dir = await makeTempDir('ids')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const blocks = Array.from({ length: 4100 }, () => randomBlock(8))
    for (const block of blocks) await store.putBlock(block.id, block.bytes)
    assert.deepEqual([...store.ids()], blocks.map((block) => block.id).sort())
    await store.close()
    assert.throws(() => [...store.ids()], { name: 'StoreClosedError' })
  })

  it('accepts plain blocks, named by the hash of their inflated content', async () => {
    await using dir = await makeTempDir('plain')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const content = new TextEncoder().encode('plain text '.repeat(500))
    const stored = new Uint8Array(deflateSync(content))
    const id = sha256Hex(content)
    assert.notEqual(sha256Hex(stored), id)
    assert.equal(await store.putBlock(id, stored), true)
    assert.deepEqual(await store.getBlock(id), stored)
    await store.close()
  })

  it('refuses bytes that do not match the id, writing nothing', async () => {
    await using dir = await makeTempDir('mismatch')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(2000)
    const other = randomBlock(2000)
    await rejectsWithName(store.putBlock(block.id, other.bytes), 'BlockVerificationError')
    const flipped = block.bytes.slice()
    flipped[7]! ^= 1
    await rejectsWithName(store.putBlock(block.id, flipped), 'BlockVerificationError')
    await rejectsWithName(store.put(idToCid(block.id), other.bytes), 'BlockVerificationError')
    assert.equal(store.hasBlock(block.id), false)
    assert.equal(store.stats().blocks, 0)
    assert.deepEqual(await listFiles(join(dir.path, 'blocks')), [])
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    await store.close()
  })

  it('refuses blocks over the largest stored size and ids that are not ids', async () => {
    await using dir = await makeTempDir('limits')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const huge = new Uint8Array(LEGACY_MAX_BLOCK_SIZE + 1)
    await rejectsWithName(store.putBlock(sha256Hex(huge), huge), 'BlockTooLargeError')
    // Streamed chunks are refused as soon as they pass the limit.
    const chunks = [new Uint8Array(LEGACY_MAX_BLOCK_SIZE), new Uint8Array(1)]
    await rejectsWithName(store.put(idToCid(sha256Hex(huge)), chunks), 'BlockTooLargeError')
    await rejectsWithName(store.putBlock('ABC', new Uint8Array(1)), 'InvalidIdError')
    await rejectsWithName(() => store.hasBlock('not an id'), 'InvalidIdError')
    const notSha256 = CID.createV1(0x55, identity.identity.digest(new Uint8Array([1, 2, 3])))
    await rejectsWithName(store.put(notSha256, new Uint8Array([1, 2, 3])), 'InvalidIdError')
    await store.close()
  })

  it('keeps the largest legacy block (1 MiB + 16 bytes)', async () => {
    await using dir = await makeTempDir('legacy')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(LEGACY_MAX_BLOCK_SIZE)
    assert.equal(await store.putBlock(block.id, block.bytes), true)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    await store.close()
  })

  it('reports a missing block as NotFoundError', async () => {
    await using dir = await makeTempDir('missing')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock()
    await rejectsWithName(store.getBlock(block.id), 'NotFoundError')
    await rejectsWithName(all(store.get(idToCid(block.id))), 'NotFoundError')
    await store.close()
  })

  it('stores a block once when the same put runs many times at once', async () => {
    await using dir = await makeTempDir('concurrent')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(64 * 1024)
    const results = await Promise.all(Array.from({ length: 25 }, () => store.putBlock(block.id, block.bytes)))
    assert.equal(results.filter(Boolean).length, 1)
    assert.equal(store.stats().blocks, 1)
    assert.equal(store.stats().bytes, block.bytes.byteLength)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    await store.close()
  })

  it('writes the blockstore-fs layout, readable by a plain FsBlockstore', async () => {
    await using dir = await makeTempDir('interop')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(3000)
    await store.putBlock(block.id, block.bytes)
    await store.close()
    const plain = new FsBlockstore(join(dir.path, 'blocks'))
    await plain.open()
    const chunks = await all(plain.get(idToCid(block.id)))
    assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), block.bytes)
  })
})

describe('LibernetBlockstore: corruption on disk', () => {
  it('never returns a corrupted file: quarantines it and throws CorruptBlockError', async () => {
    await using dir = await makeTempDir('corrupt')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(10_000)
    const kept = randomBlock(10_000)
    await store.putBlock(block.id, block.bytes)
    await store.putBlock(kept.id, kept.bytes)
    const file = blockFile(dir.path, block.id)
    const bytes = await readFile(file)
    bytes[1234]! ^= 0x40
    await writeFile(file, bytes)

    await rejectsWithName(store.getBlock(block.id), 'CorruptBlockError')
    assert.equal(store.hasBlock(block.id), false)
    assert.equal(store.stats().blocks, 1)
    const quarantined = await readdir(join(dir.path, 'quarantine'))
    assert.equal(quarantined.length, 1)
    assert.ok(quarantined[0]!.startsWith(block.id))
    assert.deepEqual(await readFile(join(dir.path, 'quarantine', quarantined[0]!)), bytes)
    // Gone now: later reads say so rather than serving anything.
    await rejectsWithName(store.getBlock(block.id), 'NotFoundError')
    assert.deepEqual(await store.getBlock(kept.id), kept.bytes)
    // A good copy can be put again.
    assert.equal(await store.putBlock(block.id, block.bytes), true)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    await store.close()
  })

  it('detects truncated and emptied files through the Blockstore interface too', async () => {
    await using dir = await makeTempDir('truncated')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const a = randomBlock(4096)
    const b = randomBlock(4096)
    await store.putBlock(a.id, a.bytes)
    await store.putBlock(b.id, b.bytes)
    await truncate(blockFile(dir.path, a.id), 100)
    await truncate(blockFile(dir.path, b.id), 0)
    await rejectsWithName(all(store.get(idToCid(a.id))), 'CorruptBlockError')
    // getAll skips what it finds corrupt instead of yielding it.
    assert.deepEqual(await all(store.getAll()), [])
    assert.equal(store.stats().blocks, 0)
    await store.close()
  })

  it('restores a block whose file vanished when it is put again', async () => {
    await using dir = await makeTempDir('reput')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock(2048)
    await store.putBlock(block.id, block.bytes)
    await rm(blockFile(dir.path, block.id))
    assert.equal(await store.putBlock(block.id, block.bytes), true)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.equal(store.stats().blocks, 1)
    await truncate(blockFile(dir.path, block.id), 10)
    assert.equal(await store.putBlock(block.id, block.bytes), true)
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.equal(store.stats().bytes, 2048)
    await store.close()
  })

  it('forgets a block whose file disappeared', async () => {
    await using dir = await makeTempDir('vanished')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock()
    await store.putBlock(block.id, block.bytes)
    await rm(blockFile(dir.path, block.id))
    await rejectsWithName(store.getBlock(block.id), 'NotFoundError')
    assert.equal(store.hasBlock(block.id), false)
    assert.equal(store.stats().blocks, 0)
    await store.close()
  })
})

describe('LibernetBlockstore: delete', () => {
  it('deletes blocks and their files; deleting a missing block is fine', async () => {
    await using dir = await makeTempDir('delete')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock()
    await store.putBlock(block.id, block.bytes)
    await store.deleteBlock(block.id)
    assert.equal(store.hasBlock(block.id), false)
    assert.deepEqual(await listFiles(join(dir.path, 'blocks')), [])
    await store.deleteBlock(block.id)
    assert.equal(store.stats().bytes, 0)
    await store.close()
  })

  it('refuses to delete a pinned block (BlockPinnedError)', async () => {
    await using dir = await makeTempDir('delete-pinned')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const block = randomBlock()
    await store.putBlock(block.id, block.bytes, { pinnedBy: 'laptop' })
    await rejectsWithName(store.deleteBlock(block.id), 'BlockPinnedError')
    await rejectsWithName(store.delete(idToCid(block.id)), 'BlockPinnedError')
    assert.equal(store.hasBlock(block.id), true)
    await store.close()
  })
})

describe('LibernetBlockstore: metadata', () => {
  it('counts requests in batches, with exponential decay', async () => {
    await using dir = await makeTempDir('requests')
    const clock = manualClock()
    const halfLife = 2 * 86_400_000
    const store = await LibernetBlockstore.open({ path: dir.path, now: clock.now, halfLife, flushInterval: 60_000 })
    const block = randomBlock()
    await store.putBlock(block.id, block.bytes)
    assert.equal(store.blockInfo(block.id)?.requests, 1, 'a put counts as the first request')
    for (let i = 0; i < 7; i++) await store.getBlock(block.id)
    clock.advance(1000)
    const info = store.blockInfo(block.id)!
    assert.ok(Math.abs(info.requests - 8) < 0.01, `requests ${info.requests}`)
    assert.equal(info.lastAccess, clock.now() - 1000)
    clock.advance(halfLife)
    assert.ok(Math.abs(store.blockInfo(block.id)!.requests - 4) < 0.01)
    clock.advance(halfLife)
    assert.ok(Math.abs(store.blockInfo(block.id)!.requests - 2) < 0.01)
    await store.close()

    // Counts survive a restart (they were flushed on close).
    const again = await LibernetBlockstore.open({ path: dir.path, now: clock.now, halfLife })
    assert.ok(Math.abs(again.blockInfo(block.id)!.requests - 2) < 0.01)
    await again.close()
  })

  it('names the file of a block for a reader elsewhere, counting it as a request', async () => {
    await using dir = await makeTempDir('block-file')
    const clock = manualClock()
    const store = await LibernetBlockstore.open({ path: dir.path, now: clock.now, flushInterval: 60_000 })
    const block = randomBlock(5000)
    assert.equal(store.blockFile(block.id), undefined)
    await store.putBlock(block.id, block.bytes)
    const file = store.blockFile(block.id)!
    assert.equal(file.size, 5000)
    assert.equal(file.crc, crc32(block.bytes), 'the CRC-32 the put recorded')
    assert.deepEqual(new Uint8Array(await readFile(file.path)), block.bytes)
    clock.advance(1000)
    assert.ok(Math.abs(store.blockInfo(block.id)!.requests - 2) < 0.01, 'the put and this read')
    assert.throws(
      () => store.blockFile('not an id'),
      (err: Error) => err.name === 'InvalidIdError',
    )
    await store.close()
    assert.throws(
      () => store.blockFile(block.id),
      (err: Error) => err.name === 'StoreClosedError',
    )
  })

  it('keeps the peers known to hold a replica, most recent first', async () => {
    await using dir = await makeTempDir('replicas')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const { id } = randomBlock()
    assert.deepEqual(store.replicasOf(id), [])
    store.recordReplica(id, 'peerA', 1000)
    store.recordReplica(id, 'peerB', 3000)
    store.recordReplica(id, 'peerA', 2000)
    store.recordReplica(id, 'peerC', 500)
    assert.deepEqual(store.replicasOf(id), ['peerB', 'peerA', 'peerC'])
    assert.equal(store.forgetReplica(id, 'peerB'), true)
    assert.equal(store.forgetReplica(id, 'peerB'), false)
    await store.close()
    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.deepEqual(again.replicasOf(id), ['peerA', 'peerC'])
    await again.close()
  })
})

describe('LibernetBlockstore: lifecycle', () => {
  it('is locked against a second opener, and refuses use after close', async () => {
    await using dir = await makeTempDir('lock')
    const store = await LibernetBlockstore.open({ path: dir.path })
    await rejectsWithName(LibernetBlockstore.open({ path: dir.path }), 'StoreLockedError')
    await store.close()
    await store.close()
    await rejectsWithName(() => store.stats(), 'StoreClosedError')
    await rejectsWithName(store.getBlock(randomBlock().id), 'StoreClosedError')
    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'clean')
    await again.close()
  })

  it('checks its options before touching the disk', async () => {
    await using dir = await makeTempDir('options')
    const path = join(dir.path, 'store')
    await assert.rejects(LibernetBlockstore.open({ path, quota: -1 }), RangeError)
    await assert.rejects(LibernetBlockstore.open({ path, halfLife: 0 }), RangeError)
    await assert.rejects(LibernetBlockstore.open({ path, concurrency: 0 }), RangeError)
    await assert.rejects(LibernetBlockstore.open({ path, fsync: 'never' as 'always' }), RangeError)
    await assert.rejects(LibernetBlockstore.open({ path: '' }), TypeError)
    assert.deepEqual(await readdir(dir.path), [])
  })

  it('takes over the lock of a process that no longer exists', async () => {
    await using dir = await makeTempDir('stale-lock')
    const store = await LibernetBlockstore.open({ path: dir.path })
    await store.close()
    // The highest pid Linux hands out is 4194304; this one cannot be running.
    await writeFile(join(dir.path, 'LOCK'), '4194999')
    const again = await LibernetBlockstore.open({ path: dir.path })
    await again.close()
  })
})
