/**
 * Block store throughput against raw `fs` on the same bytes, in the same run.
 *
 *   pnpm exec node packages/blockstore/bench/run.ts [--blocks 256] [--rounds 3] [--like-ids 100000] [--queries 1000] [--dir DIR] [--json FILE]
 *   (or bench/blockstore/run.ts with the same arguments)
 *
 * Writes: 1 MiB random blocks, one at a time. Each block is written by raw
 * `fs.writeFile` and by a store put (a cached block: no fsync) back to back,
 * which one first alternating, so machine noise hits both alike; then, apart
 * (fsyncs stall the file system journal for whatever runs next), by a raw
 * write + fdatasync and by a put of a pinned block (fsync, plus the batched
 * directory syncs). Reads: raw `fs.readFile` and the store's get of the same
 * files (checked against the CRC-32 recorded at put), interleaved the same
 * way, then the same get with `verify: 'full'` (SHA-256 against the id); all
 * from the page cache. SHA-256 of the blocks in memory is timed too: it is
 * what full verification adds.
 * The stores start with their 1,024 shard directories, as any store past a
 * few thousand blocks has them (the raw side writes into one existing folder).
 * Like: a store of `--like-ids` small real blocks (their put rate is reported
 * too), then `--queries` like queries for random targets at limits 10 and 100.
 *
 * Each write/read measurement runs `--rounds` times; the report shows the
 * median round. Results: bench/blockstore/RESULTS.md.
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { idToCid, sha256Hex } from '@libernet/core'
import { LibernetBlockstore } from '../src/index.ts'

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    'like-ids': { type: 'string', default: '100000' },
    queries: { type: 'string', default: '1000' },
    dir: { type: 'string' },
    json: { type: 'string' },
  },
})
const BLOCKS = Number(values.blocks)
const ROUNDS = Number(values.rounds)
const LIKE_IDS = Number(values['like-ids'])
const QUERIES = Number(values.queries)
const MiB = 1024 * 1024

const base = await mkdtemp(join(values.dir ?? tmpdir(), 'libernet-blockstore-bench-'))

/** Per-block ratios (raw time / store time) of one round. */
interface BlockRatios {
  put: number[]
  pinned: number[]
  get: number[]
  getFull: number[]
  coldGet: number[]
}

/** Total ms per contender in one round. */
interface Timing {
  raw: number
  rawFsync: number
  putCache: number
  putPinned: number
  rawRead: number
  get: number
  getFull: number
  coldRawRead: number
  coldGet: number
  sha256: number
  ratios: BlockRatios
}

function mbps(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000)
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function percentile(numbers: number[], p: number): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await work()
  return performance.now() - start
}

async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(file, 'w')
  try {
    await handle.write(bytes, 0, bytes.byteLength, 0)
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

const blocks = Array.from({ length: BLOCKS }, () => {
  const bytes = new Uint8Array(randomBytes(MiB))
  return { id: sha256Hex(bytes), bytes }
})
const totalBytes = BLOCKS * MiB

/** The 1,024 shard directories of the blockstore-fs layout, as any store past a few thousand blocks has them. */
async function steadyStateShards(storePath: string): Promise<void> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const dirs: string[] = []
  for (const a of alphabet) for (const b of alphabet) dirs.push(join(storePath, 'blocks', `${a}${b}`))
  await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })))
}

/** Times `a` and `b` on the same input back to back, alternating which goes first. */
async function pair(first: boolean, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  if (first) {
    const ta = await timed(a)
    return [ta, await timed(b)]
  }
  const tb = await timed(b)
  return [await timed(a), tb]
}

async function round(index: number): Promise<Timing> {
  const dir = join(base, `round-${index}`)
  const raw = join(dir, 'raw')
  const rawSynced = join(dir, 'raw-fsync')
  await mkdir(raw, { recursive: true })
  await mkdir(rawSynced, { recursive: true })
  await steadyStateShards(join(dir, 'store-cache'))
  await steadyStateShards(join(dir, 'store-pinned'))
  const cache = await LibernetBlockstore.open({ path: join(dir, 'store-cache') })
  const owned = await LibernetBlockstore.open({ path: join(dir, 'store-pinned') })
  const ratios: BlockRatios = { put: [], pinned: [], get: [], getFull: [], coldGet: [] }
  const t: Timing = {
    raw: 0,
    rawFsync: 0,
    putCache: 0,
    putPinned: 0,
    rawRead: 0,
    get: 0,
    getFull: 0,
    coldRawRead: 0,
    coldGet: 0,
    sha256: 0,
    ratios,
  }

  // Page-cache writes, then durable ones: fsyncs stall the journal, so they are kept apart from the others.
  for (const [i, { id, bytes }] of blocks.entries()) {
    const [rawMs, putMs] = await pair(
      i % 2 === 0,
      () => writeFile(join(raw, id), bytes),
      () => cache.putBlock(id, bytes),
    )
    t.raw += rawMs
    t.putCache += putMs
    ratios.put.push(rawMs / putMs)
  }
  for (const [i, { id, bytes }] of blocks.entries()) {
    const [rawMs, putMs] = await pair(
      i % 2 === 0,
      () => writeSynced(join(rawSynced, id), bytes),
      () => owned.putBlock(id, bytes, { pinnedBy: 'bench' }),
    )
    t.rawFsync += rawMs
    t.putPinned += putMs
    ratios.pinned.push(rawMs / putMs)
  }
  // The pinned store's batched directory syncs belong to its write cost.
  t.putPinned += await timed(() => owned.sync())

  for (const [i, { id, bytes }] of blocks.entries()) {
    const [rawMs, getMs] = await pair(
      i % 2 === 0,
      () => readFile(join(raw, id)),
      () => cache.getBlock(id),
    )
    t.rawRead += rawMs
    t.get += getMs
    ratios.get.push(rawMs / getMs)
    const fullMs = await timed(() => cache.getBlock(id, { verify: 'full' }))
    t.getFull += fullMs
    ratios.getFull.push(rawMs / fullMs)
    const start = performance.now()
    createHash('sha256').update(bytes).digest()
    t.sha256 += performance.now() - start
  }

  // The same again from the disk: both copies are pushed out of the page cache first.
  dropFromPageCache(raw)
  dropFromPageCache(join(dir, 'store-cache', 'blocks'))
  for (const [i, { id }] of blocks.entries()) {
    const [rawMs, getMs] = await pair(
      i % 2 === 0,
      () => readFile(join(raw, id)),
      () => cache.getBlock(id),
    )
    t.coldRawRead += rawMs
    t.coldGet += getMs
    ratios.coldGet.push(rawMs / getMs)
  }
  await cache.close()
  await owned.close()
  await rm(dir, { recursive: true, force: true })
  return t
}

/** Writes back and evicts every file under `dir` from the page cache (posix_fadvise DONTNEED, through dd). */
function dropFromPageCache(dir: string): void {
  execFileSync('sync', ['-f', dir])
  execFileSync('sh', ['-c', 'find "$1" -type f -exec dd iflag=nocache count=0 status=none if={} \\;', 'sh', dir])
}

const load = () => loadavg().map((value) => value.toFixed(2))
const loadAtStart = load()
console.log(`${BLOCKS} blocks of 1 MiB, ${ROUNDS} rounds, in ${base}; load average ${loadAtStart.join(' ')}`)
const rounds: Timing[] = []
for (let index = 0; index < ROUNDS; index++) {
  const t = await round(index)
  rounds.push(t)
  console.log(
    `round ${index + 1}: put ${((t.raw / t.putCache) * 100).toFixed(0)} % of raw write, get ${((t.rawRead / t.get) * 100).toFixed(0)} % of raw read`,
  )
}

// The median round by put ratio, and separately by get ratio.
const byPut = [...rounds].sort((a, b) => a.raw / a.putCache - b.raw / b.putCache)[Math.floor(ROUNDS / 2)]!
const byGet = [...rounds].sort((a, b) => a.rawRead / a.get - b.rawRead / b.get)[Math.floor(ROUNDS / 2)]!
const writes = {
  rawWriteMBps: mbps(totalBytes, byPut.raw),
  putCacheMBps: mbps(totalBytes, byPut.putCache),
  putRatio: byPut.raw / byPut.putCache,
  rawWriteFsyncMBps: mbps(totalBytes, byPut.rawFsync),
  putPinnedMBps: mbps(totalBytes, byPut.putPinned),
  putPinnedRatioToRawFsync: byPut.rawFsync / byPut.putPinned,
  putRatioPerBlockMedian: median(rounds.flatMap((r) => r.ratios.put)),
  putPinnedRatioPerBlockMedian: median(rounds.flatMap((r) => r.ratios.pinned)),
  putRatioRange: [
    Math.min(...rounds.map((r) => r.raw / r.putCache)),
    Math.max(...rounds.map((r) => r.raw / r.putCache)),
  ],
}
const reads = {
  rawReadMBps: mbps(totalBytes, byGet.rawRead),
  getMBps: mbps(totalBytes, byGet.get),
  getRatio: byGet.rawRead / byGet.get,
  getFullMBps: mbps(totalBytes, byGet.getFull),
  getFullRatio: byGet.rawRead / byGet.getFull,
  getFullRatioPerBlockMedian: median(rounds.flatMap((r) => r.ratios.getFull)),
  sha256MBps: mbps(totalBytes, byGet.sha256),
  getRatioPerBlockMedian: median(rounds.flatMap((r) => r.ratios.get)),
  coldRawReadMBps: mbps(totalBytes, median(rounds.map((r) => r.coldRawRead))),
  coldGetMBps: mbps(totalBytes, median(rounds.map((r) => r.coldGet))),
  coldGetRatioPerBlockMedian: median(rounds.flatMap((r) => r.ratios.coldGet)),
  getRatioRange: [Math.min(...rounds.map((r) => r.rawRead / r.get)), Math.max(...rounds.map((r) => r.rawRead / r.get))],
}

console.log('\n1 MiB blocks (median round)')
console.log(`  raw writeFile             ${writes.rawWriteMBps.toFixed(0).padStart(6)} MB/s`)
console.log(
  `  put (cached, no fsync)    ${writes.putCacheMBps.toFixed(0).padStart(6)} MB/s  ${(writes.putRatio * 100).toFixed(0)} % of raw`,
)
console.log(`  raw write + fdatasync     ${writes.rawWriteFsyncMBps.toFixed(0).padStart(6)} MB/s`)
console.log(
  `  put (pinned, fsync)       ${writes.putPinnedMBps.toFixed(0).padStart(6)} MB/s  ${(writes.putPinnedRatioToRawFsync * 100).toFixed(0)} % of raw + fdatasync`,
)
console.log(`  raw readFile              ${reads.rawReadMBps.toFixed(0).padStart(6)} MB/s`)
console.log(
  `  get (CRC-32 checked)      ${reads.getMBps.toFixed(0).padStart(6)} MB/s  ${(reads.getRatio * 100).toFixed(0)} % of raw`,
)
console.log(
  `  get (verify: 'full')      ${reads.getFullMBps.toFixed(0).padStart(6)} MB/s  ${(reads.getFullRatio * 100).toFixed(0)} % of raw`,
)
console.log(`  sha256 alone              ${reads.sha256MBps.toFixed(0).padStart(6)} MB/s`)
console.log(`  raw readFile, from disk   ${reads.coldRawReadMBps.toFixed(0).padStart(6)} MB/s  (median of rounds)`)
console.log(`  get, from disk            ${reads.coldGetMBps.toFixed(0).padStart(6)} MB/s`)
const loadAfterBlocks = load()
console.log(`load average ${loadAfterBlocks.join(' ')}`)
const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`
console.log(
  `per-block medians over all rounds: put ${percent(writes.putRatioPerBlockMedian)} of raw write, pinned put ${percent(writes.putPinnedRatioPerBlockMedian)} of raw write + fdatasync, get ${percent(reads.getRatioPerBlockMedian)} of raw read (page cache; full verification ${percent(reads.getFullRatioPerBlockMedian)}), ${percent(reads.coldGetRatioPerBlockMedian)} (from disk)`,
)
console.log(
  `round ranges: put ${writes.putRatioRange.map(percent).join(' .. ')}, get ${reads.getRatioRange.map(percent).join(' .. ')}`,
)

// ------------------------------------------------------------------ like

const likeStore = await LibernetBlockstore.open({ path: join(base, 'like'), concurrency: 16 })
const small = function* () {
  for (let index = 0; index < LIKE_IDS; index++) {
    const bytes = randomBytes(32)
    yield { cid: idToCid(sha256Hex(bytes)), bytes }
  }
}
const fillMs = await timed(async () => {
  for await (const _ of likeStore.putMany(small())) {
    // drained
  }
})
const targets = Array.from({ length: QUERIES }, () => sha256Hex(randomBytes(16)))
const like: Record<string, { medianMs: number; p99Ms: number; maxMs: number }> = {}
for (const limit of [10, 100]) {
  for (const target of targets.slice(0, 50)) likeStore.like(target, { limit }) // warm up
  const times = targets.map((target) => {
    const start = performance.now()
    likeStore.like(target, { limit })
    return performance.now() - start
  })
  like[`limit${limit}`] = { medianMs: median(times), p99Ms: percentile(times, 99), maxMs: Math.max(...times) }
}
await likeStore.close()
console.log(`\nlike index: ${LIKE_IDS} blocks (32 B each, put at ${((LIKE_IDS / fillMs) * 1000).toFixed(0)} blocks/s)`)
for (const [name, result] of Object.entries(like)) {
  console.log(
    `  ${name.padEnd(8)} median ${result.medianMs.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, max ${result.maxMs.toFixed(3)} ms`,
  )
}

await rm(base, { recursive: true, force: true })
if (values.json !== undefined) {
  const report = {
    blocks: BLOCKS,
    rounds: ROUNDS,
    loadAverage: { start: loadAtStart, afterBlocks: loadAfterBlocks },
    writes,
    reads,
    like: { ids: LIKE_IDS, fillMs, ...like },
  }
  await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`)
}
