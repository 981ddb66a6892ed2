import { readFile } from 'node:fs/promises'
import { writeFileDurable } from './atomic-write.ts'

/**
 * The list of pinned backup roots, kept outside the database in a small JSON
 * file written atomically and durably. It is the source of truth for pins:
 * the database's pin index is derived from it by walking each root, so a lost
 * or corrupt database loses no pins, and the two are reconciled on open.
 */

export interface PinRoot {
  owner: string
  /** The backup root's bundle URL. */
  url: string
  /** When it was pinned, ms since the POSIX epoch. */
  pinnedAt: number
}

interface PinsFileContent {
  version: 1
  roots: PinRoot[]
}

/** Reads the roots; `undefined` when the file does not exist or cannot be parsed. */
export async function readPinsFile(file: string): Promise<PinRoot[] | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const content = JSON.parse(text) as Partial<PinsFileContent>
    if (content.version !== 1 || !Array.isArray(content.roots)) return undefined
    return content.roots.filter(
      (root): root is PinRoot =>
        typeof root?.owner === 'string' && typeof root.url === 'string' && typeof root.pinnedAt === 'number',
    )
  } catch {
    return undefined
  }
}

export async function writePinsFile(file: string, tmpDir: string, dir: string, roots: PinRoot[]): Promise<void> {
  const content: PinsFileContent = { version: 1, roots }
  await writeFileDurable(tmpDir, file, new TextEncoder().encode(`${JSON.stringify(content, null, 2)}\n`), dir)
}
