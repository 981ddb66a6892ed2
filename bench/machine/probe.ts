/**
 * Two costs of this machine that shape the backup and restore numbers, each
 * as a ratio measured in one run:
 *
 * - memory: filling 256 MiB of freshly allocated memory, then filling it
 *   again (the first pass pays a page fault per 4 KiB page);
 * - files: creating 7,000 files of 20 KB (about a backup's block files) in a
 *   fresh directory, then again right after deleting 30,000 other files.
 *
 *   pnpm exec node bench/machine/probe.ts [DIR]     (default /tmp/libernet-bench-machine)
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'

const work = resolve(process.argv[2] ?? '/tmp/libernet-bench-machine')
const MIB = 1024 * 1024

function seconds(run: () => void): number {
  const started = performance.now()
  run()
  return (performance.now() - started) / 1000
}

// Memory.
const memory = Buffer.allocUnsafeSlow(256 * MIB)
const firstTouch = seconds(() => memory.fill(1))
const secondTouch = seconds(() => memory.fill(2))

// Files.
const content = Buffer.alloc(20_000, 0x61)
function createFiles(directory: string, count: number): void {
  mkdirSync(directory, { recursive: true })
  for (let index = 0; index < count; index++) {
    const fd = openSync(join(directory, `f${index}`), 'wx')
    writeSync(fd, content)
    closeSync(fd)
  }
}
rmSync(work, { recursive: true, force: true })
execFileSync('sync')
const normal = seconds(() => createFiles(join(work, 'normal'), 7000))
createFiles(join(work, 'doomed'), 30_000)
execFileSync('sync')
rmSync(join(work, 'doomed'), { recursive: true })
const afterDeleting = seconds(() => createFiles(join(work, 'after-deleting'), 7000))
rmSync(work, { recursive: true, force: true })

const f = (value: number): string => value.toFixed(2)
console.log(`| | first | second | ratio |
|---|---:|---:|---:|
| fill 256 MiB of fresh memory, then again (s) | ${f(firstTouch)} | ${f(secondTouch)} | ${f(firstTouch / secondTouch)} |
| create 7,000 files of 20 KB: fresh, then right after deleting 30,000 (s) | ${f(normal)} | ${f(afterDeleting)} | ${f(afterDeleting / normal)} |`)
