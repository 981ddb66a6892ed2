import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { inflateSync } from 'node:zlib'
import { sha256Hex } from '@libernet/core'
import { NextToLast } from 'blockstore-fs/sharding'
import { LibernetBlockstore } from '../src/index.ts'
import { makeTempDir } from './helpers.ts'

const fixture = join(import.meta.dirname, 'fixtures', 'put-loop.ts')

/** Runs the put loop on `path` and SIGKILLs it once it has reported `pinnedTarget` pinned puts. */
async function runAndKill(path: string, quota: number, pinnedTarget: number): Promise<string[]> {
  const child = spawn(process.execPath, [fixture, path, String(quota)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  const pinned: string[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('pinned ')) pinned.push(line.slice(7))
    if (pinned.length >= pinnedTarget) {
      process.kill(child.pid!, 'SIGKILL')
      break
    }
  }
  // Wait until it is reaped: a zombie would still look like the lock's live owner.
  assert.equal(await exited, 'SIGKILL')
  return pinned
}

/** The store's files, checked without the store's code: blockstore-fs names, DESIGN §2 hashes. */
async function filesOnDisk(path: string): Promise<Map<string, { size: number; valid: boolean }>> {
  const sharding = new NextToLast()
  const files = new Map<string, { size: number; valid: boolean }>()
  for (const entry of await readdir(join(path, 'blocks'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const id = Buffer.from(sharding.decode(entry.name).multihash.digest).toString('hex')
    const bytes = await readFile(join(entry.parentPath, entry.name))
    files.set(id, { size: bytes.byteLength, valid: matches(id, bytes) })
  }
  return files
}

/** DESIGN §2: the stored bytes hash to the id, or (plain blocks) their inflated content does. */
function matches(id: string, bytes: Uint8Array): boolean {
  if (sha256Hex(bytes) === id) return true
  try {
    return sha256Hex(inflateSync(bytes)) === id
  } catch {
    return false
  }
}

describe('crash safety', () => {
  it('leaves a consistent store after SIGKILL in the middle of many puts', async () => {
    await using dir = await makeTempDir('crash')
    const quota = 2 * 1024 * 1024
    const everPinned: string[] = []
    for (let round = 0; round < 2; round++) {
      everPinned.push(...(await runAndKill(dir.path, quota, 30 + round * 10)))

      const store = await LibernetBlockstore.open({ path: dir.path, quota })
      assert.equal(store.recovery.state, 'unclean')
      assert.deepEqual(await readdir(join(dir.path, 'tmp')), [], 'half-written temp files are cleared')
      assert.deepEqual(store.recovery.quarantined, [], 'no visible file is corrupt')

      const files = await filesOnDisk(dir.path)
      for (const [id, file] of files) {
        assert.ok(file.valid, `file of ${id} verifies`)
        assert.equal(store.blockInfo(id)?.size, file.size, `metadata of ${id} matches its file`)
      }
      const stats = store.stats()
      assert.equal(stats.blocks, files.size)
      assert.equal(
        stats.bytes,
        [...files.values()].reduce((sum, file) => sum + file.size, 0),
      )
      assert.ok(stats.cachedBytes <= quota, 'within the quota')
      // Every pinned put that returned before the kill is there, pinned, and reads back.
      for (const id of everPinned) {
        assert.equal(store.blockInfo(id)?.pinned, true, `pinned block ${id}`)
        assert.ok(matches(id, await store.getBlock(id)))
      }
      const report = await store.verify()
      assert.deepEqual(
        { corrupt: report.corrupt, added: report.added, removed: report.removed, resized: report.resized },
        { corrupt: [], added: 0, removed: 0, resized: 0 },
      )
      assert.equal(report.checked, files.size)
      await store.close()
    }
  })
})
