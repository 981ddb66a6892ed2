import { blockUrl } from '@libernet/core'
import { createRestoreProgress, restore } from '../restore/restore.ts'
import { formatBytes, megabytesPerSecond } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export interface RestoreCommandOptions {
  verify?: boolean
  fsync?: boolean
  externalLinks?: boolean
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
