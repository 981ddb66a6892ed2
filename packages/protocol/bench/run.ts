/**
 * Node-to-node transfer benchmark: this process is the client, the server
 * is a child process (server.ts) on 127.0.0.1, stopped by its pid at the end.
 *
 *   node packages/protocol/bench/run.ts [--blocks 256] [--size 1048576] [--rounds 7]
 *                                       [--helia-rounds 1] [--no-helia] [--only raw|libernet] [--json FILE]
 *
 * Measures, in the same run, on the same blocks and the same stack (TCP,
 * noise, yamux): a raw libp2p stream carrying the bytes back to back (the
 * ceiling), /libernet/block/1.0.0 fetching every block by id and verifying
 * it, and Helia bitswap (which verifies too). Raw and libernet alternate
 * round by round, swapping which goes first, so that other load on the
 * machine hits both alike; the headline ratio is the median of the per-round
 * ratios. Other load only ever slows a transfer down, so the best round of
 * each path is reported too. MB/s are 10^6 bytes of block data per second.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { idToCid } from '@libernet/core'
import { identify } from '@libp2p/identify'
import type { PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { createHeliaLight } from 'helia'
import { createLibp2p } from 'libp2p'
import { blockProtocol } from '../src/service.ts'
import { RAW_PROTOCOL, type ServerReady } from './blocks.ts'

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '256' },
    size: { type: 'string', default: String(1024 * 1024) },
    rounds: { type: 'string', default: '7' },
    'helia-rounds': { type: 'string', default: '1' },
    'no-helia': { type: 'boolean', default: false },
    only: { type: 'string' },
    'wants-per-peer': { type: 'string' },
    json: { type: 'string' },
  },
})
const count = Number(values.blocks)
const size = Number(values.size)
const rounds = Number(values.rounds)
const totalBytes = count * size
const SEED = 'libernet-bench'
const serverScript = new URL('./server.ts', import.meta.url).pathname

interface Server {
  child: ChildProcess
  ready: ServerReady
}

/** One transfer: throughput, and the client's CPU time per MB (less moved by other load than MB/s). */
interface Sample {
  mbps: number
  cpuMsPerMB: number
}

async function startServer(mode: 'libernet' | 'helia'): Promise<Server> {
  const child = spawn(process.execPath, [serverScript, mode, String(count), String(size), SEED], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // Lets the server be profiled alone, e.g. BENCH_SERVER_NODE_OPTIONS=--cpu-prof.
    env: { ...process.env, NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS ?? '' },
  })
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server not ready after 120 s`)), 120_000)
    child.once('exit', (code) => reject(new Error(`${mode} server exited early with ${code}`)))
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return
      clearTimeout(timer)
      resolve(JSON.parse(line) as ServerReady)
    })
  })
  return { child, ready }
}

async function stopServer(server: Server): Promise<void> {
  const { child } = server
  if (child.exitCode !== null || child.pid === undefined) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

async function measure(expected: number, transfer: () => Promise<number>): Promise<Sample> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const received = await transfer()
  const elapsed = performance.now() - started
  const used = process.cpuUsage(cpu)
  if (received !== expected) throw new Error(`transferred ${received} bytes, expected ${expected}`)
  return { mbps: received / 1e6 / (elapsed / 1000), cpuMsPerMB: (used.user + used.system) / 1000 / (received / 1e6) }
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length / 2
  return Number.isInteger(middle)
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[Math.floor(middle)] as number)
}

function stack() {
  return {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  }
}

async function benchLibernet(): Promise<{ raw: Sample[]; libernet: Sample[] }> {
  const server = await startServer('libernet')
  const node = await createLibp2p({
    ...stack(),
    services: { blocks: blockProtocol({ source: { has: () => false, get: () => undefined } }) },
  })
  try {
    const connection = await node.dial(multiaddr(server.ready.addresses[0] ?? ''), {
      signal: AbortSignal.timeout(10_000),
    })
    const peer: PeerId = connection.remotePeer
    const ids = server.ready.ids

    const raw = () =>
      measure(totalBytes, async () => {
        const stream = await node.dialProtocol(peer, RAW_PROTOCOL)
        let received = 0
        for await (const chunk of stream) received += chunk.byteLength
        await stream.close()
        return received
      })
    const libernet = (subset: string[] = ids) =>
      measure(subset.length * size, async () => {
        let received = 0
        const wantsPerPeer = values['wants-per-peer'] === undefined ? undefined : Number(values['wants-per-peer'])
        for await (const block of node.services.blocks.fetch(subset, { peers: [peer], wantsPerPeer })) {
          received += block.bytes.byteLength
        }
        return received
      })

    // Warm both paths up (JIT, yamux windows) before measuring.
    await raw()
    await libernet(ids.slice(0, 32))
    const results = { raw: [] as Sample[], libernet: [] as Sample[] }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['raw', 'libernet'] as const) : (['libernet', 'raw'] as const)
      for (const path of order) {
        if (values.only !== undefined && values.only !== path) continue
        results[path].push(await (path === 'raw' ? raw() : libernet()))
      }
      const line = (['raw', 'libernet'] as const)
        .map((path) => results[path].at(-1))
        .map((sample, at) =>
          sample === undefined
            ? ''
            : `${at === 0 ? 'raw' : 'libernet'} ${sample.mbps.toFixed(1)} MB/s (${sample.cpuMsPerMB.toFixed(2)} client CPU ms/MB)`,
        )
      console.error(`round ${round + 1}: ${line.filter(Boolean).join(', ')}`)
    }
    return results
  } finally {
    await node.stop()
    await stopServer(server)
  }
}

async function benchHelia(heliaRounds: number): Promise<Sample[]> {
  const server = await startServer('helia')
  const results: Sample[] = []
  try {
    const cids = server.ready.ids.map(idToCid)
    for (let round = 0; round < heliaRounds; round++) {
      // A fresh client each round: a Helia node keeps what it fetched.
      const helia = withBitswap(
        withLibp2pLight(createHeliaLight({ blockstore: new MemoryBlockstore() }), {
          ...stack(),
          services: { identify: identify() },
        }),
      )
      await helia.start()
      try {
        await helia.libp2p.dial(multiaddr(server.ready.addresses[0] ?? ''), { signal: AbortSignal.timeout(10_000) })
        const signal = AbortSignal.timeout(600_000)
        const sample = await measure(totalBytes, async () => {
          const sizes = await Promise.all(
            cids.map(async (cid) => {
              let bytes = 0
              for await (const chunk of helia.blockstore.get(cid, { signal })) bytes += chunk.byteLength
              return bytes
            }),
          )
          return sizes.reduce((sum, bytes) => sum + bytes, 0)
        })
        results.push(sample)
        console.error(
          `helia round ${round + 1}: ${sample.mbps.toFixed(1)} MB/s (${sample.cpuMsPerMB.toFixed(2)} client CPU ms/MB)`,
        )
      } finally {
        await helia.stop()
      }
    }
    return results
  } finally {
    await stopServer(server)
  }
}

const { raw, libernet } = await benchLibernet()
const helia = values['no-helia'] ? [] : await benchHelia(Number(values['helia-rounds']))
const rate = (samples: Sample[]) => median(samples.map((sample) => sample.mbps))
const best = (samples: Sample[]) => Math.max(...samples.map((sample) => sample.mbps))
const pairRatios = libernet.map((sample, at) => sample.mbps / (raw[at]?.mbps ?? Number.NaN))
const summary = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  blocks: count,
  blockSize: size,
  totalBytes,
  rounds,
  mbps: { raw: rate(raw), libernet: rate(libernet), helia: helia.length > 0 ? rate(helia) : null },
  bestMbps: { raw: best(raw), libernet: best(libernet), helia: helia.length > 0 ? best(helia) : null },
  clientCpuMsPerMB: {
    raw: median(raw.map((sample) => sample.cpuMsPerMB)),
    libernet: median(libernet.map((sample) => sample.cpuMsPerMB)),
    helia: helia.length > 0 ? median(helia.map((sample) => sample.cpuMsPerMB)) : null,
  },
  ratio: {
    libernetToRawMedianOfRounds: median(pairRatios),
    libernetToRawOfMedians: rate(libernet) / rate(raw),
    libernetToRawOfBests: best(libernet) / best(raw),
    libernetToHelia: helia.length > 0 ? rate(libernet) / rate(helia) : null,
  },
  samples: { raw, libernet, helia, pairRatios },
}
console.log(JSON.stringify(summary, null, 2))
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(summary, null, 2)}\n`)
