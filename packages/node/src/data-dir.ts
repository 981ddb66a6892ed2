import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * One data directory is one node (DESIGN §7): `--data`, else
 * `LIBERNET_DATA`, else `~/.libernet`. Inside it:
 *
 *   blocks/       the block store
 *   snapshots/    per-folder backup history
 */
export function resolveDataDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option ?? env.LIBERNET_DATA
  if (chosen !== undefined && chosen !== '') return resolve(chosen)
  return join(homedir(), '.libernet')
}

export function blocksDir(dataDir: string): string {
  return join(dataDir, 'blocks')
}

export function snapshotsDir(dataDir: string): string {
  return join(dataDir, 'snapshots')
}
