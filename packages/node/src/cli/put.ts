import { putFile } from '../backup/put.ts'
import type { CommandContext } from './context.ts'
import { EXIT, type ExitCode } from './exit-codes.ts'

export async function putCommand(path: string, context: CommandContext): Promise<ExitCode> {
  const repo = await context.repo()
  const result = await putFile(path, { store: repo.store, pool: repo.pool, signal: context.signal })
  context.output.result({
    url: result.url,
    bundle: result.bundleUrl,
    bytes: result.size,
    bytesStored: result.storedBytes,
  })
  context.output.line(result.url)
  return EXIT.ok
}
