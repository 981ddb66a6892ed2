/**
 * Rendezvous across real node processes: backups found again on a fresh
 * node with nothing but a user name and a passphrase.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Cluster, describeTree, type LibernetNode, poll, requireSuccess, writeDataset } from './cluster.ts'

const scratch = mkdtempSync(join(tmpdir(), 'libernet-rendezvous-test-'))
let cluster: Cluster | undefined
after(async () => {
  await cluster?.close()
  rmSync(scratch, { recursive: true, force: true })
})

const PASSPHRASE = 'correct horse battery staple'

async function backupAs(node: LibernetNode, user: string, machine: string, folder: string, passphrase = PASSPHRASE) {
  const result = requireSuccess(
    await node.cli(
      ['--json', 'backup', '--user', user, '--machine', machine, '--passphrase', passphrase, folder],
      120_000,
    ),
  )
  return JSON.parse(result.stdout) as { url: string; index: { url: string; score: number } }
}

/** The folder path as restore lays it out under DIR/{machine}/ when it restores several snapshots. */
function under(directory: string, machine: string, folder: string): string {
  return join(directory, machine, ...folder.split('/').filter((segment) => segment !== ''))
}

describe('passphrase rendezvous over the network', () => {
  it('a fresh node restores both machines of a user by name and passphrase, and nothing of anyone else', {
    timeout: 240_000,
  }, async () => {
    cluster = await Cluster.start(3, { replicas: 2 })
    const [laptop, desktop, other] = [cluster.node(1), cluster.node(2), cluster.node(3)]
    const photos = join(scratch, 'photos')
    const papers = join(scratch, 'papers')
    const bobs = join(scratch, 'bobs')
    for (const [folder, seed] of [
      [photos, 'photos'],
      [papers, 'papers'],
      [bobs, 'bobs'],
    ] as const) {
      mkdirSync(folder)
      writeDataset(folder, 300_000, seed)
    }

    const first = await backupAs(laptop, 'alice', 'laptop', photos)
    assert.ok(first.index.score >= 12, 'the index is mined to at least 12 bits')
    await backupAs(desktop, 'alice', 'desktop', papers)
    // Another user, even with the same passphrase, must never show up as alice.
    await backupAs(other, 'bob', 'laptop', bobs)

    // Every node's snapshot (and index) reaches its replicas before the owners leave.
    for (const node of [laptop, desktop, other]) {
      await poll(
        `${node.name}'s snapshot to be replicated`,
        async () => {
          const status = await node.status()
          return status.snapshots.length > 0 && status.snapshots.every((s) => s.replication.minReplicas >= 1)
            ? true
            : undefined
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      )
    }

    const fresh = cluster.create({ bootstrap: [other.address] })
    await fresh.start()
    await poll('the fresh node to see the others', async () => ((await fresh.peers()).length >= 3 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 300,
    })

    const wrong = await fresh.cli(['restore', '--user', 'alice', '--passphrase', 'not it', join(scratch, 'wrong')])
    assert.equal(wrong.code, 1, wrong.stderr)
    assert.match(wrong.stderr, /no backups found for alice/)
    assert.doesNotMatch(wrong.stderr, /laptop|desktop|photos|papers/, 'a wrong passphrase reveals nothing')

    const target = join(scratch, 'restored')
    requireSuccess(await fresh.cli(['restore', '--user', 'alice', '--passphrase', PASSPHRASE, target], 120_000))
    assert.deepEqual(readdirSync(target).sort(), ['desktop', 'laptop'])
    assert.deepEqual(describeTree(under(target, 'laptop', photos)), describeTree(photos))
    assert.deepEqual(describeTree(under(target, 'desktop', papers)), describeTree(papers))

    const onlyDesktop = join(scratch, 'only-desktop')
    requireSuccess(
      await fresh.cli(
        ['restore', '--user', 'alice', '--passphrase', PASSPHRASE, '--machine', 'desktop', onlyDesktop],
        120_000,
      ),
    )
    assert.deepEqual(describeTree(onlyDesktop), describeTree(papers), 'one match restores into DIR itself')

    const bob = join(scratch, 'bob')
    requireSuccess(await fresh.cli(['restore', '--user', 'bob', '--passphrase', PASSPHRASE, bob], 120_000))
    assert.deepEqual(describeTree(bob), describeTree(bobs))
  })
})
