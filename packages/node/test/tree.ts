import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Deterministic bytes: SHA-256 in counter mode over a seed (incompressible). */
export function pseudoRandom(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let offset = 0, counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest()
    offset += block.copy(out, offset)
  }
  return out
}

export const TREE_MTIME = 1_600_000_000.123

/**
 * The integration tree: nested directories, unicode and space names, empty
 * files and directories, symlinks to files, directories and nowhere,
 * executable and read-only files, a 5 MiB file.
 */
export function writeTestTree(root: string): void {
  const file = (path: string, data: string | Buffer, mode = 0o644, mtime = TREE_MTIME): void => {
    const absolute = join(root, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, data)
    chmodSync(absolute, mode)
    utimesSync(absolute, mtime, mtime)
  }
  file('README.txt', 'Libernet test tree\n'.repeat(50))
  file('empty.txt', '')
  file('big/five-mib.bin', pseudoRandom('five', 5 * 1024 * 1024))
  file('big/text.log', 'a line of a log file that compresses well\n'.repeat(40_000))
  file('bin/run.sh', '#!/bin/sh\necho hello\n', 0o755)
  file('docs/readonly.txt', 'do not touch\n', 0o444)
  file('docs/notes with spaces.txt', 'spaces in the name\n')
  file('docs/ünïcødé файл 文件 🎉.txt', 'unicode name\n')
  file('docs/deep/a/b/c/leaf.txt', 'deep\n')
  for (let index = 0; index < 40; index++) {
    file(`small/f${String(index).padStart(2, '0')}.dat`, pseudoRandom(`small${index}`, 100 + index * 37))
  }
  mkdirSync(join(root, 'emptydir/nested_empty'), { recursive: true })
  symlinkSync('README.txt', join(root, 'link_to_readme'))
  symlinkSync('docs/deep', join(root, 'link_to_deep_dir'))
  symlinkSync('nowhere/at/all', join(root, 'dangling'))
}
