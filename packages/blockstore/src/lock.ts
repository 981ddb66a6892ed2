import { open, readFile, realpath, unlink, writeFile } from 'node:fs/promises'
import { StoreLockedError } from './errors.ts'

/** Stores open in this process, by real path: a second instance on the same folder is refused too. */
const openHere = new Set<string>()

/**
 * Takes the store's LOCK file (it holds the owner's pid). A lock left by a
 * process that no longer exists (killed, crashed) is taken over, so a restart
 * after SIGKILL needs no manual cleanup. SQLite's exclusive locking mode on
 * the metadata file backs this up against two processes racing for a stale lock.
 * Returns the release function.
 */
export async function acquireLock(lockFile: string, root: string): Promise<() => Promise<void>> {
  const key = await realpath(root)
  if (openHere.has(key)) throw new StoreLockedError(`the store at ${root} is already open in this process`)
  const pid = String(process.pid)
  try {
    const handle = await open(lockFile, 'wx')
    try {
      await handle.writeFile(pid)
    } finally {
      await handle.close()
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10)
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new StoreLockedError(`the store at ${root} is open in process ${holder}`)
    }
    await writeFile(lockFile, pid)
  }
  openHere.add(key)
  return async () => {
    openHere.delete(key)
    await unlink(lockFile).catch(() => {})
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
