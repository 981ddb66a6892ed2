/**
 * Clusters of real `libernet start` processes on 127.0.0.1 (mDNS off, node 1
 * the bootstrap of the others), driven through the CLI as a user would.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parseUrl } from '@libernet/core'
import {
  Cluster,
  describeTree,
  type LibernetNode,
  type NodeStatus,
  poll,
  pseudoRandom,
  type SnapshotStatus,
  writeDataset,
} from './cluster.ts'

const scratch = mkdtempSync(join(tmpdir(), 'libernet-cluster-test-'))
const clusters: Cluster[] = []
// Each test closes its own cluster; this catches one whose test was cancelled by its timeout.
after(async () => {
  await Promise.all(clusters.map((cluster) => cluster.close()))
  rmSync(scratch, { recursive: true, force: true })
})

async function startCluster(count: number, options: ConstructorParameters<typeof Cluster>[0] = {}): Promise<Cluster> {
  const cluster = await Cluster.start(count, options)
  clusters.push(cluster)
  return cluster
}

/** Waits until `node` lists at least `count` peers. */
async function waitForPeers(node: LibernetNode, count: number, timeoutMs = 30_000): Promise<void> {
  let seen = 0
  await poll(
    `${node.name} to list ${count} peers`,
    async () => {
      seen = (await node.peers()).length
      return seen >= count ? true : undefined
    },
    { timeoutMs, intervalMs: 300, describe: () => `${seen} peers` },
  )
}

function snapshotOf(status: NodeStatus, url: string): SnapshotStatus | undefined {
  return status.snapshots.find((snapshot) => snapshot.url === url)
}

function timer(): () => number {
  const started = Date.now()
  return () => Date.now() - started
}

describe('five nodes, r = 3', () => {
  it('any two replica holders and the owner may go: a new node still restores byte-identical', {
    timeout: 180_000,
  }, async () => {
    const total = timer()
    const cluster = await startCluster(5, { replicas: 3 })
    const [a, ...others] = cluster.nodes as [LibernetNode, ...LibernetNode[]]
    const started = total()
    try {
      await waitForPeers(a, 4)
      const connected = total()

      const folder = join(scratch, 'replicated')
      const bytes = writeDataset(folder, 4 * 1024 * 1024, 'replicated')
      const backupTime = timer()
      const { url } = await a.backup(folder)
      const backedUp = backupTime()

      let last: SnapshotStatus | undefined
      const replicated = await poll(
        'the snapshot to reach 3 confirmed replicas on every block',
        async () => {
          last = snapshotOf(await a.status(), url)
          return last !== undefined && last.replication.minReplicas >= 3 ? last : undefined
        },
        { timeoutMs: 60_000, intervalMs: 500, describe: () => JSON.stringify(last ?? 'snapshot not in status') },
      )
      const replicatedAfter = backupTime()
      assert.ok(replicated.replication.blocks > 0, 'the snapshot has blocks')
      assert.equal(replicated.replication.replicated, replicated.replication.blocks, 'every block is replicated')
      assert.equal(replicated.replication.localOnly, 0)
      assert.equal(replicated.replication.underReplicated, 0)

      const holders = (await a.peers())
        .filter((peer) => peer.replicasHeld > 0)
        .sort((x, y) => y.replicasHeld - x.replicasHeld)
      assert.ok(holders.length >= 3, `at least 3 peers hold replicas: ${JSON.stringify(holders)}`)
      const held = holders.reduce((sum, peer) => sum + peer.replicasHeld, 0)
      assert.ok(
        held >= 3 * replicated.replication.blocks,
        `${held} replicas held for ${replicated.replication.blocks} blocks`,
      )

      // The two that hold the most go without warning, the owner goes cleanly.
      const victims = holders.slice(0, 2).map((peer) => {
        const node = others.find((candidate) => candidate.peerId === peer.id)
        assert.ok(node !== undefined, `holder ${peer.id} is one of the cluster's nodes`)
        return node
      })
      await Promise.all(victims.map((node) => node.kill()))
      const stopped = await a.stop()
      assert.ok(stopped.graceful, `a stopped by itself on SIGTERM (${JSON.stringify(stopped)})`)

      const survivor = others.find((node) => node.running)
      assert.ok(survivor !== undefined)
      const fresh = cluster.create({ bootstrap: [survivor.address], replicas: 3 })
      await fresh.start()
      await waitForPeers(fresh, 1)
      const restoreTime = timer()
      const target = join(scratch, 'restored')
      await fresh.restore(url, target)
      const restored = restoreTime()
      assert.deepEqual(describeTree(target), describeTree(folder), 'the restored tree is byte-identical')

      console.log(
        `cluster(a): ${bytes} bytes in ${replicated.replication.blocks} blocks; 5 nodes up ${started} ms, ` +
          `connected ${connected} ms; backup ${backedUp} ms; 3 replicas after ${replicatedAfter} ms; ` +
          `restore on a new node after losing ${victims.length} holders and the owner ${restored} ms; total ${total()} ms`,
      )
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err })
    } finally {
      await cluster.close()
    }
  })
})

describe('restarting a node', () => {
  it('keeps its peer id and its data after a graceful stop and after SIGKILL', { timeout: 120_000 }, async () => {
    const total = timer()
    const cluster = await startCluster(1)
    const node = cluster.node(1)
    try {
      const firstId = node.peerId
      const api = JSON.parse(readFileSync(join(node.dataDir, 'api'), 'utf8')) as Record<string, unknown>
      assert.match(String(api.url), /^http:\/\/127\.0\.0\.1:\d+$/, 'the API listens on loopback')
      assert.match(firstId, /^12D3Koo[1-9A-HJ-NP-Za-km-z]+$/, 'an Ed25519 peer id')
      assert.equal(api.pid, node.pid)
      assert.equal(api.gateway, null, '--no-gateway')
      assert.ok(Array.isArray(api.addresses) && api.addresses.length > 0)
      for (const address of api.addresses as string[]) {
        assert.match(address, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${firstId}$`))
      }
      const file = join(scratch, 'kept.bin')
      const bytes = pseudoRandom('kept', 300_000)
      writeFileSync(file, bytes)
      const url = await node.put(file)
      const folder = join(scratch, 'kept-folder')
      writeDataset(folder, 1024 * 1024, 'kept')
      const snapshot = (await node.backup(folder)).url

      const expectKept = async (round: string): Promise<void> => {
        assert.equal(node.peerId, firstId, `${round}: same peer id`)
        const out = join(scratch, `kept-${round}.bin`)
        await node.get(url, out)
        assert.deepEqual(readFileSync(out), bytes, `${round}: the put file is still there`)
        const status = await node.status()
        assert.equal(status.peerId, firstId, `${round}: status reports the same peer id`)
        assert.ok(snapshotOf(status, snapshot) !== undefined, `${round}: the snapshot is still listed`)
        const target = join(scratch, `kept-${round}`)
        await node.restore(snapshot, target)
        assert.deepEqual(describeTree(target), describeTree(folder), `${round}: the snapshot restores`)
      }

      const apiFile = join(node.dataDir, 'api')
      const stopped = await node.stop()
      assert.ok(stopped.graceful, `exits by itself on SIGTERM: ${JSON.stringify(stopped)}`)
      assert.equal(stopped.signal, null, 'exits, not killed by the signal')
      assert.equal(existsSync(apiFile), false, 'a graceful stop removes the api file')
      await node.start()
      await expectKept('graceful')

      await node.kill()
      assert.equal(existsSync(apiFile), true, 'SIGKILL leaves the api file behind')
      await node.start()
      await expectKept('sigkill')
      console.log(`cluster(b): restarts and checks in ${total()} ms (graceful stop took ${stopped.ms} ms)`)
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err })
    } finally {
      await cluster.close()
    }
  })

  it('after SIGKILL, commands on its data directory work offline despite the stale api file', {
    timeout: 60_000,
  }, async () => {
    const cluster = await startCluster(1)
    const node = cluster.node(1)
    try {
      const file = join(scratch, 'offline.bin')
      const bytes = pseudoRandom('offline', 100_000)
      writeFileSync(file, bytes)
      const url = await node.put(file)
      await node.kill()
      const out = join(scratch, 'offline-out.bin')
      await node.get(url, out)
      assert.deepEqual(readFileSync(out), bytes)
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err })
    } finally {
      await cluster.close()
    }
  })
})

describe('DHT content routing', () => {
  it('a block put on node 3 is found as provided by node 3 from node 5', { timeout: 120_000 }, async () => {
    const total = timer()
    const cluster = await startCluster(5)
    const [third, fifth] = [cluster.node(3), cluster.node(5)]
    try {
      const file = join(scratch, 'provided.bin')
      writeFileSync(file, pseudoRandom('provided', 50_000))
      const url = await third.put(file)
      const { id } = parseUrl(url)
      const putAt = total()

      let seen: string[] = []
      const lookup = timer()
      await poll(
        `node 5 to find node 3 (${third.peerId}) among the providers of ${id}`,
        async () => {
          seen = await fifth.providers(id)
          return seen.includes(third.peerId) ? true : undefined
        },
        { timeoutMs: 30_000, intervalMs: 500, describe: () => JSON.stringify(seen) },
      )
      console.log(`cluster(c): put at ${putAt} ms; provider found after ${lookup()} ms; total ${total()} ms`)
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`, { cause: err })
    } finally {
      await cluster.close()
    }
  })
})
