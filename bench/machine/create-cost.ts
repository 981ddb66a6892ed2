/**
 * What creating a file costs in each of the given directories, the way a
 * block store writes one (create a temp file, write 8 KiB, close, rename
 * into a subdirectory): 5,000 files each, µs per step. Compare a directory
 * next to where thousands of files were just deleted with one elsewhere on
 * the same disk (see BENCHMARKS.md, "Where the run takes place matters").
 * Each directory must not exist yet; the files are left in place, since
 * deleting them would slow the next measurement down.
 *
 *   pnpm exec node bench/machine/create-cost.ts DIR...
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'

const FILES = 5000
const directories = process.argv.slice(2).map((path) => resolve(path))
if (directories.length === 0) throw new Error('usage: create-cost.ts DIR...')

const data = Buffer.alloc(8192, 7)
console.log('| directory | create | write | close | rename |')
console.log('|---|---:|---:|---:|---:|')
for (const root of directories) {
  if (existsSync(root)) throw new Error(`${root} exists: give a directory that does not`)
  mkdirSync(join(root, 'blocks'), { recursive: true })
  const spent = { create: 0, write: 0, close: 0, rename: 0 }
  const step = (name: keyof typeof spent, run: () => void): void => {
    const started = performance.now()
    run()
    spent[name] += performance.now() - started
  }
  for (let index = 0; index < FILES; index++) {
    const temp = join(root, `block-${index}.tmp`)
    let fd = -1
    step('create', () => {
      fd = openSync(temp, 'wx')
    })
    step('write', () => writeSync(fd, data))
    step('close', () => closeSync(fd))
    step('rename', () => renameSync(temp, join(root, 'blocks', `block-${index}`)))
  }
  const micros = Object.values(spent).map((ms) => ((ms * 1000) / FILES).toFixed(1))
  console.log(`| ${root} | ${micros.join(' | ')} |`)
}
