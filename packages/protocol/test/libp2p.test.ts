import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { BlockId } from '@libernet/core'
import { sha256Hex } from '@libernet/core'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import fc from 'fast-check'
import { createLibp2p } from 'libp2p'
import type { FetchedBlock } from '../src/client.ts'
import { encodeFrame, encodeVarint } from '../src/codec.ts'
import { BLOCK_PROTOCOL, MAX_FRAME_SIZE } from '../src/constants.ts'
import type { BlockSource } from '../src/store.ts'
import { MemorySource } from './fixtures/memory-source.ts'
import { type BlockNode, connect, createNode, stopAll } from './fixtures/nodes.ts'

const nodes: Array<Libp2p | undefined> = []
after(() => stopAll(nodes))

async function node(...args: Parameters<typeof createNode>): Promise<BlockNode> {
  const created = await createNode(...args)
  nodes.push(created)
  return created
}

async function collect(iterable: AsyncIterable<FetchedBlock>): Promise<FetchedBlock[]> {
  const out: FetchedBlock[] = []
  for await (const block of iterable) out.push(block)
  return out
}

function source(count: number, size: number): MemorySource {
  const created = new MemorySource()
  for (let at = 0; at < count; at++) created.add(randomBytes(size))
  return created
}

function subset(all: MemorySource, keep: (at: number) => boolean): MemorySource {
  const part = new MemorySource()
  ;[...all.blocks.values()].forEach((bytes, at) => {
    if (keep(at)) part.add(bytes)
  })
  return part
}

async function eventually(predicate: () => boolean, timeout = 5_000): Promise<void> {
  const deadline = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('block exchange between libp2p nodes over TCP on 127.0.0.1', () => {
  it('fetches 200 blocks from 3 peers that each hold a part', async () => {
    const all = source(200, 4096)
    const holders = await Promise.all([0, 1, 2].map((part) => node({ source: subset(all, (at) => at % 3 === part) })))
    const fetcher = await node()
    const peers = await Promise.all(holders.map((holder) => connect(fetcher, holder)))
    const fetched = await collect(fetcher.services.blocks.fetch(all.blocks.keys(), { peers }))
    assert.equal(fetched.length, 200)
    for (const block of fetched) assert.deepEqual(block.bytes, all.blocks.get(block.id))
    for (const [at, holder] of holders.entries()) {
      assert.equal(holder.services.blocks.server.stats.blocksServed, [67, 67, 66][at])
    }
  })

  it('accepts zero bad blocks from a tampering peer, fetches all from honest ones, and disconnects the liar', async () => {
    const all = source(200, 4096)
    const forged: BlockSource = {
      has: (id) => all.has(id),
      get: async (id) => {
        const bytes = all.blocks.get(id)?.slice()
        if (bytes !== undefined) bytes[bytes.byteLength - 1] = (bytes.at(-1) ?? 0) ^ 1
        return bytes
      },
    }
    const liar = await node({ source: forged })
    const honest = await Promise.all([0, 1].map((part) => node({ source: subset(all, (at) => at % 2 === part) })))
    const fetcher = await node()
    const liarId = await connect(fetcher, liar)
    const honestIds = await Promise.all(honest.map((peer) => connect(fetcher, peer)))
    const ids = [...all.blocks.keys()]
    const received = new Map<BlockId, Uint8Array>()
    // Three sessions: one bad block each takes the liar out of a session, the third gets it disconnected.
    for (const batch of [ids.slice(0, 70), ids.slice(70, 140), ids.slice(140)]) {
      for (const block of await collect(fetcher.services.blocks.fetch(batch, { peers: [liarId, ...honestIds] }))) {
        assert.equal(sha256Hex(block.bytes), block.id, 'every yielded block verifies')
        assert.notEqual(block.peer.toString(), liarId.toString())
        received.set(block.id, block.bytes)
      }
    }
    assert.equal(received.size, 200)
    for (const [id, bytes] of received) assert.deepEqual(bytes, all.blocks.get(id))
    const { scores, client } = fetcher.services.blocks
    assert.ok(client.stats.badBlocks >= 3)
    assert.equal(scores.isBanned(liarId), true)
    await eventually(() => fetcher.getConnections(liarId).length === 0)
  })

  it('completes 1,000 concurrent wants', async () => {
    const all = source(1000, 512)
    const holder = await node({ source: all })
    const fetcher = await node()
    const peer = await connect(fetcher, holder)
    const ids = [...all.blocks.keys()]
    const results = await Promise.all(ids.map((id) => fetcher.services.blocks.get(id, { peers: [peer] })))
    for (const [at, bytes] of results.entries()) assert.deepEqual(bytes, all.blocks.get(ids[at] as BlockId))
  })

  it('refuses a STORE over quota with the reason, and accepts one within it', async () => {
    const holder = await node({ source: new MemorySource({ quota: 64 * 1024 }) })
    const offerer = await node()
    const peer = await connect(offerer, holder)
    const fits = randomBytes(60 * 1024)
    const overflow = randomBytes(8 * 1024)
    assert.deepEqual(await offerer.services.blocks.store(peer, sha256Hex(fits), fits), { accepted: true })
    const refused = await offerer.services.blocks.store(peer, sha256Hex(overflow), overflow)
    assert.equal(refused.accepted, false)
    assert.equal(!refused.accepted && refused.reason, 'quota')
    assert.match(!refused.accepted ? refused.detail : '', /quota/)
    const back = await offerer.services.blocks.get(sha256Hex(fits), { peers: [peer] })
    assert.deepEqual(back, new Uint8Array(fits))
  })

  it('survives 1,000 random, truncated and oversized frames and keeps serving', async () => {
    const all = source(10, 1024)
    // Fault threshold out of reach so every frame reaches the handler.
    const target = await node({ source: all, limits: { faultThreshold: 1e9 } })
    const fuzzer = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    nodes.push(fuzzer)
    const address = target.getMultiaddrs()[0]
    assert.ok(address)
    await fuzzer.dial(address)
    const valid = encodeFrame({ type: 'want', ids: [...all.blocks.keys()], haveOnly: false, cancel: false }).subarray()
    const garbage = fc.oneof(
      fc
        .uint8Array({ minLength: 1, maxLength: 300 })
        .map((body) => Uint8Array.from([...encodeVarint(body.length), ...body])),
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.integer({ min: 1, max: valid.byteLength - 1 }).map((cut) => valid.slice(0, cut)),
      fc.integer({ min: MAX_FRAME_SIZE + 1, max: 2 ** 28 - 1 }).map((length) => encodeVarint(length)),
    )
    const frames = fc.sample(garbage, { numRuns: 1000, seed: 7 })
    for (let at = 0; at < frames.length; at += 8) {
      await Promise.all(
        frames.slice(at, at + 8).map(async (frame) => {
          const stream = await fuzzer.dialProtocol(target.peerId, BLOCK_PROTOCOL)
          stream.send(frame)
          await stream.close().catch(() => {})
          await new Promise<void>((resolve) => {
            if (stream.status !== 'open') resolve()
            else stream.addEventListener('close', () => resolve(), { once: true })
          })
        }),
      )
    }
    const { stats } = target.services.blocks.server
    assert.equal(stats.streamsAccepted, 1000)
    assert.ok(stats.streamsFailed >= 900, `${stats.streamsFailed} streams failed`)
    const client = await node()
    const peer = await connect(client, target)
    const fetched = await collect(client.services.blocks.fetch(all.blocks.keys(), { peers: [peer] }))
    assert.equal(fetched.length, 10)
  })

  it('disconnects and shuns a peer that keeps sending garbage, serving others meanwhile', async () => {
    const all = source(5, 1024)
    const target = await node({ source: all })
    const fuzzer = await node()
    const fuzzerId = fuzzer.peerId
    await connect(fuzzer, target)
    for (let at = 0; at < 3; at++) {
      const stream = await fuzzer.dialProtocol(target.peerId, BLOCK_PROTOCOL)
      stream.send(new Uint8Array([0x03, 0xde, 0xad, 0xff]))
      await new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true }))
    }
    assert.equal(target.services.blocks.scores.isBanned(fuzzerId), true)
    await eventually(() => target.getConnections(fuzzerId).length === 0)
    const honest = await node()
    const peer = await connect(honest, target)
    assert.equal((await collect(honest.services.blocks.fetch(all.blocks.keys(), { peers: [peer] }))).length, 5)
  })
})

describe('block exchange over the memory transport', () => {
  it('answers have, like and block requests', async () => {
    const all = source(20, 256)
    const holder = await node({ source: all, transport: 'memory' })
    const asker = await node({ transport: 'memory' })
    const peer = await connect(asker, holder)
    const [first] = all.blocks.keys()
    assert.ok(first)
    assert.deepEqual(await asker.services.blocks.has(peer, [first, '0'.repeat(64)]), new Set([first]))
    const likes = await asker.services.blocks.like(peer, first, { minScore: 0, maxResults: 3 })
    assert.equal(likes.length, 3)
    assert.deepEqual(likes[0], { id: first, size: 256 })
    assert.deepEqual(await asker.services.blocks.get(first, { peers: [peer] }), all.blocks.get(first))
    assert.equal(all.requests.get(first), 1)
  })
})
