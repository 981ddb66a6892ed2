import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { LibernetBlockstore } from '../src/index.ts'
import { DAY, HOUR, makeTempDir, manualClock, randomBlock, type TestBlock } from './helpers.ts'

const SIZE = 1000

describe('quota and eviction', () => {
  it('evicts the least-requested unpinned blocks first', async () => {
    await using dir = await makeTempDir('evict-order')
    const clock = manualClock()
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 10 * SIZE, now: clock.now })
    const blocks = Array.from({ length: 10 }, () => randomBlock(SIZE))
    // Request counts 1..10 in a scrambled order, all at the same moment.
    const requests = [7, 3, 10, 1, 5, 9, 2, 8, 4, 6]
    for (const block of blocks) await store.putBlock(block.id, block.bytes)
    for (const [index, block] of blocks.entries()) {
      for (let i = 1; i < requests[index]!; i++) await store.getBlock(block.id)
    }
    const byRequests = [...blocks.keys()].sort((a, b) => requests[a]! - requests[b]!)
    for (let round = 0; round < 10; round++) {
      const incoming = randomBlock(SIZE)
      // Newcomers are requested more than any old block, so only old ones are evicted.
      await store.putBlock(incoming.id, incoming.bytes)
      for (let i = 0; i < 20; i++) await store.getBlock(incoming.id)
      const evicted = byRequests.slice(0, round + 1)
      for (const [index, block] of blocks.entries()) {
        assert.equal(store.hasBlock(block.id), !evicted.includes(index), `round ${round}, block ${index}`)
      }
      assert.equal(store.stats().cachedBytes, 10 * SIZE)
    }
    await store.close()
  })

  it('decays request counts: old popularity fades below recent interest', async () => {
    await using dir = await makeTempDir('evict-decay')
    const clock = manualClock()
    const halfLife = DAY
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 2 * SIZE, now: clock.now, halfLife })
    const once = randomBlock(SIZE)
    const recent = randomBlock(SIZE)
    await store.putBlock(once.id, once.bytes)
    for (let i = 1; i < 16; i++) await store.getBlock(once.id) // 16 requests, four half-lives ago
    clock.advance(4 * halfLife + HOUR)
    await store.putBlock(recent.id, recent.bytes)
    await store.getBlock(recent.id) // 2 requests now; the old 16 are worth just under 1
    const incoming = randomBlock(SIZE)
    await store.putBlock(incoming.id, incoming.bytes)
    assert.equal(store.hasBlock(once.id), false)
    assert.equal(store.hasBlock(recent.id), true)
    assert.equal(store.hasBlock(incoming.id), true)
    await store.close()
  })

  it('never evicts pinned blocks, and they do not count against the quota', async () => {
    await using dir = await makeTempDir('evict-pins')
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 3 * SIZE })
    const owned = Array.from({ length: 5 }, () => randomBlock(SIZE))
    for (const block of owned) await store.putBlock(block.id, block.bytes, { pinnedBy: 'laptop' })
    const cached: TestBlock[] = []
    for (let i = 0; i < 12; i++) {
      const block = randomBlock(SIZE)
      cached.push(block)
      await store.putBlock(block.id, block.bytes)
      for (let r = 0; r < i; r++) await store.getBlock(block.id)
    }
    for (const block of owned) assert.equal(store.hasBlock(block.id), true)
    const stats = store.stats()
    assert.equal(stats.pinnedBytes, 5 * SIZE)
    assert.equal(stats.cachedBytes, 3 * SIZE)
    assert.deepEqual(
      cached.map((block) => store.hasBlock(block.id)),
      cached.map((_, index) => index >= 9),
    )
    // Even gc down to nothing keeps the pinned ones.
    const result = await store.gc({ target: 0 })
    assert.deepEqual(result, { removed: 3, bytes: 3 * SIZE })
    for (const block of owned) assert.deepEqual(await store.getBlock(block.id), block.bytes)
    assert.equal(store.stats().blocks, 5)
    await store.close()
  })

  it('refuses a block that cannot fit even in an empty cache, evicting nothing (QuotaExceededError)', async () => {
    await using dir = await makeTempDir('over-quota')
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 2500 })
    const a = randomBlock(SIZE)
    const b = randomBlock(SIZE)
    await store.putBlock(a.id, a.bytes)
    await store.putBlock(b.id, b.bytes)
    const big = randomBlock(2501)
    await assert.rejects(store.putBlock(big.id, big.bytes), (err: Error) => err.name === 'QuotaExceededError')
    assert.equal(store.hasBlock(big.id), false)
    assert.equal(store.hasBlock(a.id), true)
    assert.equal(store.hasBlock(b.id), true)
    assert.equal(store.stats().cachedBytes, 2 * SIZE)
    assert.deepEqual(await readdir(join(dir.path, 'tmp')), [])
    // The owner's own blocks are not bound by the quota.
    assert.equal(await store.putBlock(big.id, big.bytes, { pinnedBy: 'laptop' }), true)
    await store.close()
  })

  it('evicts down to a lowered quota on open', async () => {
    await using dir = await makeTempDir('quota-lowered')
    const store = await LibernetBlockstore.open({ path: dir.path })
    for (let i = 0; i < 6; i++) {
      const block = randomBlock(SIZE)
      await store.putBlock(block.id, block.bytes)
    }
    await store.close()
    const smaller = await LibernetBlockstore.open({ path: dir.path, quota: 2 * SIZE })
    assert.equal(smaller.stats().cachedBytes, 2 * SIZE)
    await smaller.close()
  })

  it('keeps every put within the quota and evicts only the least requested (property)', async () => {
    await using dir = await makeTempDir('quota-property')
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 3000 }),
            gets: fc.integer({ min: 0, max: 6 }),
            pinned: fc.boolean(),
            wait: fc.integer({ min: 0, max: 3 * DAY }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.integer({ min: 3000, max: 12_000 }),
        async (steps, quota) => {
          const clock = manualClock()
          const store = await LibernetBlockstore.open({
            path: `${dir.path}/${run++}`,
            quota,
            now: clock.now,
            halfLife: DAY,
          })
          const owned: TestBlock[] = []
          const cached = new Map<string, TestBlock>()
          try {
            for (const step of steps) {
              clock.advance(step.wait)
              const block = randomBlock(step.size)
              const before = new Map([...cached.keys()].map((id) => [id, store.blockInfo(id)!.requests]))
              await store.putBlock(block.id, block.bytes, step.pinned ? { pinnedBy: 'me' } : {})
              for (let i = 0; i < step.gets; i++) await store.getBlock(block.id)

              const stats = store.stats()
              assert.ok(stats.cachedBytes <= quota)
              for (const kept of owned) assert.equal(store.hasBlock(kept.id), true)
              const evicted = [...before.keys()].filter((id) => !store.hasBlock(id))
              const survivors = [...before.keys()].filter((id) => store.hasBlock(id))
              const maxEvicted = Math.max(...evicted.map((id) => before.get(id)!))
              const minSurvivor = Math.min(...survivors.map((id) => before.get(id)!))
              if (evicted.length > 0 && survivors.length > 0) assert.ok(maxEvicted <= minSurvivor + 1e-9)
              for (const id of evicted) cached.delete(id)
              if (step.pinned) owned.push(block)
              else cached.set(block.id, block)
            }
          } finally {
            await store.close()
          }
        },
      ),
      { numRuns: 25 },
    )
  })
})
