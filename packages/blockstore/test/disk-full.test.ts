import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { isValidStoredBlock } from '@libernet/core'
import { NextToLast } from 'blockstore-fs/sharding'
import { BlockFileWriter, LibernetBlockstore, type WrittenBlock } from '../src/index.ts'
import { makeTempDir, randomBlock, type TestBlock } from './helpers.ts'

/** A tmpfs of `size` mounted on `dir` (the tests run as root); it is the full disk. */
function mountTmpfs(dir: string, size: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`cannot mount a tmpfs for the disk-full test (it needs root): ${stderr || (err as Error).message}`)
  }
}

async function assertConsistent(store: LibernetBlockstore, root: string): Promise<void> {
  const sharding = new NextToLast()
  let count = 0
  let bytes = 0
  for (const entry of await readdir(join(root, 'blocks'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const id = Buffer.from(sharding.decode(entry.name).multihash.digest).toString('hex')
    const content = await readFile(join(entry.parentPath, entry.name))
    assert.ok(isValidStoredBlock(id, content), `file of ${id} verifies`)
    assert.equal(store.blockInfo(id)?.size, content.byteLength)
    count++
    bytes += content.byteLength
  }
  assert.equal(store.stats().blocks, count)
  assert.equal(store.stats().bytes, bytes)
  assert.deepEqual(await readdir(join(root, 'tmp')), [])
}

/** Puts ever smaller blocks until not even the metadata can grow; every failure must be the same clear error. */
async function fillToTheLastByte(store: LibernetBlockstore, stored: TestBlock[] = []): Promise<void> {
  for (const size of [16384, 4096, 512, 64, 1]) {
    for (let i = 0; i < 400; i++) {
      const block = randomBlock(size)
      try {
        await store.putBlock(block.id, block.bytes)
        stored.push(block)
      } catch (err) {
        assert.equal((err as Error).name, 'DiskFullError', String(err))
        assert.equal(store.hasBlock(block.id), false)
        break
      }
    }
  }
}

/** A store on a `size` tmpfs of its own, closed and unmounted after `body`. */
async function onSmallDisk(
  name: string,
  size: string,
  body: (store: LibernetBlockstore, root: string) => Promise<void>,
): Promise<void> {
  await using dir = await makeTempDir(name)
  mountTmpfs(dir.path, size)
  let store: LibernetBlockstore | undefined
  try {
    store = await LibernetBlockstore.open({ path: dir.path })
    await body(store, dir.path)
  } finally {
    await store?.close().catch(() => {})
    execFileSync('umount', [dir.path])
  }
}

describe('full disk', () => {
  it('fails a put with DiskFullError, leaving nothing of it and a consistent store', async () => {
    await onSmallDisk('disk-full', '4m', async (store, root) => {
      const stored: TestBlock[] = []
      let failed: TestBlock | undefined
      for (let i = 0; i < 64 && failed === undefined; i++) {
        const block = randomBlock(200 * 1024)
        try {
          await store.putBlock(block.id, block.bytes, { pinnedBy: i % 2 === 0 ? 'laptop' : undefined })
          stored.push(block)
        } catch (err) {
          assert.equal((err as Error).name, 'DiskFullError', String(err))
          failed = block
        }
      }
      assert.ok(failed !== undefined, 'the 4 MiB disk filled up')
      assert.ok(stored.length >= 10, `${stored.length} blocks fit before the disk was full`)
      assert.equal(store.hasBlock(failed.id), false)
      await assertConsistent(store, root)
      await fillToTheLastByte(store, stored)
      await assertConsistent(store, root)
      // Still usable: what is stored reads back; with the disk full to the last byte, changing pins is
      // refused with the same error and changes nothing; deleting frees space and writes go through again.
      for (const block of stored) assert.deepEqual(await store.getBlock(block.id), block.bytes)
      const pinnedBefore = store.stats().pinnedBlocks
      await assert.rejects(store.unpinStaged('laptop'), (err: Error) => err.name === 'DiskFullError')
      assert.equal(store.stats().pinnedBlocks, pinnedBefore)
      const unpinned = stored.filter((block) => store.blockInfo(block.id)?.pinned === false)
      for (const block of unpinned.slice(0, 6)) await store.deleteBlock(block.id)
      assert.equal(await store.unpinStaged('laptop'), pinnedBefore)
      assert.equal(await store.putBlock(failed.id, failed.bytes), true)
      await assertConsistent(store, root)
      await store.close()

      const again = await LibernetBlockstore.open({ path: root })
      assert.equal(again.recovery.state, 'clean')
      await assertConsistent(again, root)
      await again.close()
    })
  })

  it('fails a block file written outside the store with DiskFullError, leaving no temp file', async () => {
    await onSmallDisk('disk-full-files', '4m', async (store, root) => {
      // Space to give back at the end, so the store can be opened again.
      await writeFile(join(root, 'filler'), new Uint8Array(256 * 1024))
      const writer = new BlockFileWriter(store.blockFileTarget())
      const written: WrittenBlock[] = []
      let failure: unknown
      for (let i = 0; i < 64 && failure === undefined; i++) {
        const block = randomBlock(200 * 1024)
        try {
          written.push(writer.write(block.id, block.bytes))
        } catch (err) {
          failure = err
        }
      }
      assert.equal((failure as Error | undefined)?.name, 'DiskFullError', String(failure))
      assert.ok(written.length >= 10, `${written.length} blocks fit before the disk was full`)
      assert.deepEqual(await readdir(join(root, 'tmp')), [])
      await store.adoptBlockFiles(written)
      await assertConsistent(store, root)
      // Down to the last byte: not even the row of a clean shutdown may fit, and closing still succeeds.
      await fillToTheLastByte(store)
      await store.close()
      await rm(join(root, 'filler'))
      const again = await LibernetBlockstore.open({ path: root })
      await assertConsistent(again, root)
      await again.close()
    })
  })
})
