/**
 * Network benchmark of real `libernet start` processes (test/cluster.ts,
 * test/netns.ts):
 *
 * - mDNS discovery: two nodes in two network namespaces joined by a veth
 *   pair, time from both being up until each lists the other through the
 *   CLI, and the same from the nodes' debug logs (no CLI start-up in it);
 *   median of --mdns-runs. Needs root and iproute2.
 * - DHT provider lookup on 5 nodes (127.0.0.1, node 1 the bootstrap): a block
 *   put on node 3, time from `put` returning until node 5 names node 3 as a
 *   provider, and the duration of that successful lookup.
 * - Replication: a --replication-mib backup (default 64 MiB) on node 1 of 5
 *   with r = 3, time from the start of `backup` until every block has ≥ 3
 *   confirmed replicas. Same-run references: the raw libp2p stream (TCP +
 *   noise + yamux, one stream) of bench/protocol between two processes, and
 *   `cp -r` of the dataset.
 *
 * The CLI starts a whole Node process per command (seconds on a loaded
 * machine), which would swamp the polls; the DHT and replication polls
 * therefore call the node's loopback API (the one the CLI calls, URL and
 * token from the `api` file), and the same answers through the CLI are
 * checked and timed next to them.
 *
 *   pnpm exec node bench/network/run.ts [--mdns-runs 3] [--lookups 3] [--replication-mib 64] [--json FILE]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { parseUrl } from '@libernet/core'
import { median } from '../median.ts'

const root = resolve(import.meta.dirname, '../..')
// The harness belongs to the test project; loaded by URL so each project compiles on its own.
type Harness = typeof import('../../test/cluster.ts')
type Netns = typeof import('../../test/netns.ts')
const harness = (await import(pathToFileURL(join(root, 'test/cluster.ts')).href)) as Harness
const netns = (await import(pathToFileURL(join(root, 'test/netns.ts')).href)) as Netns
type LibernetNode = InstanceType<Harness['LibernetNode']>
type Cluster = InstanceType<Harness['Cluster']>

const { values } = parseArgs({
  options: {
    'mdns-runs': { type: 'string', default: '3' },
    lookups: { type: 'string', default: '3' },
    'replication-mib': { type: 'string', default: '64' },
    'raw-rounds': { type: 'string', default: '3' },
    json: { type: 'string' },
  },
})

const MB = 1e6
const scratch = mkdtempSync(join(tmpdir(), 'libernet-bench-network-'))
const load: number[][] = []
const noteLoad = (): void => {
  load.push(loadavg().map((value) => Math.round(value * 100) / 100))
}

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now()
  const value = await action()
  return { ms: performance.now() - started, value }
}

async function waitForPeers(node: LibernetNode, count: number): Promise<void> {
  await harness.poll(`${node.name} to list ${count} peers`, async () =>
    (await node.peers()).length >= count ? true : undefined,
  )
}

/** Milliseconds since the epoch of the first line of `node`'s log that contains `text`. */
function loggedAt(node: LibernetNode, text: string): number | undefined {
  for (const line of readFileSync(node.logFile, 'utf8').split('\n')) {
    if (!line.includes(text)) continue
    const stamp = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) /.exec(line)
    if (stamp?.[1] !== undefined) return Date.parse(stamp[1])
  }
  return undefined
}

/**
 * One mDNS run: ms from both nodes ready until both list each other through
 * the CLI, and the same from the nodes' own debug logs (first line naming the
 * other peer, counted from the later of the two "listening on" lines), which
 * leaves out the CLI's start-up.
 */
async function mdnsRun(
  run: number,
): Promise<{ discoveryMs: number; loggedMs: number | undefined; startMs: number; peersCallMs: number[] }> {
  const network = netns.createNetwork(2)
  const nodes: LibernetNode[] = []
  try {
    const peersCallMs: number[] = []
    for (const [index, namespace] of network.namespaces.entries()) {
      nodes.push(
        new harness.LibernetNode(`mdns${run}-${index}`, join(scratch, `mdns${run}-${index}`), {
          listen: [`/ip4/${namespace.address}/tcp/0`],
          mdns: true,
          launcher: (command, args, options) => network.spawn(namespace, command, args, options),
        }),
      )
    }
    const [a, b] = nodes as [LibernetNode, LibernetNode]
    const start = await timed(() => Promise.all([a.start(), b.start()]))
    const sees = async (node: LibernetNode, other: LibernetNode): Promise<true | undefined> => {
      const call = await timed(() => node.peers())
      peersCallMs.push(call.ms)
      return call.value.some((peer) => peer.id === other.peerId) ? true : undefined
    }
    const discovery = await timed(() =>
      Promise.all([
        harness.poll('a to see b', () => sees(a, b), { timeoutMs: 30_000, intervalMs: 50 }),
        harness.poll('b to see a', () => sees(b, a), { timeoutMs: 30_000, intervalMs: 50 }),
      ]),
    )
    const listening = [loggedAt(a, 'listening on'), loggedAt(b, 'listening on')]
    const found = [loggedAt(a, b.peerId), loggedAt(b, a.peerId)]
    const known = [...listening, ...found].every((value) => value !== undefined)
    const loggedMs = known ? Math.max(...(found as number[])) - Math.max(...(listening as number[])) : undefined
    return { discoveryMs: discovery.ms, loggedMs, startMs: start.ms, peersCallMs }
  } finally {
    await Promise.all(nodes.map((node) => node.stop(5_000)))
    network.close()
  }
}

async function benchMdns(runs: number) {
  const samples = []
  for (let run = 0; run < runs; run++) {
    noteLoad()
    const sample = await mdnsRun(run)
    console.error(
      `mdns run ${run + 1}: both list each other ${sample.discoveryMs.toFixed(0)} ms after both were ready (logs: ${sample.loggedMs ?? '?'} ms)`,
    )
    samples.push(sample)
  }
  return {
    discoveryMsMedian: median(samples.map((sample) => sample.discoveryMs)),
    discoveryMs: samples.map((sample) => Math.round(sample.discoveryMs)),
    loggedMsMedian: median(samples.flatMap((sample) => (sample.loggedMs === undefined ? [] : [sample.loggedMs]))),
    loggedMs: samples.map((sample) => sample.loggedMs ?? null),
    startMsMedian: median(samples.map((sample) => sample.startMs)),
    peersCallMsMedian: median(samples.flatMap((sample) => sample.peersCallMs)),
  }
}

/**
 * GET on the node's loopback API (the one the CLI itself calls, from the
 * `api` file: URL + token), to time the node without the CLI's start-up.
 * Not part of the CLI contract; the CLI figures are reported next to it.
 */
async function api<T>(node: LibernetNode, path: string): Promise<T> {
  const { url, token } = JSON.parse(readFileSync(join(node.dataDir, 'api'), 'utf8')) as { url: string; token?: string }
  const response = await fetch(`${url}/api/v0${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  })
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

type Status = Awaited<ReturnType<LibernetNode['status']>>

async function benchLookup(cluster: Cluster, lookups: number) {
  const third = cluster.node(3)
  const fifth = cluster.node(5)
  const afterPut: number[] = []
  const lookupCall: number[] = []
  const providersCli: number[] = []
  const statusCli: number[] = []
  for (let lookup = 0; lookup < lookups; lookup++) {
    noteLoad()
    const file = join(scratch, `lookup-${lookup}.bin`)
    writeFileSync(file, harness.pseudoRandom(`lookup-${lookup}`, 64 * 1024))
    const { id } = parseUrl(await third.put(file))
    const put = performance.now()
    let lastCall = 0
    await harness.poll(
      'node 5 to find node 3 as a provider',
      async () => {
        const call = await timed(() => api<{ providers: string[] }>(fifth, `/providers/${id}`))
        lastCall = call.ms
        return call.value.providers.includes(third.peerId) ? true : undefined
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    )
    afterPut.push(performance.now() - put)
    lookupCall.push(lastCall)
    const cli = await timed(() => fifth.providers(id))
    if (!cli.value.includes(third.peerId)) throw new Error(`the CLI's providers lacks node 3: ${cli.value.join(' ')}`)
    providersCli.push(cli.ms)
    statusCli.push((await timed(() => fifth.status())).ms)
    console.error(
      `lookup ${lookup + 1}: found ${afterPut.at(-1)?.toFixed(0)} ms after put returned; lookup ${lastCall.toFixed(0)} ms; CLI providers ${cli.ms.toFixed(0)} ms`,
    )
  }
  return {
    afterPutMsMedian: median(afterPut),
    lookupMsMedian: median(lookupCall),
    providersCliMsMedian: median(providersCli),
    statusCliMsMedian: median(statusCli),
    samples: { afterPut, lookupCall, providersCli, statusCli },
  }
}

function directoryBytes(directory: string): number {
  const out = execFileSync('du', ['-sb', directory], { encoding: 'utf8' })
  return Number(out.split('\t')[0])
}

async function benchReplication(cluster: Cluster, mib: number) {
  const a = cluster.node(1)
  const folder = join(scratch, 'replicated')
  const bytes = harness.writeDataset(folder, mib * 1024 * 1024, 'bench-network')
  execFileSync('sync')
  noteLoad()
  const copy = join(scratch, 'copy')
  const cp = await timed(async () => execFileSync('cp', ['-r', folder, copy]))
  rmSync(copy, { recursive: true, force: true })
  const before = (await api<Status>(a, '/status')).traffic
  noteLoad()
  const started = performance.now()
  const { url } = await a.backup(folder)
  const backupMs = performance.now() - started
  let blocks = 0
  let statusCliMs = 0
  const cliDuringReplication = timed(() => a.status()).then((call) => {
    statusCliMs = call.ms
  })
  await harness.poll(
    'the snapshot to reach 3 replicas',
    async () => {
      const snapshot = (await api<Status>(a, '/status')).snapshots.find((entry) => entry.url === url)
      blocks = snapshot?.replication.blocks ?? 0
      return snapshot !== undefined && snapshot.replication.minReplicas >= 3 ? true : undefined
    },
    { timeoutMs: 600_000, intervalMs: 100 },
  )
  const replicatedMs = performance.now() - started
  noteLoad()
  await cliDuringReplication
  const cliStatus = await a.status()
  const cliSnapshot = cliStatus.snapshots.find((entry) => entry.url === url)
  if (cliSnapshot === undefined || cliSnapshot.replication.minReplicas < 3) {
    throw new Error(`the CLI's status disagrees: ${JSON.stringify(cliSnapshot)}`)
  }
  const bytesReplicated = (cliStatus.traffic.bytesReplicated ?? 0) - (before.bytesReplicated ?? 0)
  return {
    datasetBytes: bytes,
    storedBytes: directoryBytes(join(a.dataDir)),
    blocks,
    backupMs,
    replicatedMs,
    replicatedAfterBackupMs: replicatedMs - backupMs,
    statusCliMsDuringReplication: statusCliMs,
    bytesReplicated,
    datasetMBps: bytes / MB / (replicatedMs / 1000),
    wireMBps: bytesReplicated / MB / (replicatedMs / 1000),
    cpMBps: bytes / MB / (cp.ms / 1000),
  }
}

/** The raw libp2p stream between two processes, from bench/protocol, in this run. */
function rawStream(rounds: number): { mbps: number; rounds: number[] } {
  noteLoad()
  const file = join(scratch, 'raw.json')
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'bench/protocol/run.ts'),
      '--only',
      'raw',
      '--no-helia',
      '--blocks',
      '64',
      '--rounds',
      String(rounds),
      '--json',
      file,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  if (result.status !== 0) throw new Error(`bench/protocol exited ${result.status ?? result.signal}`)
  const summary = JSON.parse(readFileSync(file, 'utf8')) as {
    mbps: { raw: number }
    samples: { raw: { mbps: number }[] }
  }
  return { mbps: summary.mbps.raw, rounds: summary.samples.raw.map((sample) => sample.mbps) }
}

const clusters: Cluster[] = []
try {
  const mdns = await benchMdns(Number(values['mdns-runs']))

  const lookupCluster = await harness.Cluster.start(5)
  clusters.push(lookupCluster)
  await waitForPeers(lookupCluster.node(5), 1)
  const lookup = await benchLookup(lookupCluster, Number(values.lookups))
  await lookupCluster.close()

  const replicationCluster = await harness.Cluster.start(5, { replicas: 3 })
  clusters.push(replicationCluster)
  await waitForPeers(replicationCluster.node(1), 4)
  const replication = await benchReplication(replicationCluster, Number(values['replication-mib']))
  await replicationCluster.close()

  const raw = rawStream(Number(values['raw-rounds']))

  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    loadavg: load,
    mdns,
    lookup,
    replication: { ...replication, rawStreamMBps: raw.mbps, rawStreamRounds: raw.rounds },
    ratio: {
      replicationWireToRawStream: replication.wireMBps / raw.mbps,
      replicationDatasetToCp: replication.datasetMBps / replication.cpMBps,
    },
  }
  console.log(JSON.stringify(summary, null, 2))
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(summary, null, 2)}\n`)
  const results = join(root, 'bench/network/results.json')
  writeFileSync(results, `${JSON.stringify(summary, null, 2)}\n`)
  // The checked-in copy stays in the repository's format, so `pnpm lint` passes after a run.
  spawnSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', results], { stdio: 'ignore' })

  const fmt = (value: number, digits = 0): string => value.toFixed(digits)
  console.log(`
| measure | median | same-run reference |
| --- | ---: | --- |
| mDNS: both ready → each lists the other via the CLI (${mdns.discoveryMs.length} runs) | ${fmt(mdns.discoveryMsMedian)} ms | one \`peers\` CLI call ${fmt(mdns.peersCallMsMedian)} ms |
| mDNS: the same from the nodes' debug logs (no CLI) | ${fmt(mdns.loggedMsMedian)} ms | |
| DHT: node 5's API lists node 3 as provider, from \`put\` on node 3 returning | ${fmt(lookup.afterPutMsMedian)} ms | |
| DHT: the successful provider lookup (API) | ${fmt(lookup.lookupMsMedian)} ms | the same via the CLI ${fmt(lookup.providersCliMsMedian)} ms; a CLI \`status\` ${fmt(lookup.statusCliMsMedian)} ms |
| replication of ${fmt(replication.datasetBytes / 2 ** 20)} MiB to 3 peers: backup start → minReplicas ≥ 3 | ${fmt(replication.replicatedMs)} ms = ${fmt(replication.datasetMBps, 1)} MB/s of dataset, ${fmt(replication.wireMBps, 1)} MB/s sent | raw libp2p stream ${fmt(raw.mbps, 1)} MB/s; \`cp -r\` ${fmt(replication.cpMBps, 1)} MB/s |
| of which the backup command | ${fmt(replication.backupMs)} ms | |
| replicated after the backup command returned | ${fmt(replication.replicatedAfterBackupMs)} ms | a CLI \`status\` during replication ${fmt(replication.statusCliMsDuringReplication)} ms |
`)
} finally {
  await Promise.all(clusters.map((cluster) => cluster.close()))
  rmSync(scratch, { recursive: true, force: true })
}
