import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { BlockId } from '@libernet/core'
import { sha256Hex } from '@libernet/core'
import type { PeerId, Stream } from '@libp2p/interface'
import { BlockClient, type BlockClientInit, type FetchedBlock } from '../src/client.ts'
import { BlockNotFoundError, PeerUnavailableError, RequestTimeoutError } from '../src/errors.ts'
import { PeerScores } from '../src/scores.ts'
import { BlockServer } from '../src/server.ts'
import type { BlockSource } from '../src/store.ts'
import { MemorySource } from './fixtures/memory-source.ts'
import { FakeNetwork, randomPeerId } from './fixtures/pairs.ts'

const networks: FakeNetwork[] = []
after(() => {
  for (const network of networks) network.close()
})

async function network(): Promise<FakeNetwork> {
  const created = await FakeNetwork.create()
  networks.push(created)
  return created
}

async function collect(iterable: AsyncIterable<FetchedBlock>): Promise<FetchedBlock[]> {
  const out: FetchedBlock[] = []
  for await (const block of iterable) out.push(block)
  return out
}

function blocks(count: number, size = 2000): MemorySource {
  const source = new MemorySource()
  for (let at = 0; at < count; at++) source.add(randomBytes(size))
  return source
}

/** A server on `net` for a new peer id; returns the peer id. */
async function serve(net: FakeNetwork, source: BlockSource, server?: BlockServer): Promise<PeerId> {
  const peer = await randomPeerId()
  const handler = server ?? new BlockServer({ source })
  net.serve(peer, (stream, connection) => handler.handleStream(stream, connection))
  return peer
}

/** A peer that reads everything and never answers. */
async function silent(net: FakeNetwork): Promise<PeerId> {
  const peer = await randomPeerId()
  net.serve(peer, (stream: Stream) => {
    stream.addEventListener('message', () => {})
  })
  return peer
}

/** A source that has every block of `inner` but serves each with one byte flipped. */
function tampering(inner: MemorySource): BlockSource {
  return {
    has: (id) => inner.has(id),
    get: async (id) => {
      const bytes = inner.blocks.get(id)
      if (bytes === undefined) return undefined
      const forged = bytes.slice()
      forged[0] = (forged[0] ?? 0) ^ 0xff
      return forged
    },
  }
}

function subset(all: MemorySource, ids: BlockId[]): MemorySource {
  const part = new MemorySource()
  for (const id of ids) part.add(all.blocks.get(id) as Uint8Array)
  return part
}

function client(net: FakeNetwork, init: Partial<BlockClientInit> = {}): BlockClient {
  return new BlockClient({ open: net.open, ...init })
}

describe('BlockClient.fetch', () => {
  it('fetches every block once from peers that each hold a part, spreading the wants', async () => {
    const net = await network()
    const all = blocks(60)
    const ids = [...all.blocks.keys()]
    const parts = [0, 1, 2].map((part) => {
      const source = new MemorySource()
      // Each peer holds its third plus the next third's first half: some overlap, full coverage.
      ids.forEach((id, at) => {
        if (Math.floor(at / 20) === part || (Math.floor(at / 20) === (part + 1) % 3 && at % 20 < 10)) {
          source.add(all.blocks.get(id) as Uint8Array)
        }
      })
      return source
    })
    const peers = await Promise.all(parts.map((source) => serve(net, source)))
    const fetcher = client(net, { limits: { wantsPerPeer: 4 } })
    const fetched = await collect(fetcher.fetch([...ids, ...ids.slice(0, 5)], { peers }))
    assert.equal(fetched.length, ids.length, 'duplicates in the request are fetched once')
    assert.deepEqual(new Set(fetched.map((block) => block.id)), new Set(ids))
    for (const block of fetched) assert.deepEqual(block.bytes, all.blocks.get(block.id))
    const sources = new Set(fetched.map((block) => block.peer.toString()))
    assert.equal(sources.size, 3, 'all three peers supplied blocks')
    fetcher.close()
  })

  it('yields nothing that fails verification, fetching every block from honest peers instead', async () => {
    const net = await network()
    const all = blocks(40)
    const ids = [...all.blocks.keys()]
    const scores = new PeerScores({ faultThreshold: 3 })
    const liar = await serve(net, tampering(all))
    const honest = await serve(net, all)
    const fetcher = client(net, { scores })
    // The liar is listed first and so gets the first wants.
    const fetched = await collect(fetcher.fetch(ids, { peers: [liar, honest] }))
    assert.equal(fetched.length, ids.length)
    for (const block of fetched) {
      assert.equal(block.peer.toString(), honest.toString())
      assert.equal(sha256Hex(block.bytes), block.id)
    }
    assert.ok(fetcher.stats.badBlocks >= 1)
    assert.ok(scores.faults(liar) >= 1)
    // A second session still avoids the liar once it is shunned.
    scores.penalize(liar, 'bad-block')
    scores.penalize(liar, 'bad-block')
    assert.equal(scores.isBanned(liar), true)
    const before = fetcher.stats.badBlocks
    const again = await collect(fetcher.fetch(ids.slice(0, 10), { peers: [liar, honest] }))
    assert.equal(again.length, 10)
    assert.equal(fetcher.stats.badBlocks, before, 'a shunned peer is not asked')
    fetcher.close()
  })

  it('moves wants on DONT_HAVE, on silence and off unreachable peers', async () => {
    const net = await network()
    const all = blocks(20)
    const ids = [...all.blocks.keys()]
    const empty = await serve(net, new MemorySource())
    const quiet = await silent(net)
    const unreachable = await randomPeerId()
    const holder = await serve(net, all)
    const fetcher = client(net, { limits: { wantTimeout: 200 } })
    const started = performance.now()
    const fetched = await collect(fetcher.fetch(ids, { peers: [unreachable, empty, quiet, holder] }))
    assert.equal(fetched.length, ids.length)
    assert.ok(fetcher.stats.dontHaves > 0)
    assert.ok(fetcher.stats.timeouts > 0)
    assert.ok(performance.now() - started < 5_000)
    assert.ok(fetcher.scores.faults(quiet) > 0, 'silence counts, lightly')
    fetcher.close()
  })

  it('moves a want that one peer withholds while it answers others', async () => {
    const net = await network()
    const all = blocks(30)
    const ids = [...all.blocks.keys()]
    const withheld = ids[0] as BlockId
    const stubborn: BlockSource = {
      has: (id) => all.has(id),
      get: (id) => (id === withheld ? new Promise<undefined>(() => {}) : all.get(id)),
    }
    const slow = await serve(net, stubborn)
    const backup = await serve(net, subset(all, [withheld]))
    const fetcher = client(net, { limits: { wantTimeout: 100, wantsPerPeer: 8 } })
    const fetched = await collect(fetcher.fetch(ids, { peers: [slow, backup] }))
    assert.equal(fetched.length, ids.length)
    assert.equal(fetched.find((block) => block.id === withheld)?.peer.toString(), backup.toString())
    fetcher.close()
  })

  it('ends with BlockNotFoundError naming the blocks no peer had, after yielding the rest', async () => {
    const net = await network()
    const all = blocks(5)
    const ids = [...all.blocks.keys()]
    const missing = ['0'.repeat(64), '1'.repeat(64)]
    const peers = [await serve(net, all), await serve(net, new MemorySource())]
    const fetcher = client(net)
    const fetched: FetchedBlock[] = []
    await assert.rejects(
      async () => {
        for await (const block of fetcher.fetch([...ids, ...missing], { peers })) fetched.push(block)
      },
      (err: Error) => {
        assert.ok(err instanceof BlockNotFoundError)
        assert.equal(err.name, 'BlockNotFoundError')
        assert.deepEqual(new Set(err.ids), new Set(missing))
        return true
      },
    )
    assert.equal(fetched.length, ids.length)
    await assert.rejects(fetcher.get(missing[0] as BlockId, { peers }), { name: 'BlockNotFoundError' })
    await assert.rejects(collect(fetcher.fetch(ids, { peers: [] })), { name: 'BlockNotFoundError' })
    fetcher.close()
  })

  it('stops on abort with AbortError, withdrawing its wants', async () => {
    const net = await network()
    const quiet = await silent(net)
    const fetcher = client(net)
    const controller = new AbortController()
    const iteration = collect(
      fetcher.fetch(['a'.repeat(64), 'b'.repeat(64)], { peers: [quiet], signal: controller.signal }),
    )
    setTimeout(() => controller.abort(), 30)
    await assert.rejects(iteration, { name: 'AbortError' })
    assert.equal(fetcher.channel(quiet).outstanding, 0)
    await assert.rejects(collect(fetcher.fetch(['a'.repeat(64)], { peers: [quiet], signal: AbortSignal.abort() })), {
      name: 'AbortError',
    })
    fetcher.close()
  })

  it('refuses ids that are not block ids', async () => {
    const net = await network()
    const fetcher = client(net)
    assert.throws(() => fetcher.fetch(['ABC'], { peers: [] }), { name: 'InvalidIdError' })
  })

  it('completes 1,000 concurrent gets sharing one stream per peer', async () => {
    const net = await network()
    const all = blocks(1000, 64)
    const ids = [...all.blocks.keys()]
    const peers = [await serve(net, all)]
    const fetcher = client(net)
    const results = await Promise.all(ids.map((id) => fetcher.get(id, { peers })))
    for (const [at, bytes] of results.entries()) assert.deepEqual(bytes, all.blocks.get(ids[at] as BlockId))
    assert.equal(net.opened.length, 2, 'one stream pair')
    fetcher.close()
  })

  it('shuns a server that breaks the wire format', async () => {
    const net = await network()
    const peer = await randomPeerId()
    net.serve(peer, (stream) => {
      stream.addEventListener('message', () => stream.send(new Uint8Array([0x05, 1, 2, 3, 4, 5])))
    })
    const scores = new PeerScores({ faultThreshold: 1 })
    const fetcher = client(net, { scores })
    await assert.rejects(collect(fetcher.fetch(['c'.repeat(64)], { peers: [peer] })), { name: 'BlockNotFoundError' })
    assert.equal(scores.isBanned(peer), true)
  })
})

describe('BlockClient requests', () => {
  it('asks which blocks a peer has, offers blocks, and queries likes', async () => {
    const net = await network()
    const source = new MemorySource({ quota: 5000 })
    const held = source.add(randomBytes(100))
    const peer = await serve(net, source)
    const fetcher = client(net)
    assert.deepEqual(await fetcher.has(peer, [held, 'd'.repeat(64)]), new Set([held]))
    const offered = randomBytes(1000)
    assert.deepEqual(await fetcher.store(peer, sha256Hex(offered), offered), { accepted: true })
    const big = randomBytes(6000)
    const refused = await fetcher.store(peer, sha256Hex(big), big)
    assert.equal(refused.accepted, false)
    assert.equal(!refused.accepted && refused.reason, 'quota')
    const matches = await fetcher.like(peer, held, { maxResults: 1 })
    assert.deepEqual(matches, [{ id: held, size: 100 }])
    fetcher.close()
  })

  it('fails with RequestTimeoutError when a peer is silent and PeerUnavailableError when it cannot be reached', async () => {
    const net = await network()
    const quiet = await silent(net)
    const fetcher = client(net)
    await assert.rejects(fetcher.has(quiet, ['e'.repeat(64)], { timeout: 50 }), (err: Error) => {
      assert.ok(err instanceof RequestTimeoutError)
      assert.equal(err.name, 'RequestTimeoutError')
      return true
    })
    const nowhere = await randomPeerId()
    await assert.rejects(fetcher.store(nowhere, 'e'.repeat(64), new Uint8Array(1)), (err: Error) => {
      assert.ok(err instanceof PeerUnavailableError)
      assert.equal(err.name, 'PeerUnavailableError')
      return true
    })
    await assert.rejects(fetcher.like(quiet, 'e'.repeat(64), {}, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    })
    fetcher.close()
  })
})
