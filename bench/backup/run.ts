/**
 * Backup benchmark: libernet against restic (Debian's package) on the same
 * ~256 MiB dataset, in one run.
 *
 *   node bench/backup/run.ts [WORKDIR]      (default /tmp/libernet-bench-backup)
 *
 * Measures, for both tools: full backup MB/s, incremental backup time and
 * stored bytes after the edit script (against the genuinely new bytes),
 * restore MB/s, and peak RSS (from /usr/bin/time -v). Writes the numbers to
 * bench/backup/results.json and prints a Markdown table.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type DatasetSummary, generateDataset } from './dataset.ts'
import { type EditSummary, editDataset } from './edit.ts'

const root = resolve(import.meta.dirname, '../..')
const work = resolve(process.argv[2] ?? '/tmp/libernet-bench-backup')
const dataset = join(work, 'dataset')
const libernetData = join(work, 'libernet-data')
const resticRepo = join(work, 'restic-repo')
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

/**
 * Writes back dirty pages (the dataset just written, the edit) and reads every
 * file once, so both tools start from the same warm page cache and neither
 * pays for writing back the other's data: a tool that syncs the file system
 * (libernet's pin does) would otherwise flush the whole fresh dataset.
 */
function warm(directory: string): void {
  execFileSync('sync')
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) readFileSync(join(entry.parentPath, entry.name))
  }
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
rmSync(work, { recursive: true, force: true })
console.error(`dataset in ${dataset}...`)
const generated: DatasetSummary = generateDataset(dataset)
warm(dataset)

// Full backups.
const libernetFull = measure(process.execPath, [cli, '--data', libernetData, '--json', 'backup', dataset])
const libernetFullJson = JSON.parse(libernetFull.stdout) as { bytesStored: number }
const libernetAfterFull = directoryBytes(libernetData)
execFileSync(restic, ['-r', resticRepo, 'init', '-q'], { env: resticEnv })
warm(dataset)
const resticFull = measure(restic, ['-r', resticRepo, 'backup', '-q', dataset], resticEnv)
const resticAfterFull = directoryBytes(resticRepo)

// The edit, then incremental backups.
const edit: EditSummary = editDataset(dataset)
warm(dataset)
const libernetIncremental = measure(process.execPath, [cli, '--data', libernetData, '--json', 'backup', dataset])
const libernetIncrementalJson = JSON.parse(libernetIncremental.stdout) as { url: string; bytesStored: number }
const libernetGrowth = directoryBytes(libernetData) - libernetAfterFull
warm(dataset)
const resticIncremental = measure(restic, ['-r', resticRepo, 'backup', '-q', dataset], resticEnv)
const resticGrowth = directoryBytes(resticRepo) - resticAfterFull

// Restores of the latest snapshot.
const datasetBytes = directoryBytes(dataset)
const expected = treeDigest(dataset)
const libernetTarget = join(work, 'libernet-restore')
execFileSync('sync')
const libernetRestore = measure(process.execPath, [
  cli,
  '--data',
  libernetData,
  '--json',
  'restore',
  libernetIncrementalJson.url,
  libernetTarget,
])
const libernetRestoreOk = treeDigest(libernetTarget) === expected
const resticTarget = join(work, 'restic-restore')
// The other tool's restored files are written back first, not during this restore.
execFileSync('sync')
const resticRestore = measure(restic, ['-r', resticRepo, 'restore', 'latest', '--target', resticTarget], resticEnv)
const resticRestoreOk = treeDigest(join(resticTarget, dataset)) === expected

const results = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version, restic: resticVersion },
  dataset: { ...generated, path: dataset },
  edit,
  libernet: {
    fullSeconds: libernetFull.seconds,
    fullMBps: generated.bytes / MB / libernetFull.seconds,
    fullPeakRssMiB: libernetFull.peakRssMiB,
    fullStoreBytes: libernetAfterFull,
    fullReportedBytes: libernetFullJson.bytesStored,
    incrementalSeconds: libernetIncremental.seconds,
    incrementalStoredBytes: libernetGrowth,
    incrementalReportedBytes: libernetIncrementalJson.bytesStored,
    incrementalPeakRssMiB: libernetIncremental.peakRssMiB,
    restoreSeconds: libernetRestore.seconds,
    restoreMBps: datasetBytes / MB / libernetRestore.seconds,
    restorePeakRssMiB: libernetRestore.peakRssMiB,
    restoreCorrect: libernetRestoreOk,
  },
  restic: {
    fullSeconds: resticFull.seconds,
    fullMBps: generated.bytes / MB / resticFull.seconds,
    fullPeakRssMiB: resticFull.peakRssMiB,
    fullStoreBytes: resticAfterFull,
    incrementalSeconds: resticIncremental.seconds,
    incrementalStoredBytes: resticGrowth,
    incrementalPeakRssMiB: resticIncremental.peakRssMiB,
    restoreSeconds: resticRestore.seconds,
    restoreMBps: datasetBytes / MB / resticRestore.seconds,
    restorePeakRssMiB: resticRestore.peakRssMiB,
    restoreCorrect: resticRestoreOk,
  },
}
writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)

const l = results.libernet
const r = results.restic
const f = (value: number, digits = 1): string => value.toFixed(digits)
console.log(`dataset: ${generated.files} files, ${f(generated.bytes / MIB)} MiB; edit: ${f(edit.newBytes / MIB, 2)} MiB new
| | libernet | restic | goal |
|---|---:|---:|---|
| full backup | ${f(l.fullSeconds, 2)} s, ${f(l.fullMBps)} MB/s | ${f(r.fullSeconds, 2)} s, ${f(r.fullMBps)} MB/s | libernet >= restic |
| store after full backup | ${f(l.fullStoreBytes / MIB)} MiB | ${f(r.fullStoreBytes / MIB)} MiB | |
| incremental backup | ${f(l.incrementalSeconds, 2)} s | ${f(r.incrementalSeconds, 2)} s | |
| incremental stored | ${f(l.incrementalStoredBytes / MIB, 2)} MiB (${f(l.incrementalStoredBytes / edit.newBytes, 2)} x new) | ${f(r.incrementalStoredBytes / MIB, 2)} MiB (${f(r.incrementalStoredBytes / edit.newBytes, 2)} x new) | <= 1.2 x new |
| restore | ${f(l.restoreSeconds, 2)} s, ${f(l.restoreMBps)} MB/s${l.restoreCorrect ? '' : ' (WRONG)'} | ${f(r.restoreSeconds, 2)} s, ${f(r.restoreMBps)} MB/s${r.restoreCorrect ? '' : ' (WRONG)'} | libernet >= restic |
| peak RSS (full / incremental / restore) | ${f(l.fullPeakRssMiB, 0)} / ${f(l.incrementalPeakRssMiB, 0)} / ${f(l.restorePeakRssMiB, 0)} MiB | ${f(r.fullPeakRssMiB, 0)} / ${f(r.incrementalPeakRssMiB, 0)} / ${f(r.restorePeakRssMiB, 0)} MiB | < 300 MiB |`)
if (!existsSync(libernetTarget) || !l.restoreCorrect) process.exitCode = 1
