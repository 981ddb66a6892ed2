import { execFile } from 'node:child_process'
import { platform, release } from 'node:os'

/**
 * Flushes every dirty page and inode of the file system holding `dir` with
 * one syncfs(2) call (coreutils `sync --file-system`, so no native addon):
 * one call makes everything written so far durable, where an fsync per file
 * costs a journal commit each. Resolves to false when that is not available
 * or fails, and the caller falls back to fsyncing file by file (which then
 * reports any I/O error itself).
 *
 * Only used on Linux 5.8 and later: older kernels do not report writeback
 * errors from syncfs(2), so a success there would not prove the data is on disk.
 */
export async function syncFileSystem(dir: string): Promise<boolean> {
  if (!syncfsReportsErrors()) return false
  return new Promise((resolve) => {
    execFile('sync', ['--file-system', dir], { timeout: 10 * 60 * 1000 }, (err) => resolve(err === null))
  })
}

let reportsErrors: boolean | undefined

function syncfsReportsErrors(): boolean {
  if (reportsErrors === undefined) {
    const [major = 0, minor = 0] = release()
      .split(/[.-]/)
      .map((part) => Number.parseInt(part, 10))
    reportsErrors = platform() === 'linux' && (major > 5 || (major === 5 && minor >= 8))
  }
  return reportsErrors
}
