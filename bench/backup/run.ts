/**
 * Backup benchmark: libernet against restic (Debian's package) on the same
 * ~256 MiB dataset, in one run.
 *
 *   node bench/backup/run.ts [WORKDIR] [--rounds N] [--settle S] [--keep-cache]
 *
 * (default /tmp/libernet-bench-backup, 3 rounds, 65 s). A previous run's
 * files in WORKDIR are deleted first, then the run waits S seconds after a
 * sync: ext4 without a journal (this machine's) skips an inode freed less
 * than 60 s ago when it allocates a new one (5 minutes more while its inode
 * table block is dirty; `recently_deleted()` in fs/ext4/ialloc.c), so
 * creating a file right after tens of thousands were deleted nearby costs
 * several times as much. Libernet creates a file per block and restic a
 * few pack files, so measuring in that minute measures the previous run's
 * cleanup, and mostly libernet's. In a busy directory such as /tmp the inode
 * table blocks keep being dirtied and the effect lasted over 6 minutes here:
 * for comparable numbers give each run a WORKDIR of its own on a file system
 * that has not just deleted thousands of files (see BENCHMARKS.md).
 *
 * Measures, for both tools: full backup MB/s, incremental backup time and
 * stored bytes after the edit script (against the genuinely new bytes),
 * restore MB/s, and peak RSS (from /usr/bin/time -v). Full backups and
 * restores run N rounds, each into a fresh store or target, the two tools
 * taking turns at going first (whichever runs second inherits the file
 * system's state the first one left); the table gives medians, results.json
 * every run. Each measured command starts from a page cache written back,
 * dropped (as root) and holding only that command's inputs, read once
 * (`--keep-cache`: written back only; see settle() below). Writes the numbers to bench/backup/results.json and
 * prints a Markdown table.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from '../median.ts'
import { type DatasetSummary, generateDataset } from './dataset.ts'
import { type EditSummary, editDataset } from './edit.ts'

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '65' },
    'keep-cache': { type: 'boolean', default: false },
  },
})
const rounds = Number(flags.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a positive integer, not ${flags.rounds}`)
const settleSeconds = Number(flags.settle)
if (!(settleSeconds >= 0)) throw new Error(`--settle takes a number of seconds, not ${flags.settle}`)
/** Whether each measured command starts from a dropped page cache (see {@link settle}). */
const dropCaches = !flags['keep-cache'] && isWritable('/proc/sys/vm/drop_caches')
const root = resolve(import.meta.dirname, '../..')
const work = resolve(positionals[0] ?? '/tmp/libernet-bench-backup')
const dataset = join(work, 'dataset')
const cli = join(root, 'packages/node/bin/libernet.mjs')
const resticEnv = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(work, 'restic-cache') }

interface Run {
  seconds: number
  peakRssMiB: number
  stdout: string
}

/** Runs a command under /usr/bin/time -v: wall time and peak RSS of the whole process (workers included). */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const started = performance.now()
  const result = spawnSync('/usr/bin/time', ['-v', command, ...args], { env, maxBuffer: 1 << 28, encoding: 'utf8' })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)
  return { seconds, peakRssMiB: rss === null ? Number.NaN : Number(rss[1]) / 1024, stdout: result.stdout }
}

function ensureRestic(): string {
  const found = spawnSync('sh', ['-c', 'command -v restic'], { encoding: 'utf8' })
  if (found.status === 0) return found.stdout.trim()
  console.error('installing restic from Debian...')
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'restic'], { stdio: 'inherit' })
  return 'restic'
}

function directoryBytes(directory: string): number {
  let total = 0
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size
  }
  return total
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** Reads every file below `directory` once, into the page cache. */
function readEvery(directory: string): void {
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) readFileSync(join(entry.parentPath, entry.name))
  }
}

/**
 * Writes back dirty pages (the dataset just written, the edit) and reads every
 * file once, so both tools start from the same warm page cache and neither
 * pays for writing back the other's data: a tool that syncs the file system
 * (libernet's pin does) would otherwise flush the whole fresh dataset.
 */
function warm(directory: string): void {
  execFileSync('sync')
  readEvery(directory)
}

/**
 * The page cache as each measured command finds it: written back, dropped
 * (as root, where /proc/sys/vm/drop_caches can be written), and holding the
 * command's inputs only, read once. On a virtual machine, memory the guest
 * has not used before costs the host a fault per page the first time (18 µs
 * a page here, BENCHMARKS.md); a run writes some 3 GB of new files, so without
 * the drop every command's writes took pages never used before, at a cost
 * that moved from one command to the next (a restore's system time from
 * 0.75-1.30 s to 1.8-2.7 s, BENCHMARKS.md "Page cache"). After the drop its
 * writes land in pages just freed, as on a machine that has been up a while.
 * `--keep-cache` skips the drop.
 */
function settle(inputs: string[]): void {
  execFileSync('sync')
  if (dropCaches) writeFileSync('/proc/sys/vm/drop_caches', '1')
  for (const input of inputs) if (existsSync(input)) readEvery(input)
}

function treeDigest(directory: string): string {
  const hash = createHash('sha256')
  const entries = readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
  for (const path of entries) {
    hash.update(path.slice(directory.length))
    hash.update(readFileSync(path))
  }
  return hash.digest('hex')
}

const MB = 1e6
const MIB = 1024 * 1024

const restic = ensureRestic()
const resticVersion = execFileSync(restic, ['version'], { encoding: 'utf8' }).trim()
if (existsSync(work)) {
  rmSync(work, { recursive: true, force: true })
  execFileSync('sync')
  console.error(`deleted the previous run's files; waiting ${settleSeconds} s for the file system to settle...`)
  await new Promise((done) => setTimeout(done, settleSeconds * 1000))
}
console.error(`dataset in ${dataset}...`)
const generated: DatasetSummary = generateDataset(dataset)
warm(dataset)

/** Runs `first` then `second` in odd rounds, the other way round in even ones. */
function inTurn<T>(round: number, libernet: () => T, restic: () => T): { libernet: T; restic: T } {
  if (round % 2 === 1) {
    const l = libernet()
    return { libernet: l, restic: restic() }
  }
  const r = restic()
  return { libernet: libernet(), restic: r }
}
const libernetData = (round: number): string => join(work, `libernet-data-${round}`)
const resticRepo = (round: number): string => join(work, `restic-repo-${round}`)

// Full backups, each into a fresh store.
const fulls: Array<{ libernet: Run & { stored: number }; restic: Run & { stored: number } }> = []
for (let round = 1; round <= rounds; round++) {
  console.error(`full backups, round ${round} of ${rounds}...`)
  execFileSync(restic, ['-r', resticRepo(round), 'init', '-q'], { env: resticEnv })
  fulls.push(
    inTurn(
      round,
      () => {
        settle([dataset])
        const run = measure(process.execPath, [cli, '--data', libernetData(round), '--json', 'backup', dataset])
        return { ...run, stored: directoryBytes(libernetData(round)) }
      },
      () => {
        settle([dataset])
        const run = measure(restic, ['-r', resticRepo(round), 'backup', '-q', dataset], resticEnv)
        return { ...run, stored: directoryBytes(resticRepo(round)) }
      },
    ),
  )
}

// The edit, then incremental backups on the last round's stores.
const last = rounds
const edit: EditSummary = editDataset(dataset)
settle([dataset, libernetData(last)])
const libernetIncremental = measure(process.execPath, [cli, '--data', libernetData(last), '--json', 'backup', dataset])
const libernetIncrementalJson = JSON.parse(libernetIncremental.stdout) as { url: string; bytesStored: number }
const libernetGrowth = directoryBytes(libernetData(last)) - fulls[last - 1]!.libernet.stored
settle([dataset, resticRepo(last), join(work, 'restic-cache')])
const resticIncremental = measure(restic, ['-r', resticRepo(last), 'backup', '-q', dataset], resticEnv)
const resticGrowth = directoryBytes(resticRepo(last)) - fulls[last - 1]!.restic.stored

// Restores of the latest snapshot, each into a fresh target.
const datasetBytes = directoryBytes(dataset)
const expected = treeDigest(dataset)
const restores: Array<{ libernet: Run & { correct: boolean }; restic: Run & { correct: boolean } }> = []
for (let round = 1; round <= rounds; round++) {
  console.error(`restores, round ${round} of ${rounds}...`)
  restores.push(
    inTurn(
      round,
      () => {
        const target = join(work, `libernet-restore-${round}`)
        // The other tool's restored files are written back first, not during this restore.
        settle([libernetData(last)])
        const args = ['--data', libernetData(last), '--json', 'restore', libernetIncrementalJson.url, target]
        const run = measure(process.execPath, [cli, ...args])
        return { ...run, correct: treeDigest(target) === expected }
      },
      () => {
        const target = join(work, `restic-restore-${round}`)
        settle([resticRepo(last), join(work, 'restic-cache')])
        const run = measure(restic, ['-r', resticRepo(last), 'restore', 'latest', '--target', target], resticEnv)
        return { ...run, correct: treeDigest(join(target, dataset)) === expected }
      },
    ),
  )
}

/** One tool's rounds of one command: every round's seconds, the median, MB/s at the median, the highest RSS. */
function summarize(runs: Run[], bytes: number): { runs: number[]; seconds: number; mbps: number; peakRssMiB: number } {
  const times = runs.map((run) => run.seconds)
  const seconds = median(times)
  return {
    runs: times,
    seconds,
    mbps: bytes / MB / seconds,
    peakRssMiB: Math.max(...runs.map((run) => run.peakRssMiB)),
  }
}
const libernetFull = summarize(
  fulls.map((round) => round.libernet),
  generated.bytes,
)
const resticFull = summarize(
  fulls.map((round) => round.restic),
  generated.bytes,
)
const libernetRestore = summarize(
  restores.map((round) => round.libernet),
  datasetBytes,
)
const resticRestore = summarize(
  restores.map((round) => round.restic),
  datasetBytes,
)
const results = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version, restic: resticVersion },
  rounds,
  pageCache: dropCaches ? 'dropped before each command, inputs read again' : 'kept',
  dataset: { ...generated, path: dataset },
  edit,
  libernet: {
    fullSeconds: libernetFull.seconds,
    fullRuns: libernetFull.runs,
    fullMBps: libernetFull.mbps,
    fullPeakRssMiB: libernetFull.peakRssMiB,
    fullStoreBytes: fulls[last - 1]!.libernet.stored,
    fullReportedBytes: (JSON.parse(fulls[last - 1]!.libernet.stdout) as { bytesStored: number }).bytesStored,
    incrementalSeconds: libernetIncremental.seconds,
    incrementalStoredBytes: libernetGrowth,
    incrementalReportedBytes: libernetIncrementalJson.bytesStored,
    incrementalPeakRssMiB: libernetIncremental.peakRssMiB,
    restoreSeconds: libernetRestore.seconds,
    restoreRuns: libernetRestore.runs,
    restoreMBps: libernetRestore.mbps,
    restorePeakRssMiB: libernetRestore.peakRssMiB,
    restoreCorrect: restores.every((round) => round.libernet.correct),
  },
  restic: {
    fullSeconds: resticFull.seconds,
    fullRuns: resticFull.runs,
    fullMBps: resticFull.mbps,
    fullPeakRssMiB: resticFull.peakRssMiB,
    fullStoreBytes: fulls[last - 1]!.restic.stored,
    incrementalSeconds: resticIncremental.seconds,
    incrementalStoredBytes: resticGrowth,
    incrementalPeakRssMiB: resticIncremental.peakRssMiB,
    restoreSeconds: resticRestore.seconds,
    restoreRuns: resticRestore.runs,
    restoreMBps: resticRestore.mbps,
    restorePeakRssMiB: resticRestore.peakRssMiB,
    restoreCorrect: restores.every((round) => round.restic.correct),
  },
}
writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)

const l = results.libernet
const r = results.restic
const f = (value: number, digits = 1): string => value.toFixed(digits)
const list = (values: number[]): string => values.map((value) => f(value, 2)).join(', ')
console.log(`dataset: ${generated.files} files, ${f(generated.bytes / MIB)} MiB; edit: ${f(edit.newBytes / MIB, 2)} MiB new; ${rounds} rounds, medians; page cache ${dropCaches ? 'dropped before each command' : 'kept'}
| | libernet | restic | goal |
|---|---:|---:|---|
| full backup | ${f(l.fullSeconds, 2)} s, ${f(l.fullMBps)} MB/s | ${f(r.fullSeconds, 2)} s, ${f(r.fullMBps)} MB/s | libernet >= restic |
| full backup, every round (s) | ${list(l.fullRuns)} | ${list(r.fullRuns)} | |
| store after full backup | ${f(l.fullStoreBytes / MIB)} MiB | ${f(r.fullStoreBytes / MIB)} MiB | |
| incremental backup | ${f(l.incrementalSeconds, 2)} s | ${f(r.incrementalSeconds, 2)} s | |
| incremental stored | ${f(l.incrementalStoredBytes / MIB, 2)} MiB (${f(l.incrementalStoredBytes / edit.newBytes, 2)} x new) | ${f(r.incrementalStoredBytes / MIB, 2)} MiB (${f(r.incrementalStoredBytes / edit.newBytes, 2)} x new) | <= 1.2 x new |
| restore | ${f(l.restoreSeconds, 2)} s, ${f(l.restoreMBps)} MB/s${l.restoreCorrect ? '' : ' (WRONG)'} | ${f(r.restoreSeconds, 2)} s, ${f(r.restoreMBps)} MB/s${r.restoreCorrect ? '' : ' (WRONG)'} | libernet >= restic |
| restore, every round (s) | ${list(l.restoreRuns)} | ${list(r.restoreRuns)} | |
| peak RSS (full / incremental / restore) | ${f(l.fullPeakRssMiB, 0)} / ${f(l.incrementalPeakRssMiB, 0)} / ${f(l.restorePeakRssMiB, 0)} MiB | ${f(r.fullPeakRssMiB, 0)} / ${f(r.incrementalPeakRssMiB, 0)} / ${f(r.restorePeakRssMiB, 0)} MiB | < 300 MiB |`)
if (!l.restoreCorrect || !r.restoreCorrect) process.exitCode = 1
