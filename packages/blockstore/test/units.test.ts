import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { type BlockId, idToCid } from '@libernet/core'
import { NextToLast } from 'blockstore-fs/sharding'
import fc from 'fast-check'
import { DirectorySyncer } from '../src/atomic-write.ts'
import { makeDurable, startFileSystemSync } from '../src/durability.ts'
import { addRequests, requestsAt } from '../src/heat.ts'
import { KeyedMutex } from '../src/keyed-mutex.ts'
import { multihashBase32, StoreLayout } from '../src/layout.ts'
import { prefixFloor } from '../src/like-index.ts'
import { orderedParallel } from '../src/ordered-parallel.ts'
import type { StoreState } from '../src/state.ts'
import { syncFileSystem } from '../src/sync-fs.ts'
import { makeTempDir, randomBlock } from './helpers.ts'

describe('heat', () => {
  it('adds requests up, each decayed by its age', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 1e9 }), count: fc.integer({ min: 1, max: 100 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1e5, max: 1e9 }),
        (events, halfLife) => {
          const sorted = [...events].sort((a, b) => a.at - b.at)
          let heat: number | undefined
          for (const event of sorted) heat = addRequests(heat, event.count, event.at, halfLife)
          const end = sorted[sorted.length - 1]!.at + halfLife
          const expected = sorted.reduce((sum, event) => sum + event.count * 2 ** (-(end - event.at) / halfLife), 0)
          const actual = requestsAt(heat!, end, halfLife)
          assert.ok(Math.abs(actual - expected) <= 1e-9 * expected, `${actual} vs ${expected}`)
        },
      ),
    )
  })
})

describe('KeyedMutex', () => {
  it('runs tasks of one key in order and one at a time, other keys alongside', async () => {
    const mutex = new KeyedMutex()
    const log: string[] = []
    const task = (name: string, ms: number) => async () => {
      log.push(`${name}+`)
      await new Promise((resolve) => setTimeout(resolve, ms))
      log.push(`${name}-`)
      return name
    }
    const failing = mutex.run('a', async () => {
      throw new Error('boom')
    })
    const results = await Promise.all([
      mutex.run('a', task('a1', 20)),
      mutex.run('a', task('a2', 1)),
      mutex.run('b', task('b1', 5)),
      failing.catch((err: Error) => err.message),
    ])
    assert.deepEqual(results, ['a1', 'a2', 'b1', 'boom'])
    assert.ok(log.indexOf('a1-') < log.indexOf('a2+'))
    assert.ok(log.indexOf('b1+') < log.indexOf('a1-'))
    assert.equal(mutex.isBusy('a'), false)
  })
})

describe('orderedParallel', () => {
  it('yields results in source order with bounded concurrency, and throws a failure in its turn', async () => {
    let inFlight = 0
    let peak = 0
    const results: number[] = []
    const source = Array.from({ length: 20 }, (_, index) => index)
    await assert.rejects(async () => {
      for await (const value of orderedParallel(source, 4, async (item) => {
        inFlight++
        peak = Math.max(peak, inFlight)
        await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5))
        inFlight--
        if (item === 13) throw new Error('item 13')
        return item * 2
      })) {
        results.push(value)
      }
    }, /item 13/)
    assert.deepEqual(
      results,
      source.slice(0, 13).map((item) => item * 2),
    )
    assert.ok(peak <= 4)
  })
})

describe('prefixFloor', () => {
  it('keeps the first bits and clears the rest', () => {
    const target = Buffer.from('ff'.repeat(32), 'hex')
    assert.equal(Buffer.from(prefixFloor(target, 0)).toString('hex'), '00'.repeat(32))
    assert.equal(Buffer.from(prefixFloor(target, 11)).toString('hex'), `ffe0${'00'.repeat(30)}`)
    assert.equal(Buffer.from(prefixFloor(target, 256)).toString('hex'), 'ff'.repeat(32))
  })
})

describe('makeDurable with a file-system sync started early', () => {
  /** A store's durability bookkeeping over real files: `count` blocks written without an fsync. */
  async function unsyncedBlocks(root: string, count: number) {
    const layout = new StoreLayout(root)
    const state = {
      layout,
      unsynced: new Map<BlockId, number>(),
      writes: 0,
      mutex: new KeyedMutex(),
      dirs: new DirectorySyncer(),
    }
    const ids: BlockId[] = []
    for (let index = 0; index < count; index++) ids.push(await writeBlock(state, randomBlock(64)))
    return { state: state as unknown as StoreState & typeof state, ids }
  }

  async function writeBlock(
    state: { layout: StoreLayout; unsynced: Map<BlockId, number>; writes: number },
    block: { id: BlockId; bytes: Uint8Array },
  ): Promise<BlockId> {
    const { dir, file } = state.layout.locate(block.id)
    await mkdir(dir, { recursive: true })
    await writeFile(file, block.bytes)
    state.unsynced.set(block.id, ++state.writes)
    return block.id
  }

  it('trusts the early sync for the writes before it and fsyncs each later one', async (t) => {
    await using dir = await makeTempDir('durable-early')
    if (!(await syncFileSystem(dir.path))) return t.skip('syncfs(2) is not available here')
    const { state, ids } = await unsyncedBlocks(dir.path, 70)
    // Gone before the sync: covered by it, so makeDurable must not fsync it on its own (that would fail).
    await rm(state.layout.locate(ids[5]!).file)
    const started = startFileSystemSync(state)
    assert.ok(started !== undefined)
    const late = await writeBlock(state, randomBlock(64))
    await makeDurable(state, [...ids, late], started)
    assert.equal(state.unsynced.size, 0)
  })

  it('fsyncs on its own a block written after the early sync began', async (t) => {
    await using dir = await makeTempDir('durable-late')
    if (!(await syncFileSystem(dir.path))) return t.skip('syncfs(2) is not available here')
    const { state, ids } = await unsyncedBlocks(dir.path, 70)
    const started = startFileSystemSync(state)
    const late = await writeBlock(state, randomBlock(64))
    // Its file vanishes: the fsync makeDurable owes it fails, which is how the test sees that it was attempted.
    await rm(state.layout.locate(late).file)
    await assert.rejects(makeDurable(state, [...ids, late], started), { code: 'ENOENT' })
    assert.deepEqual([...state.unsynced.keys()], [late])
  })

  it('starts no early sync for a few files: fsyncing each is cheaper', async () => {
    await using dir = await makeTempDir('durable-few')
    const { state, ids } = await unsyncedBlocks(dir.path, 10)
    assert.equal(startFileSystemSync(state), undefined)
    await makeDurable(state, ids, undefined)
    assert.equal(state.unsynced.size, 0)
  })
})

describe('StoreLayout.locate', () => {
  it("names every block as blockstore-fs's NextToLast does for its CID", () => {
    const layout = new StoreLayout('/store')
    const sharding = new NextToLast()
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), (id) => {
        const { dir, file } = sharding.encode(idToCid(id))
        assert.deepEqual(layout.locate(id), { dir: join('/store/blocks', dir), file: join('/store/blocks', dir, file) })
      }),
      { numRuns: 2000 },
    )
    for (const id of ['0'.repeat(64), 'f'.repeat(64)]) {
      const { file } = sharding.encode(idToCid(id))
      assert.equal(multihashBase32(id), file.slice(0, -'.data'.length))
    }
  })
})
