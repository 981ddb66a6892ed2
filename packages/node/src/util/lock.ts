import { open, readFile, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { isProcessAlive } from './process.ts'

/**
 * An advisory lock file (`O_CREAT|O_EXCL`) holding the owner's pid. A lock
 * whose process is gone (killed with -9, say) is stale and taken over, so a
 * crash never blocks the next run.
 */
export async function withLockFile<T>(path: string, task: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o644)
      await handle.writeFile(String(process.pid))
      await handle.close()
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (await isStale(path)) {
        await rm(path, { force: true })
        continue
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`)
      await sleep(25)
    }
  }
  try {
    return await task()
  } finally {
    await rm(path, { force: true })
  }
}

async function isStale(path: string): Promise<boolean> {
  let pid: number
  try {
    pid = Number.parseInt(await readFile(path, 'utf8'), 10)
  } catch {
    // Gone already, or being written this very moment: try again shortly.
    return false
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return true
  if (pid === process.pid) return false
  return !isProcessAlive(pid)
}
