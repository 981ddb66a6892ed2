import type { BundleFile } from '@libernet/core'

/**
 * The mode a file gets: what the umask gave it at creation, plus execute
 * where it can be read when executable, minus every write bit when read-only.
 */
export function modeFor(current: number, file: Pick<BundleFile, 'executable' | 'readonly'>): number {
  let mode = current & 0o7777
  if (file.executable === true) mode |= (mode & 0o444) >> 2
  else mode &= ~0o111
  if (file.readonly === true) mode &= ~0o222
  else mode |= 0o200
  return mode
}
