import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LibernetBlockstore } from '@libernet/blockstore'
import { sha256Hex } from '@libernet/core'
import type { Libp2p } from '@libp2p/interface'
import type { BlockSource } from '../src/store.ts'
import { type BlockNode, connect, createNode, stopAll } from './fixtures/nodes.ts'

/** The adapter a node would write: LibernetBlockstore as the protocol's BlockSource. */
function asSource(store: LibernetBlockstore): BlockSource {
  return {
    has: (id) => store.hasBlock(id),
    get: async (id, options) => {
      if (!store.hasBlock(id)) return undefined
      return store.getBlock(id, options)
    },
    put: async (id, bytes, options) => {
      await store.putBlock(id, bytes, options)
    },
    like: (target, query) => store.like(target, query).map(({ id, size }) => ({ id, size })),
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'libernet-protocol-store-'))
const nodes: Array<Libp2p | undefined> = []
const stores: LibernetBlockstore[] = []
after(async () => {
  await stopAll(nodes)
  await Promise.allSettled(stores.map((store) => store.close()))
  rmSync(scratch, { recursive: true, force: true })
})

describe('with @libernet/blockstore as the source', () => {
  it('serves, stores within quota, refuses over quota, and answers like queries from a real store', async () => {
    const store = await LibernetBlockstore.open({ path: join(scratch, 'store'), quota: 100_000 })
    stores.push(store)
    const held = Array.from({ length: 10 }, () => randomBytes(4096))
    for (const bytes of held) await store.putBlock(sha256Hex(bytes), bytes)
    const holder: BlockNode = await createNode({ source: asSource(store) })
    nodes.push(holder)
    const asker = await createNode()
    nodes.push(asker)
    const peer = await connect(asker, holder)
    const ids = held.map((bytes) => sha256Hex(bytes))
    const fetched = new Map<string, Uint8Array>()
    for await (const block of asker.services.blocks.fetch(ids, { peers: [peer] })) fetched.set(block.id, block.bytes)
    assert.equal(fetched.size, 10)
    for (const [at, bytes] of held.entries()) assert.deepEqual(fetched.get(ids[at] as string), new Uint8Array(bytes))

    const offered = randomBytes(20_000)
    assert.deepEqual(await asker.services.blocks.store(peer, sha256Hex(offered), offered), { accepted: true })
    assert.equal(store.hasBlock(sha256Hex(offered)), true)
    const huge = randomBytes(200_000)
    const refused = await asker.services.blocks.store(peer, sha256Hex(huge), huge)
    assert.equal(!refused.accepted && refused.reason, 'quota')
    assert.equal(store.hasBlock(sha256Hex(huge)), false)

    const likes = await asker.services.blocks.like(peer, ids[0] as string, { maxResults: 2 })
    assert.equal(likes.length, 2)
    assert.deepEqual(likes[0], { id: ids[0], size: 4096 })
  })
})
