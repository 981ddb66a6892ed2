import { open, stat } from 'node:fs/promises'

/** The size of `file`, or undefined when it does not exist. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function exists(file: string): Promise<boolean> {
  return (await fileSize(file)) !== undefined
}

/** fsyncs a file written earlier without it. */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
