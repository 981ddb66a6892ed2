import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { createBundle, encodeConvergent, serializeBundle } from '@libernet/core'
import { BlockFileWriter, LibernetBlockstore, type WrittenBlock } from '../src/index.ts'
import { StoreLayout } from '../src/layout.ts'
import { listFiles, makeTempDir, randomBlock } from './helpers.ts'

/** What a writer stopped mid-write leaves where `block` goes: its first kilobyte, unrecorded. Returns the file. */
async function halfWrittenFile(root: string, block: { id: string; bytes: Uint8Array }): Promise<string> {
  const { file } = new StoreLayout(root).locate(block.id)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, block.bytes.subarray(0, 1000))
  return file
}

describe('block files written outside the store', () => {
  it('are readable, counted and checked once adopted; a second write of a block is not new', async () => {
    await using dir = await makeTempDir('block-files')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const blocks = [randomBlock(1000), randomBlock(70_000), randomBlock(1)]
    const written = blocks.map((block) => writer.write(block.id, block.bytes))
    // Not in the store until adopted.
    assert.equal(store.hasBlock(blocks[0]!.id), false)
    assert.deepEqual(await store.adoptBlockFiles(written), [true, true, true])
    for (const block of blocks) assert.deepEqual(await store.getBlock(block.id), block.bytes)
    // What a worker needs to read one back itself: its path, size and recorded CRC-32.
    for (const [index, block] of blocks.entries()) {
      const file = store.blockFile(block.id)!
      assert.deepEqual(file, { path: file.path, size: block.bytes.byteLength, crc: written[index]!.crc })
      assert.deepEqual(new Uint8Array(await readFile(file.path)), block.bytes)
    }
    assert.equal(store.blockFile(randomBlock(10).id), undefined)
    assert.equal(store.stats().blocks, 3)
    assert.equal(store.stats().bytes, 71_001)
    assert.ok(written.some((block) => block.newDirectory))

    assert.deepEqual(await store.adoptBlockFiles([writer.write(blocks[1]!.id, blocks[1]!.bytes)]), [false])
    assert.equal(store.stats().blocks, 3)
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    // The CRC-32 recorded at adoption is what reads check: a changed file is caught and quarantined.
    await writeFile(store.blockFile(blocks[0]!.id)!.path, new Uint8Array(1000))
    await assert.rejects(store.getBlock(blocks[0]!.id), { name: 'CorruptBlockError' })
    await store.close()
  })

  it('refuses bytes that are not the block: nothing is written', async () => {
    await using dir = await makeTempDir('block-files-wrong')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const block = randomBlock(500)
    const other = randomBlock(500)
    assert.throws(() => writer.write(block.id, other.bytes), { name: 'BlockVerificationError' })
    assert.throws(() => writer.write('not-an-id', block.bytes), { name: 'InvalidIdError' })
    assert.throws(() => writer.write(block.id, new Uint8Array(1_048_593)), { name: 'BlockTooLargeError' })
    assert.deepEqual(await listFiles(join(dir.path, 'blocks')), [])
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    await store.close()
  })

  it('replaces a file already where the block goes (a crash left it half written) with the verified bytes', async () => {
    await using dir = await makeTempDir('block-files-stale')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const block = randomBlock(70_000)
    const file = await halfWrittenFile(dir.path, block)
    const written = writer.write(block.id, block.bytes)
    assert.deepEqual(new Uint8Array(await readFile(file)), block.bytes)
    assert.deepEqual(await store.adoptBlockFiles([written]), [true])
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    await store.close()
  })

  it('abandoned by writers stopped mid-write: the next open quarantines a half-written file, keeps the rest', async () => {
    await using dir = await makeTempDir('block-files-abandoned')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const kept = randomBlock(5_000)
    assert.deepEqual(await store.adoptBlockFiles([writer.write(kept.id, kept.bytes)]), [true])
    const cut = randomBlock(70_000)
    await halfWrittenFile(dir.path, cut)
    store.abandonBlockFiles()
    await store.close()

    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'unclean')
    assert.deepEqual(again.recovery.quarantined, [cut.id])
    assert.equal(again.blockInfo(cut.id), undefined)
    assert.deepEqual(await again.getBlock(kept.id), kept.bytes)
    assert.deepEqual((await again.verify()).corrupt, [])
    await again.close()
    // Closed normally this time: the open after it has nothing to check.
    const third = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(third.recovery.state, 'clean')
    await third.close()
  })

  it("an encoder's own output (hashed: true) is written without hashing it again, and reads back checked", async () => {
    await using dir = await makeTempDir('block-files-hashed')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const block = encodeConvergent(new TextEncoder().encode('encoded here'))
    assert.deepEqual(await store.adoptBlockFiles([writer.write(block.id, block.bytes, { hashed: true })]), [true])
    assert.deepEqual(await store.getBlock(block.id), block.bytes)
    // The size limit and the id's form are checked all the same.
    assert.throws(() => writer.write('not-an-id', block.bytes, { hashed: true }), { name: 'InvalidIdError' })
    assert.throws(() => writer.write(block.id, new Uint8Array(1_048_593), { hashed: true }), {
      name: 'BlockTooLargeError',
    })
    await store.close()
  })

  it('written by a worker thread, adopted and pinned, they survive a reopen pinned', async () => {
    await using dir = await makeTempDir('block-files-worker')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const parts = Array.from({ length: 80 }, (_, index) => encodeConvergent(new TextEncoder().encode(`part ${index}`)))
    const file = {
      size: parts.reduce((sum, part) => sum + part.size, 0),
      mtime: 1_700_000_000,
      parts: parts.map((part) => ({ url: `/sha256/${part.id}/aes256/${part.key}`, size: part.size })),
    }
    const root = encodeConvergent(serializeBundle(createBundle([['all.txt', file]])))
    const blocks = [root, ...parts].map(({ id, bytes }) => ({ id, bytes }))
    // The way a backup's encoding workers use it: the writer in another thread, the store here.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       import(workerData.module).then(({ BlockFileWriter }) => {
         const writer = new BlockFileWriter(workerData.target)
         parentPort.postMessage(workerData.blocks.map((block) => writer.write(block.id, block.bytes)))
       })`,
      {
        eval: true,
        workerData: {
          module: new URL('../src/block-files.ts', import.meta.url).href,
          target: store.blockFileTarget(),
          blocks,
        },
      },
    )
    const [written] = (await new Promise((resolve, reject) => {
      worker.once('message', (message) => resolve([message]))
      worker.once('error', reject)
    })) as [WrittenBlock[]]
    await worker.terminate()
    assert.equal((await store.adoptBlockFiles(written)).filter(Boolean).length, 81)
    const pinned = await store.pin(`/sha256/${root.id}/aes256/${root.key}`, 'laptop')
    assert.deepEqual({ blocks: pinned.blocks, present: pinned.present }, { blocks: 81, present: 81 })
    await store.close()

    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'clean')
    assert.equal(again.stats().pinnedBlocks, 81)
    for (const block of blocks) assert.deepEqual(await again.getBlock(block.id), block.bytes)
    await again.close()
  })

  it('count against the quota when unpinned: adopting past it evicts the least requested', async () => {
    await using dir = await makeTempDir('block-files-quota')
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 10_000 })
    const writer = new BlockFileWriter(store.blockFileTarget())
    const old = randomBlock(4_000)
    await store.putBlock(old.id, old.bytes)
    for (let index = 0; index < 5; index++) await store.getBlock(old.id)
    const fresh = Array.from({ length: 4 }, () => randomBlock(2_000))
    await store.adoptBlockFiles(fresh.map((block) => writer.write(block.id, block.bytes)))
    assert.ok(store.stats().cachedBytes <= 10_000, `${store.stats().cachedBytes} bytes cached`)
    assert.equal(store.hasBlock(old.id), true, 'the often requested block stays')
    await store.close()
  })
})
