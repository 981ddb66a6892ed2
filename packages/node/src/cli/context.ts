import { CodecPool } from '@libernet/core'
import { ApiClient } from '../api/client.ts'
import { readApiFile } from '../api/file.ts'
import { resolveDataDir, snapshotsDir } from '../data-dir.ts'
import type { RepoView } from '../repo.ts'
import { SnapshotLog } from '../snapshots.ts'
import type { Output } from './output.ts'

/** What every command gets: where to print, which data directory, and the Ctrl-C signal. */
export interface CommandContext {
  output: Output
  dataDir: string
  signal: AbortSignal
  /**
   * The data directory (once per command, closed when it ends): through the
   * node running on it, so blocks come from the network and pins replicate,
   * or opened directly when no node runs.
   */
  repo(): Promise<RepoView>
  /** The node running on the data directory, if one does. */
  node(): Promise<ApiClient | undefined>
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
  let opened: Promise<RepoView> | undefined
  let client: Promise<ApiClient | undefined> | undefined
  const node = (): Promise<ApiClient | undefined> => {
    client ??= readApiFile(dataDir).then((endpoint) => (endpoint === undefined ? undefined : new ApiClient(endpoint)))
    return client
  }
  return {
    output,
    dataDir,
    signal,
    node,
    repo() {
      opened ??= node().then(async (running) =>
        running === undefined ? (await import('../repo.ts')).openRepo(dataDir) : remoteRepo(dataDir, running),
      )
      return opened
    },
    async close() {
      if (opened === undefined) return
      const repo = await opened.catch(() => undefined)
      await repo?.close()
    },
  }
}

/** The data directory as seen through its running node. */
function remoteRepo(dataDir: string, node: ApiClient): RepoView {
  const pool = new CodecPool()
  return {
    dataDir,
    store: node.store(),
    snapshots: new SnapshotLog(snapshotsDir(dataDir)),
    pool,
    verifyStore: (options = {}) => node.verify(options.signal),
    pinRoots: () => node.pins(),
    like: (target, options) => node.like(target, options),
    close: () => pool.close(),
  }
}
