import { resolveDataDir } from '../data-dir.ts'
import { openRepo, type Repo } from '../repo.ts'
import type { Output } from './output.ts'

/** What every command gets: where to print, which data directory, and the Ctrl-C signal. */
export interface CommandContext {
  output: Output
  dataDir: string
  signal: AbortSignal
  /** Opens the data directory's store (once) and closes it when the command ends. */
  repo(): Promise<Repo>
}

export interface GlobalOptions {
  data?: string
  json?: boolean
  quiet?: boolean
}

export function createContext(
  output: Output,
  options: GlobalOptions,
  signal: AbortSignal,
): CommandContext & { close(): Promise<void> } {
  const dataDir = resolveDataDir(options.data)
  let opened: Promise<Repo> | undefined
  return {
    output,
    dataDir,
    signal,
    repo() {
      opened ??= openRepo(dataDir)
      return opened
    },
    async close() {
      if (opened === undefined) return
      const repo = await opened.catch(() => undefined)
      await repo?.close()
    },
  }
}
