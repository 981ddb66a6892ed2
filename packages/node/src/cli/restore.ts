import { join, resolve } from 'node:path'
import { blockUrl } from '@libernet/core'
import { InvalidArgumentError, NotFoundError } from '../errors.ts'
import { findBackups } from '../rendezvous/find.ts'
import { listSnapshots } from '../rendezvous/index-format.ts'
import { createRestoreProgress, restore } from '../restore/restore.ts'
import { formatBytes, megabytesPerSecond } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'
import { passphraseFor } from './passphrase.ts'

export interface RestoreCommandOptions {
  verify?: boolean
  fsync?: boolean
  externalLinks?: boolean
  /** Find the snapshot(s) by user name and passphrase instead of a URL. */
  user?: string
  passphrase?: string
  machine?: string
  folder?: string
  months?: string
}

/**
 * `restore --user NAME DIR`: finds the user's backup indexes by like
 * queries over recent months (the network's, through a running node), keeps
 * what the passphrase opens, and restores the latest snapshot of each
 * matching machine and folder: into DIR when there is one, else into
 * DIR/{machine}/{folder path}.
 */
export async function restoreUserCommand(
  directory: string,
  options: RestoreCommandOptions & { user: string },
  context: CommandContext,
): Promise<ExitCode> {
  const { output, signal } = context
  const passphrase = await passphraseFor(options.user, options.passphrase, signal)
  const months = options.months === undefined ? undefined : Number(options.months)
  if (months !== undefined && !(Number.isInteger(months) && months > 0)) {
    throw new InvalidArgumentError(`--months must be a positive whole number, got ${options.months}`)
  }
  const repo = await context.repo()
  const found = await findBackups({
    user: options.user,
    passphrase,
    like: (target, likeOptions) => repo.like(target, likeOptions),
    get: (id, getOptions) => repo.store.get(id, getOptions),
    ...(months !== undefined ? { months } : {}),
    signal,
  })
  const filter = {
    ...(options.machine !== undefined ? { machine: options.machine } : {}),
    ...(options.folder !== undefined ? { folder: resolve(options.folder) } : {}),
  }
  const snapshots = listSnapshots(found.machines, filter)
  if (snapshots.length === 0) {
    // The same answer for a wrong passphrase and for a user with no backups: it reveals nothing.
    throw new NotFoundError(`no backups found for ${options.user}`)
  }
  let worst: ExitCode = EXIT.ok
  for (const snapshot of snapshots) {
    const target =
      snapshots.length === 1 ? directory : join(directory, ...safeSegments(snapshot.machine, snapshot.folder))
    output.info(`${snapshot.machine}:${snapshot.folder} (${snapshot.time}) → ${target}`)
    const code = await restoreCommand(snapshot.url, target, options, context)
    if (code !== EXIT.ok && worst === EXIT.ok) worst = code
  }
  return worst
}

/** Path segments for a machine and folder named in an index: no empty, `.` or `..` segments. */
function safeSegments(machine: string, folder: string): string[] {
  return [machine, ...folder.split('/')].filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

export async function restoreCommand(
  url: string,
  directory: string,
  options: RestoreCommandOptions,
  context: CommandContext,
): Promise<ExitCode> {
  const { output, signal } = context
  const repo = await context.repo()
  const progress = createRestoreProgress()
  const bar = output.progress('restore', () => ({
    bytes: progress.bytes,
    totalBytes: progress.bytesTotal,
    files: progress.files,
    totalFiles: progress.filesTotal,
  }))
  let result: Awaited<ReturnType<typeof restore>>
  try {
    result = await restore(url, directory, {
      store: repo.store,
      pool: repo.pool,
      verify: options.verify === true,
      fsync: options.fsync === true,
      externalLinks: options.externalLinks === true,
      signal,
      progress,
      // Files lost to missing blocks are listed once, at the end.
      onWarning: (warning) => {
        if (!warning.missing) output.warn(`${warning.path}: ${warning.message}`)
      },
    })
  } finally {
    bar.stop()
  }
  const code = result.corrupt > 0 ? EXIT.verification : result.missingBlocks.length > 0 ? EXIT.missingBlocks : EXIT.ok
  output.result({
    url: result.url,
    target: result.target,
    files: result.files,
    bytes: result.bytes,
    written: result.written,
    upToDate: result.upToDate,
    links: result.links,
    directories: result.directories,
    bytesWritten: result.bytesWritten,
    failed: result.failed,
    missingBlocks: result.missingBlocks,
    seconds: Math.round(result.seconds * 1000) / 1000,
  })
  output.line(
    `restored ${result.files - result.failed.length} of ${result.files} files into ${result.target} (${result.written} written, ${result.upToDate} already up to date), ${formatBytes(result.bytes)} in ${result.seconds.toFixed(1)} s (${megabytesPerSecond(result.bytesWritten, result.seconds).toFixed(1)} MB/s)`,
  )
  if (result.failed.length > 0) {
    output.error(`${result.failed.length} of ${result.files} files could not be restored:`)
    output.list(result.failed.map(({ path, reason }) => `${path} (${reason})`))
  }
  if (result.missingBlocks.length > 0) {
    output.error(`${result.missingBlocks.length} block(s) missing from the store:`)
    output.list(result.missingBlocks.map((id) => blockUrl(id)))
  }
  return code
}
