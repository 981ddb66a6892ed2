import { resolve } from 'node:path'
import { formatBytes } from '../util/format.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export async function snapshotsCommand(folder: string | undefined, context: CommandContext): Promise<ExitCode> {
  const repo = await context.repo()
  const histories = folder === undefined ? await repo.snapshots.all() : [await repo.snapshots.history(resolve(folder))]
  context.output.result({ folders: histories })
  for (const history of histories) {
    context.output.line(`${history.folder}`)
    if (history.snapshots.length === 0) context.output.line('  (no snapshots)')
    for (const snapshot of history.snapshots) {
      context.output.line(
        `  ${snapshot.time}  ${String(snapshot.files).padStart(8)} files  ${formatBytes(snapshot.bytes).padStart(10)}  ${snapshot.url}`,
      )
    }
  }
  return EXIT.ok
}
