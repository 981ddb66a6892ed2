/**
 * Rendezvous: how fast an index block is like-mined, and how long a new
 * machine takes to find and open its index.
 *
 *   pnpm exec node bench/rendezvous/run.ts [--rounds 5] [--seconds 2] [--ids 100000] [--json FILE]
 *
 * Mining rate: hashes/s of one worker thread and of one per core, measured
 * in alternating rounds of the same run (the machine is shared: the ratio is
 * what to read), each over a steady window after the workers report their
 * first batch. Then the wall time to mine a whole 12-bit index block on all
 * cores, worker start-up included.
 *
 * Lookup: a blockstore holding `--ids` random blocks, plus N decoys mined
 * toward the user's target (other users' indexes, other passphrases), plus
 * the user's index; `findBackups` over 12 months, N = 0, 10, 100.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type BlockId, contentUrl, idToCid, mineLike, sha256Hex } from '@libernet/core'
import { median } from '../median.ts'

// The node and blockstore packages are not dependencies of the workspace root,
// and importing their sources from here crosses project references: their
// modules are loaded by path, typed by the little this benchmark uses of them.
type CID = ReturnType<typeof idToCid>
interface YearMonth {
  year: number
  month: number
}
interface Index {
  user: string
  machines: Record<string, Record<string, { url: string; time: string }>>
  supersedes: string[]
  version: 1
}
interface LikeMatch {
  id: BlockId
  size: number
  score: number
}
interface Store {
  putMany(source: Iterable<{ cid: CID; bytes: Uint8Array }>): AsyncIterable<unknown>
  putBlock(id: BlockId, bytes: Uint8Array): Promise<boolean>
  getBlock(id: BlockId): Promise<Uint8Array>
  hasBlock(id: BlockId): boolean
  like(target: BlockId, options: { minScore: number; limit: number }): LikeMatch[]
  close(): Promise<void>
}
interface Modules {
  LibernetBlockstore: { open(options: { path: string; concurrency?: number }): Promise<Store> }
  INDEX_VERSION: 1
  findBackups(options: {
    user: string
    passphrase: string
    like: (target: BlockId, options: { minScore: number; limit: number }) => LikeMatch[]
    get: (id: BlockId) => Promise<Uint8Array | undefined>
    now: Date
    months: number
  }): Promise<{ indexes: unknown[] }>
  minePassphraseBlock(
    plaintext: Uint8Array,
    passphrase: string,
    target: BlockId,
    options?: {
      minScore?: number
      threads?: number
      signal?: AbortSignal
      progressInterval?: number
      onProgress?: (progress: { attempts: number }) => void
    },
  ): Promise<{ id: BlockId; bytes: Uint8Array; attempts: number }>
  rendezvousTarget(user: string, month: YearMonth): BlockId
  requiredScore(likeAnswer: readonly { score: number }[]): number
  serializeIndex(index: Index): Uint8Array
  yearMonthOf(date: Date): YearMonth
}
const load = async (path: string): Promise<Partial<Modules>> =>
  import(pathToFileURL(join(import.meta.dirname, '../../packages', path)).href)
const {
  LibernetBlockstore,
  findBackups,
  INDEX_VERSION,
  minePassphraseBlock,
  rendezvousTarget,
  requiredScore,
  serializeIndex,
  yearMonthOf,
} = Object.assign({}, await load('blockstore/src/index.ts'), await load('node/src/rendezvous/index.ts')) as Modules

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    ids: { type: 'string', default: '100000' },
    json: { type: 'string' },
  },
})
const ROUNDS = Number(values.rounds)
const WINDOW_MS = Number(values.seconds) * 1000
const IDS = Number(values.ids)
const CORES = availableParallelism()
const PASSPHRASE = 'bench passphrase'
const USER = 'bench-user'

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

/** Hashes/s of `threads` workers over a window that starts at their first progress report. */
async function miningRate(threads: number): Promise<number> {
  const controller = new AbortController()
  let first: { at: number; attempts: number } | undefined
  let last: { at: number; attempts: number } | undefined
  const mining = minePassphraseBlock(randomBytes(2000), PASSPHRASE, sha256Hex(randomBytes(8)), {
    minScore: 128,
    threads,
    signal: controller.signal,
    progressInterval: 0,
    onProgress: ({ attempts }) => {
      const sample = { at: performance.now(), attempts }
      // Wait until every worker is hashing: the first report of each comes after its start-up.
      if (first === undefined && attempts >= threads * 4096 * 2) first = sample
      if (first !== undefined) {
        last = sample
        if (sample.at - first.at >= WINDOW_MS) controller.abort()
      }
    },
  })
  await mining.catch((err: Error) => {
    if (err.name !== 'AbortError') throw err
  })
  if (first === undefined || last === undefined || last.at === first.at) throw new Error('no progress measured')
  return ((last.attempts - first.attempts) * 1000) / (last.at - first.at)
}

/** Reference: core's `mineLike` on the main thread, no workers (what one worker runs). */
async function inProcessRate(): Promise<number> {
  const attempts = 300_000
  const started = performance.now()
  await mineLike('passphrase', randomBytes(2000), sha256Hex(randomBytes(8)), {
    passphrase: PASSPHRASE,
    minScore: 128,
    maxAttempts: attempts,
  }).catch((err: Error) => {
    if (err.name !== 'MaxAttemptsExceededError') throw err
  })
  return (attempts * 1000) / (performance.now() - started)
}

console.log(`rendezvous bench: ${CORES} cores, ${ROUNDS} rounds, load average ${loadAverage()}`)
const loadAtStart = loadAverage()

const reference: number[] = []
const single: number[] = []
const all: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  reference.push(await inProcessRate())
  single.push(await miningRate(1))
  all.push(await miningRate(CORES))
  console.log(
    `  round ${round + 1}: in-process ${reference.at(-1)!.toFixed(0)} H/s, 1 worker ${single.at(-1)!.toFixed(0)} H/s, ${CORES} workers ${all.at(-1)!.toFixed(0)} H/s`,
  )
}
const ratios = single.map((rate, index) => all[index]! / rate)
const workerRatios = single.map((rate, index) => rate / reference[index]!)
console.log(
  `mining rate (median): in-process ${median(reference).toFixed(0)} H/s, 1 worker ${median(single).toFixed(0)} H/s (×${median(workerRatios).toFixed(2)} of in-process), ${CORES} workers ${median(all).toFixed(0)} H/s (×${median(ratios).toFixed(2)} of 1 worker)`,
)

const now = new Date()
const target = rendezvousTarget(USER, yearMonthOf(now))
const index: Index = {
  user: USER,
  machines: {
    laptop: {
      '/home/bench/docs': {
        url: contentUrl('convergent', sha256Hex(randomBytes(8)), sha256Hex(randomBytes(8))),
        time: now.toISOString(),
      },
    },
  },
  supersedes: [],
  version: INDEX_VERSION,
}
const plaintext = serializeIndex(index)
const mineTimes: number[] = []
const mineAttempts: number[] = []
let mined: Awaited<ReturnType<typeof minePassphraseBlock>> | undefined
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now()
  mined = await minePassphraseBlock(plaintext, PASSPHRASE, target)
  mineTimes.push(performance.now() - started)
  mineAttempts.push(mined.attempts)
}
console.log(
  `mining a 12-bit index block on ${CORES} threads, start-up included: median ${median(mineTimes).toFixed(0)} ms (${mineTimes.map((ms) => ms.toFixed(0)).join(', ')}), attempts median ${median(mineAttempts)}`,
)

// ------------------------------------------------------------------ lookup

const dir = mkdtempSync(join(tmpdir(), 'libernet-rendezvous-bench-'))
const lookups: Record<string, { medianMs: number; candidates: number }> = {}
let fillMs = 0
try {
  const store = await LibernetBlockstore.open({ path: dir, concurrency: 16 })
  const fillStarted = performance.now()
  const random = function* () {
    for (let i = 0; i < IDS; i++) {
      const bytes = randomBytes(32)
      yield { cid: idToCid(sha256Hex(bytes)), bytes }
    }
  }
  for await (const _ of store.putMany(random())) {
    // drained
  }
  fillMs = performance.now() - fillStarted
  console.log(`\nstore: ${IDS} random blocks put in ${(fillMs / 1000).toFixed(1)} s; load average ${loadAverage()}`)
  let current = mined!
  await store.putBlock(current.id, current.bytes)

  let decoys = 0
  for (const count of [0, 10, 100]) {
    for (; decoys < count; decoys++) {
      // Alternately another user's index under the same passphrase and this user's name under another one.
      const other = serializeIndex({ ...index, user: `other-${decoys}` })
      const block = await mineLike('passphrase', decoys % 2 === 0 ? other : plaintext, target, {
        passphrase: decoys % 2 === 0 ? PASSPHRASE : `other passphrase ${decoys}`,
      })
      await store.putBlock(block.id, block.bytes)
    }
    // Once decoys fill the like answer, a writer must beat its weakest entry (as writeIndex does).
    const answer = store.like(target, { minScore: 12, limit: 100 })
    if (!answer.some((match) => match.id === current.id)) {
      current = await minePassphraseBlock(plaintext, PASSPHRASE, target, { minScore: requiredScore(answer) })
      await store.putBlock(current.id, current.bytes)
    }
    const like = (id: string, options: { minScore: number; limit: number }) => store.like(id, options)
    const get = async (id: string) => (store.hasBlock(id) ? store.getBlock(id) : undefined)
    const times: number[] = []
    let candidates = 0
    for (let round = 0; round < Math.max(ROUNDS, 5); round++) {
      const started = performance.now()
      const found = await findBackups({ user: USER, passphrase: PASSPHRASE, like, get, now, months: 12 })
      times.push(performance.now() - started)
      if (found.indexes.length === 0) throw new Error('the index was not found')
      candidates = store.like(target, { minScore: 12, limit: 100 }).length
    }
    lookups[`decoys${count}`] = { medianMs: median(times), candidates }
    console.log(
      `findBackups, 12 months, ${count} decoys (${candidates} candidates this month): median ${median(times).toFixed(2)} ms`,
    )
  }
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`load average at the end ${loadAverage()}`)

if (values.json !== undefined) {
  const report = {
    cores: CORES,
    rounds: ROUNDS,
    loadAverage: { start: loadAtStart, end: loadAverage() },
    mining: {
      inProcessHps: reference,
      singleThreadHps: single,
      allCoresHps: all,
      medianSingle: median(single),
      medianAll: median(all),
      medianSpeedup: median(ratios),
      medianWorkerVsInProcess: median(workerRatios),
      indexBlockMs: mineTimes,
    },
    lookup: { ids: IDS, fillMs, ...lookups },
  }
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`)
}
