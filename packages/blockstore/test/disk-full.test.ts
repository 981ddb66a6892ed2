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

describe('full disk', () => {
  it('fails a put with DiskFullError, leaving nothing of it and a consistent store', async () => {
    await using dir = await makeTempDir('disk-full')
    mountTmpfs(dir.path, '4m')
    let store: LibernetBlockstore | undefined
    try {
      store = await LibernetBlockstore.open({ path: dir.path })
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
      await assertConsistent(store, dir.path)
      // Squeeze in ever smaller blocks until not even the metadata can grow: every failure is the same clear error.
      for (const size of [16384, 4096, 512, 1]) {
        for (let i = 0; i < 200; i++) {
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
      await assertConsistent(store, dir.path)
      // Still usable: what is stored reads back; with the disk full to the last byte, changing pins is
      // refused with the same error and changes nothing; deleting frees space and writes go through again.
      for (const block of stored) assert.deepEqual(await store.getBlock(block.id), block.bytes)
      const pinnedBefore = store.stats().pinnedBlocks
      await assert.rejects(store.unpinStaged('laptop'), (err: Error) => err.name === 'DiskFullError')
      assert.equal(store.stats().pinnedBlocks, pinnedBefore)
      const open = store
      const unpinned = stored.filter((block) => open.blockInfo(block.id)?.pinned === false)
      for (const block of unpinned.slice(0, 6)) await store.deleteBlock(block.id)
      assert.equal(await store.unpinStaged('laptop'), pinnedBefore)
      assert.equal(await store.putBlock(failed.id, failed.bytes), true)
      await assertConsistent(store, dir.path)
      await store.close()

      store = await LibernetBlockstore.open({ path: dir.path })
      assert.equal(store.recovery.state, 'clean')
      await assertConsistent(store, dir.path)
      await store.close()
    } finally {
      await store?.close().catch(() => {})
      execFileSync('umount', [dir.path])
    }
  })

  it('fails a block file written outside the store with DiskFullError, leaving no temp file', async () => {
    await using dir = await makeTempDir('disk-full-files')
    mountTmpfs(dir.path, '4m')
    let store: LibernetBlockstore | undefined
    try {
      store = await LibernetBlockstore.open({ path: dir.path })
      // Space to give back at the end, so the store can be opened again.
      await writeFile(join(dir.path, 'filler'), new Uint8Array(256 * 1024))
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
      assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
      await store.adoptBlockFiles(written)
      await assertConsistent(store, dir.path)
      // Down to the last byte: not even the row of a clean shutdown fits, and closing still succeeds.
      for (const size of [16384, 4096, 512, 64, 1]) {
        for (let i = 0; i < 400; i++) {
          const block = randomBlock(size)
          try {
            await store.putBlock(block.id, block.bytes)
          } catch (err) {
            assert.equal((err as Error).name, 'DiskFullError', String(err))
            break
          }
        }
      }
      await store.close()
      await rm(join(dir.path, 'filler'))
      const again = await LibernetBlockstore.open({ path: dir.path })
      await assertConsistent(again, dir.path)
      await again.close()
    } finally {
      await store?.close().catch(() => {})
      execFileSync('umount', [dir.path])
    }
  })
})
