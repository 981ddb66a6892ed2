import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { backup } from '../src/backup/backup.ts'
import { type Gateway, startGateway } from '../src/gateway/index.ts'
import { DEFAULT_CONFIG } from '../src/host/config.ts'
import { LibernetNode } from '../src/host/node.ts'
import { launchChromium } from './chromium.ts'
import { scratch } from './helpers.ts'

const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts/gateway')

/**
 * The status page of a running node, in a real browser with JavaScript off:
 * its peers (and how they were found) and a replicated snapshot.
 */
describe('the status page of a node with peers (headless Chromium)', () => {
  const dirs: Array<{ dir: string; cleanup: () => void }> = []
  const nodes: LibernetNode[] = []
  let gateway: Gateway

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    for (let index = 0; index < 3; index++) {
      const scratchDir = scratch(`status-${index}`)
      dirs.push(scratchDir)
      nodes.push(
        await LibernetNode.start({
          dataDir: scratchDir.dir,
          workers: 1,
          config: {
            ...DEFAULT_CONFIG,
            listen: ['/ip4/127.0.0.1/tcp/0'],
            mdns: false,
            gateway: null,
            replicas: 2,
            bootstrap: index === 0 ? [] : [nodes[0]!.addresses()[0]!],
          },
        }),
      )
    }
    const owner = nodes[0]!
    const deadline = Date.now() + 15_000
    while ((await owner.peers.blockPeers()).length < 2 && Date.now() < deadline) await sleep(100)
    const folder = scratch('status-folder')
    dirs.push(folder)
    writeFileSync(join(folder.dir, 'note.txt'), 'replicated twice')
    const { url } = await backup(folder.dir, { store: owner.store, pool: owner.pool, snapshots: owner.snapshots })
    while ((await owner.replicator.health(url)).localOnly > 0 && Date.now() < deadline) await sleep(100)
    gateway = await startGateway({
      backend: {
        store: owner.store,
        pool: owner.pool,
        like: (target, options) => owner.like(target, options),
        status: () => owner.status(),
      },
      port: 0,
    })
  })

  after(async () => {
    await gateway?.close()
    for (const node of nodes) await node.stop().catch(() => {})
    for (const { cleanup } of dirs) cleanup()
  })

  it('lists the connected peers, how they were found, and the snapshot replication', async () => {
    const browser = await launchChromium()
    try {
      const context = await browser.newContext({ javaScriptEnabled: false })
      const page = await context.newPage()
      const response = await page.goto(`${gateway.url}/`)
      assert.equal(response?.status(), 200)
      assert.equal((await page.textContent('#peer-count'))?.trim(), '2 peers')
      const rows = await page.locator('#peers tr.peer').allTextContents()
      assert.equal(rows.length, 2)
      for (const peer of nodes.slice(1)) {
        const row = rows.find((text) => text.includes(peer.peerId))
        assert.ok(row !== undefined, `peer ${peer.peerId} is listed`)
        // The others dialled the owner through its bootstrap address: inbound, from its side.
        assert.match(row, /inbound/i)
      }
      const body = (await page.textContent('body')) ?? ''
      assert.ok(body.includes(nodes[0]!.peerId), 'the node id is shown')
      assert.match(body, /note|replicat/i)
      await page.screenshot({ path: join(ARTIFACTS, 'status-page-peers.png'), fullPage: true })
      await context.close()
    } finally {
      await browser.close()
    }
  })
})
