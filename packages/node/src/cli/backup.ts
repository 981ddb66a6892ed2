import { resolve } from 'node:path'
import { type BackupResult, backup, createBackupProgress } from '../backup/backup.ts'
import { compileExcludes } from '../backup/exclude.ts'
import { walk } from '../backup/walk.ts'
import { type PublishedIndex, publishIndex } from '../rendezvous/publish.ts'
import { formatBytes, megabytesPerSecond } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'
import { passphraseFor } from './passphrase.ts'

export interface BackupCommandOptions {
  exclude?: string[]
  full?: boolean
  passphrase?: string
  /** Also write this user's backup index (rendezvous), so the backup can be found by name and passphrase. */
  user?: string
  machine?: string
}

export async function backupCommand(
  folder: string,
  options: BackupCommandOptions,
  context: CommandContext,
): Promise<ExitCode> {
  const { output, signal } = context
  // Asked before the backup starts, not after minutes of work.
  const indexPassphrase =
    options.user === undefined ? undefined : await passphraseFor(options.user, options.passphrase, signal)
  const repo = await context.repo()
  const root = resolve(folder)
  const progress = createBackupProgress()
  const estimate = { bytes: 0, files: 0, done: false }
  if (output.interactive) void estimateTree(root, options.exclude ?? [], [context.dataDir], estimate, signal)
  const bar = output.progress('backup', () => ({
    bytes: progress.bytesDone,
    totalBytes: estimate.done ? estimate.bytes : undefined,
    files: progress.files,
    totalFiles: estimate.done ? estimate.files : undefined,
  }))
  let result: BackupResult
  try {
    result = await backup(root, {
      store: repo.store,
      pool: repo.pool,
      snapshots: repo.snapshots,
      ...(options.full === true ? { prior: null } : {}),
      exclude: options.exclude ?? [],
      skipAbsolute: [context.dataDir],
      ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
      signal,
      progress,
      onWarning: (warning) => {
        if (warning.kind === 'special') return
        output.warn(warning.path === '' ? warning.message : `${warning.path}: ${warning.message}`)
      },
    })
  } finally {
    bar.stop()
  }
  const partial = result.skipped.length > 0 || result.changed.length > 0
  let index: PublishedIndex | undefined
  if (options.user !== undefined && indexPassphrase !== undefined) {
    try {
      index = await publishIndex({
        user: options.user,
        passphrase: indexPassphrase,
        ...(options.machine !== undefined ? { machine: options.machine } : {}),
        folder: result.folder,
        snapshot: { url: result.url, time: new Date().toISOString() },
        store: repo.store,
        pool: repo.pool,
        like: (target, likeOptions) => repo.like(target, likeOptions),
        signal,
        // About 2^12 attempts for the usual 12 bits: a moment, but it may be more when a month is crowded.
        onProgress: (mining) =>
          output.status(
            `mining the index block for ${options.user}: ${mining.attempts.toLocaleString('en')} attempts, ${Math.round(mining.rate).toLocaleString('en')}/s`,
          ),
      })
    } finally {
      output.status(undefined)
    }
  }
  output.result({
    url: result.url,
    folder: result.folder,
    prior: result.prior,
    files: result.files,
    directories: result.directories,
    bytes: result.bytes,
    bytesRead: result.bytesRead,
    bytesReused: result.bytesReused,
    bytesStored: result.storedBytes,
    newBlocks: result.newBlocks,
    filesRead: result.readFiles,
    filesReused: result.reusedFiles,
    skipped: result.skipped,
    changed: result.changed,
    ignored: result.ignored,
    seconds: round(result.seconds),
    partial,
    ...(index !== undefined ? { index: { url: index.url, score: index.index.score, user: options.user } } : {}),
  })
  output.line(result.url)
  // Only the URL goes to stdout, so `url=$(libernet backup DIR)` works; the summary is for people.
  output.info(
    `  ${result.files} files (${result.readFiles} read, ${result.reusedFiles} unchanged), ${formatBytes(result.bytes)}; ${result.directories} empty directories and directory links`,
  )
  output.info(
    `  read ${formatBytes(result.bytesRead)}, stored ${formatBytes(result.storedBytes)} in ${result.newBlocks} new blocks, ${result.seconds.toFixed(1)} s (${megabytesPerSecond(result.bytesRead, result.seconds).toFixed(1)} MB/s)`,
  )
  if (index !== undefined) {
    output.info(
      `  index for ${options.user} written (${index.index.score} bits toward this month's rendezvous id, ${index.index.attempts} attempts)`,
    )
  }
  if (result.skipped.length > 0)
    output.warn(`${result.skipped.length} file(s) could not be read and are not in this snapshot`)
  if (result.changed.length > 0) output.warn(`${result.changed.length} file(s) kept changing while read`)
  return partial ? EXIT.partial : EXIT.ok
}

/** Walks the tree once more, only adding up sizes, so the progress bar can show a total and an ETA. */
async function estimateTree(
  root: string,
  exclude: string[],
  skip: string[],
  estimate: { bytes: number; files: number; done: boolean },
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const entry of walk(root, { exclude: compileExcludes(exclude), skipAbsolute: skip, signal })) {
      if (entry.kind === 'file') {
        estimate.files++
        estimate.bytes += Number(entry.stats.size)
      } else if (entry.kind === 'link') {
        estimate.files++
        if (entry.stats !== undefined) estimate.bytes += Number(entry.stats.size)
      }
    }
    estimate.done = true
  } catch {
    // Only a progress estimate: the backup reports real problems.
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000
}
