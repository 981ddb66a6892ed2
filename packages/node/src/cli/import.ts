import { importBlocks } from '../import.ts'
import { formatBytes } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export async function importCommand(path: string, context: CommandContext): Promise<ExitCode> {
  const repo = await context.repo()
  const progress = { files: 0, bytes: 0 }
  const bar = context.output.progress('import', () => ({ bytes: progress.bytes, files: progress.files }))
  let result: Awaited<ReturnType<typeof importBlocks>>
  try {
    result = await importBlocks(path, { store: repo.store, pool: repo.pool, signal: context.signal, progress })
  } finally {
    bar.stop()
  }
  context.output.result({
    imported: result.imported,
    present: result.present,
    rejected: result.rejected,
    ignored: result.ignored,
    bytes: result.bytes,
  })
  context.output.line(
    `imported ${result.imported} blocks (${formatBytes(result.bytes)}), ${result.present} already present, ${result.rejected.length} rejected, ${result.ignored} other files ignored`,
  )
  for (const { path: file, reason } of result.rejected) context.output.error(`rejected ${file}: ${reason}`)
  return result.rejected.length > 0 ? EXIT.verification : EXIT.ok
}
