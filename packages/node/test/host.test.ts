import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type BlockId, idToBytes, likeScore, sha256Hex } from '@libernet/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { ApiClient } from '../src/api/client.ts'
import { readApiFile } from '../src/api/file.ts'
import { backup } from '../src/backup/backup.ts'
import { DEFAULT_CONFIG, loadConfig, type NodeConfig, validateConfig } from '../src/host/config.ts'
import { LibernetNode } from '../src/host/node.ts'
import { closestPeers, peerKey } from '../src/host/xor.ts'
import { restore } from '../src/restore/restore.ts'
import { parseSize } from '../src/util/size.ts'
import { describeTree, runMain, scratch } from './helpers.ts'
import { pseudoRandom, writeTestTree } from './tree.ts'

/** A node on 127.0.0.1 only, no mDNS, no gateway, one codec worker, fast repair for tests. */
function testConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    ...DEFAULT_CONFIG,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    gateway: null,
    replicas: 2,
    repairInterval: 3600,
    holderGrace: 3600,
    fetchTimeout: 5,
    ...overrides,
  }
}

/** A block whose id shares at least `bits` leading bits with `target` (plain bytes, found by trying). */
async function mineNear(target: BlockId, bits: number): Promise<{ id: BlockId; bytes: Uint8Array }> {
  for (let attempt = 0; attempt < 1 << (bits + 6); attempt++) {
    const bytes = new TextEncoder().encode(`near ${attempt}`)
    const id = sha256Hex(bytes) as BlockId
    if (likeScore(target, id) >= bits) return { id, bytes }
  }
  throw new Error('no near block found')
}

async function startNode(dir: string, overrides: Partial<NodeConfig> = {}): Promise<LibernetNode> {
  return LibernetNode.start({ dataDir: dir, config: testConfig(overrides), workers: 1 })
}

/** Polls `check` every 100 ms until it holds, at most `ms`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  for (let round = 0; round < ms / 100; round++) {
    if (await check()) return
    if (Date.now() > deadline) break
    await sleep(100)
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`)
}

describe('node configuration', () => {
  it('parses sizes as people write them', () => {
    assert.equal(parseSize('20GB'), 20e9)
    assert.equal(parseSize('500 MiB'), 500 * 2 ** 20)
    assert.equal(parseSize('1.5k'), 1500)
    assert.equal(parseSize('1048576'), 1_048_576)
    for (const bad of ['', 'GB', '-1GB', '12 parsecs', '1e3']) {
      assert.throws(() => parseSize(bad), { name: 'InvalidArgumentError' }, bad)
    }
  })

  it('refuses config values of the wrong type with a typed error', () => {
    const base = { ...DEFAULT_CONFIG } as Record<string, unknown>
    for (const [key, value] of [
      ['listen', '/ip4/0.0.0.0/tcp/1'],
      ['replicas', 0],
      ['replicas', 1.5],
      ['quota', -1],
      ['mdns', 'yes'],
      ['gateway', { host: '127.0.0.1', port: 70_000 }],
      ['fetchTimeout', 0],
    ] as const) {
      assert.throws(() => validateConfig({ ...base, [key]: value }), { name: 'InvalidArgumentError' }, key)
    }
    assert.deepEqual(validateConfig(base), DEFAULT_CONFIG)
  })

  it('writes config.json on first use and reports a broken one', async () => {
    const { dir, cleanup } = scratch('config')
    try {
      assert.deepEqual(await loadConfig(dir), DEFAULT_CONFIG)
      writeFileSync(join(dir, 'config.json'), '{"replicas": "three"}')
      await assert.rejects(loadConfig(dir), { name: 'DataDirectoryError' })
      writeFileSync(join(dir, 'config.json'), '{not json')
      await assert.rejects(loadConfig(dir), { name: 'DataDirectoryError' })
    } finally {
      cleanup()
    }
  })
})

describe('XOR placement', () => {
  it('orders peers by XOR distance of their DHT key to the block id', async () => {
    const peers = await Promise.all(
      Array.from({ length: 8 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))),
    )
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const id = sha256Hex(seed) as BlockId
        const target = idToBytes(id)
        const ordered = closestPeers(id, peers)
        const distance = (peer: PeerId): bigint => {
          const key = peerKey(peer)
          return BigInt(`0x${Buffer.from(key.map((byte, at) => byte ^ target[at]!)).toString('hex')}`)
        }
        for (let at = 1; at < ordered.length; at++) {
          assert.ok(distance(ordered[at - 1]!) <= distance(ordered[at]!))
        }
        assert.equal(new Set(ordered.map(String)).size, peers.length)
      }),
      { numRuns: 200 },
    )
  })
})

describe('a node on its own', () => {
  it('keeps its peer id and blocks across restarts', async () => {
    const { dir, cleanup } = scratch('identity')
    try {
      const first = await startNode(dir)
      const bytes = new TextEncoder().encode('kept across restarts')
      const id = sha256Hex(bytes) as BlockId
      await first.store.put(id, bytes)
      const peerId = first.peerId
      await first.stop()
      const second = await startNode(dir)
      try {
        assert.equal(second.peerId, peerId)
        assert.deepEqual(await second.store.get(id), bytes)
      } finally {
        await second.stop()
      }
    } finally {
      cleanup()
    }
  })

  it('answers a missing block with undefined once the network had its chance', async () => {
    const { dir, cleanup } = scratch('alone')
    const node = await startNode(dir, { fetchTimeout: 1 })
    try {
      const started = Date.now()
      assert.equal(await node.store.get(sha256Hex(new Uint8Array([1, 2, 3])) as BlockId), undefined)
      assert.ok(Date.now() - started < 5_000)
    } finally {
      await node.stop()
      cleanup()
    }
  })

  it('refuses unusable --user arguments with a usage error, before touching anything', async () => {
    const { dir, cleanup } = scratch('user-args')
    const saved = process.env.LIBERNET_PASSPHRASE
    delete process.env.LIBERNET_PASSPHRASE
    try {
      const target = join(dir, 'target')
      const noPassphrase = await runMain(['--data', join(dir, 'data'), 'restore', '--user', 'alice', target])
      assert.equal(noPassphrase.code, 2, noPassphrase.stderr)
      assert.match(noPassphrase.stderr, /needs a passphrase: set LIBERNET_PASSPHRASE/)
      const restoreAlice = ['--data', join(dir, 'data'), 'restore', '--user', 'alice', '--passphrase', 'p']
      const months = await runMain([...restoreAlice, '--months', '0', target])
      assert.equal(months.code, 2, months.stderr)
      assert.match(months.stderr, /--months must be a positive whole number/)
      const both = await runMain([...restoreAlice, target, 'extra'])
      assert.equal(both.code, 2, both.stderr)
      assert.equal(existsSync(target), false, 'nothing was written')
    } finally {
      if (saved !== undefined) process.env.LIBERNET_PASSPHRASE = saved
      cleanup()
    }
  })

  it('commands that need a node exit 6 when none runs', async () => {
    const { dir, cleanup } = scratch('no-node')
    try {
      for (const command of [['peers'], ['status'], ['providers', 'a'.repeat(64)]]) {
        const result = await runMain(['--data', dir, ...command])
        assert.equal(result.code, 6, result.stderr)
        assert.match(result.stderr, /needs a running node/)
      }
    } finally {
      cleanup()
    }
  })
})

describe('a network of nodes on 127.0.0.1', () => {
  const dirs: Array<{ dir: string; cleanup: () => void }> = []
  const nodes: LibernetNode[] = []
  let source: string

  const spawnNode = async (overrides: Partial<NodeConfig> = {}): Promise<LibernetNode> => {
    const scratchDir = scratch('net')
    dirs.push(scratchDir)
    const bootstrap = nodes.length === 0 ? [] : [nodes[0]!.addresses()[0]!]
    const node = await startNode(scratchDir.dir, { bootstrap, holderGrace: 0.5, ...overrides })
    nodes.push(node)
    return node
  }

  before(async () => {
    const tree = scratch('net-source')
    dirs.push(tree)
    source = tree.dir
    writeTestTree(source)
    writeFileSync(join(source, 'large.bin'), pseudoRandom('large', 3 * 1024 * 1024))
  })

  after(async () => {
    for (const node of nodes) await node.stop().catch(() => {})
    for (const { cleanup } of dirs) cleanup()
  })

  it('replicates a backup to r peers, finds providers on the DHT and restores on a fresh node', async () => {
    const owner = await spawnNode({ replicas: 2 })
    const peerA = await spawnNode()
    const peerB = await spawnNode()
    await eventually('peers to connect', async () => (await owner.peers.blockPeers()).length === 2)

    const result = await backup(source, { store: owner.store, pool: owner.pool, snapshots: owner.snapshots })
    await eventually('2 replicas of every block', async () => {
      const health = await owner.replicator.health(result.url)
      return health.blocks > 0 && health.replicated === health.blocks && health.minReplicas >= 2
    })
    const held = owner.peerStatuses()
    assert.equal(held.length, 2)
    const blocks = (await owner.replicator.health(result.url)).blocks
    for (const peer of held) assert.equal(peer.replicasHeld, blocks, 'each of two peers holds every block (r = 2)')
    assert.ok(peerA.blockstore.stats().blocks === blocks && peerB.blockstore.stats().blocks === blocks)
    assert.equal(peerA.blockstore.stats().pinnedBlocks, 0, 'replicas are kept for others, not pinned')

    const status = await owner.status()
    assert.equal(status.snapshots.length, 1)
    assert.equal(status.snapshots[0]!.replication.replicated, blocks)
    assert.equal(status.traffic.blocksReplicated, 2 * blocks)

    const rootId = result.url.split('/')[2] as BlockId
    await eventually('a DHT provider record for the root', async () => {
      const providers = await peerB.providers(rootId, { signal: AbortSignal.timeout(3_000) })
      return providers.includes(owner.peerId) || providers.includes(peerA.peerId)
    })

    const fresh = await spawnNode()
    await eventually('the fresh node to connect', async () => (await fresh.peers.blockPeers()).length >= 1)
    const target = scratch('net-restore')
    dirs.push(target)
    await restore(result.url, target.dir, { store: fresh.store, pool: fresh.pool })
    assert.deepEqual(describeTree(target.dir), describeTree(source))
    // What it fetched for its user it now keeps as cache (unpinned) and serves to others.
    const fetched = (await fresh.status()).traffic.blocksFetched
    assert.ok(fetched >= blocks - 1, `fetched ${fetched} of ${blocks} blocks (an empty part needs none)`)
    assert.equal(fresh.blockstore.stats().blocks, fetched)
    assert.equal(fresh.blockstore.stats().pinnedBlocks, 0)
  })

  it('re-replicates when a holder stays away longer than the grace period', async () => {
    const owner = nodes[0]!
    const holder = nodes[1]!
    const [root] = owner.blockstore.pins()
    assert.ok(root !== undefined)
    // A fourth node is there to take the copies over; repair runs often and waits little.
    await spawnNode()
    await eventually('the new node to connect', async () => (await owner.peers.blockPeers()).length === 4)
    const repairing = await LibernetNode.start({
      dataDir: owner.dataDir,
      config: testConfig(),
      workers: 1,
    }).catch((err: Error) => err)
    assert.equal((repairing as Error).name, 'StoreLockedError', 'one node per data directory')

    await holder.stop()
    nodes.splice(1, 1)
    await eventually('the holder to be gone', () => !owner.peers.isConnected(holder.peerId))
    // The network runs with a 0.5 s grace: past it, the repair pass places the copies elsewhere.
    await sleep(600)
    owner.replicator.repairAll()
    await owner.replicator.idle()
    const health = await owner.replicator.health(root.url)
    assert.equal(health.replicated, health.blocks, 'every block has 2 live replicas again')
    assert.ok(
      owner.blockstore.replicasOf(root.url.split('/')[2] as BlockId).every((peer) => peer !== holder.peerId),
      'the departed holder is forgotten',
    )
  })

  it('skips peers whose quota is full and places the copy on the next closest', async () => {
    const owner = nodes[0]!
    const full = await spawnNode({ quota: 0 })
    await eventually('the full node to connect', async () =>
      (await owner.peers.blockPeers()).some((peer) => peer.toString() === full.peerId),
    )
    const bytes = new TextEncoder().encode(`quota test ${Date.now()}`)
    const id = sha256Hex(bytes) as BlockId
    const outcome = await owner.host.services.blocks.store(full.host.peerId, id, bytes)
    assert.deepEqual(
      { accepted: outcome.accepted, reason: outcome.accepted ? undefined : outcome.reason },
      { accepted: false, reason: 'quota' },
    )
    assert.equal(full.blockstore.hasBlock(id), false)
  })

  it('answers like queries from its own store and the closest peers, ranked by score', async () => {
    const [asker, holder] = nodes as [LibernetNode, LibernetNode]
    const target = sha256Hex(new TextEncoder().encode('like target')) as BlockId
    const near = await mineNear(target, 8)
    await holder.store.put(near.id, near.bytes)
    const local = new TextEncoder().encode('held by the asker')
    await asker.store.put(sha256Hex(local) as BlockId, local)
    const matches = await asker.like(target, { limit: 10, minScore: 8 })
    const found = matches.find((match) => match.id === near.id)
    assert.ok(found !== undefined, "a peer's block is found")
    assert.equal(found.score, likeScore(target, near.id))
    assert.equal(found.size, near.bytes.length)
    for (let at = 1; at < matches.length; at++) assert.ok(matches[at - 1]!.score >= matches[at]!.score)
    assert.ok(matches.every((match) => match.score >= 8))
  })

  it('serves the loopback API only with its token', async () => {
    const { dir, cleanup } = scratch('api')
    dirs.push({ dir, cleanup })
    const { startApiServer } = await import('../src/api/server.ts')
    const node = nodes[0]!
    const api = await startApiServer(node, 'secret-token')
    try {
      const denied = await fetch(`${api.url}/api/v0/status`)
      assert.equal(denied.status, 401)
      const client = new ApiClient({
        url: api.url,
        token: 'secret-token',
        peerId: node.peerId,
        addresses: [],
        pid: process.pid,
        gateway: null,
      })
      assert.equal((await client.status()).peerId, node.peerId)
      const store = client.store()
      await assert.rejects(store.put('zz' as BlockId, new Uint8Array(1)), { name: 'InvalidIdError' })
      const bytes = new TextEncoder().encode('through the api')
      await assert.rejects(store.put(sha256Hex(new Uint8Array(0)) as BlockId, bytes), {
        name: 'BlockVerificationError',
      })
      assert.equal(await store.put(sha256Hex(bytes) as BlockId, bytes), true)
      assert.deepEqual(await store.get(sha256Hex(bytes) as BlockId), bytes)
      const oversized = await fetch(`${api.url}/api/v0/blocks/${'a'.repeat(64)}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer secret-token' },
        body: new Uint8Array(2 * 1024 * 1024),
      })
      assert.equal(oversized.status, 413)
      assert.equal(await readApiFile(dir), undefined, 'no node runs on an empty directory')
    } finally {
      await api.close()
    }
  })
})

describe('repair', () => {
  it('asks holders about every pinned root, and puts back what a holder dropped', async () => {
    const dirs = [scratch('repair-owner'), scratch('repair-holder'), scratch('repair-a'), scratch('repair-b')]
    const owner = await startNode(dirs[0]!.dir, { replicas: 1 })
    const holder = await startNode(dirs[1]!.dir, { bootstrap: [owner.addresses()[0]!] })
    try {
      await eventually('the holder to connect', async () => (await owner.peers.blockPeers()).length === 1)
      const roots: string[] = []
      for (const [folder, seed] of [
        [dirs[2]!.dir, 'repair-a'],
        [dirs[3]!.dir, 'repair-b'],
      ] as const) {
        writeFileSync(join(folder, 'data.bin'), pseudoRandom(seed, 300_000))
        roots.push((await backup(folder, { store: owner.store, pool: owner.pool, snapshots: owner.snapshots })).url)
      }
      await eventually('one copy of every block of both roots', async () => {
        for (const root of roots) {
          const health = await owner.replicator.health(root)
          if (health.blocks === 0 || health.replicated !== health.blocks) return false
        }
        return true
      })
      const copies = [...holder.blockstore.ids()]
      assert.ok(copies.length > 2)
      // The holder loses its copies (evicted, or a disk replaced) without telling anyone.
      for (const id of copies) await holder.blockstore.deleteBlock(id)
      owner.replicator.repairAll()
      await owner.replicator.idle()
      assert.deepEqual([...holder.blockstore.ids()], copies, 'the copies of both roots are back')
    } finally {
      await holder.stop()
      await owner.stop()
      for (const { cleanup } of dirs) cleanup()
    }
  })
})
