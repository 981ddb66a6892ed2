/**
 * This tree's libernet against another checkout of it (an earlier commit, a
 * branch) on the same data, in alternating pairs: a full backup into a fresh
 * store, then a restore of it into a fresh target, the other checkout
 * first in each pair. What a change gained, measured when the machine is in
 * one state for both sides, where ratios against restic move with it.
 *
 *   git worktree add /tmp/before REV && (cd /tmp/before && pnpm install --offline)
 *   pnpm exec node bench/backup/versus.ts /tmp/before DATASET WORKDIR [--pairs 4]
 *
 * DATASET: a folder, e.g. the one bench/backup/run.ts writes. WORKDIR must
 * not exist (stores and targets are left there: deleting them would slow the
 * next measurement down, see BENCHMARKS.md).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from '../median.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { pairs: { type: 'string', default: '4' } },
})
const pairs = Number(values.pairs)
if (positionals.length !== 3 || !Number.isInteger(pairs) || pairs < 1) {
  throw new Error('usage: versus.ts OTHER_CHECKOUT DATASET WORKDIR [--pairs N]')
}
const [other, dataset, work] = positionals.map((path) => resolve(path)) as [string, string, string]
if (existsSync(work)) throw new Error(`${work} exists: give a directory that does not`)
mkdirSync(work, { recursive: true })
const trees = { before: other, now: resolve(import.meta.dirname, '../..') }

interface Timing {
  seconds: number
  userSeconds: number
}

/** Runs the CLI of `tree` under /usr/bin/time after a sync: wall and user time, and what it printed. */
function run(tree: string, args: string[]): Timing & { stdout: string } {
  execFileSync('sync')
  const cli = join(tree, 'packages/node/bin/libernet.mjs')
  const started = performance.now()
  const result = spawnSync('/usr/bin/time', ['-f', '%U', process.execPath, cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`${cli} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`)
  const userSeconds = Number(result.stderr.trim().split('\n').at(-1))
  return { seconds, userSeconds, stdout: result.stdout }
}

const timings = {
  before: { backup: [] as Timing[], restore: [] as Timing[] },
  now: { backup: [], restore: [] },
} as Record<'before' | 'now', { backup: Timing[]; restore: Timing[] }>
for (let pair = 1; pair <= pairs; pair++) {
  for (const side of ['before', 'now'] as const) {
    const data = join(work, `${side}-${pair}`)
    const backup = run(trees[side], ['--data', data, '--json', 'backup', dataset])
    const { url } = JSON.parse(backup.stdout) as { url: string }
    timings[side].backup.push(backup)
    timings[side].restore.push(run(trees[side], ['--data', data, '--json', 'restore', url, `${data}-restored`]))
    console.error(`pair ${pair} ${side}: backup ${backup.seconds.toFixed(2)} s`)
  }
}

const range = (values: number[]): string => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)} s`
console.log(`${pairs} pairs, ${other} (before) against ${trees.now} (now), dataset ${dataset}`)
console.log('| | before | now | now / before, medians |')
console.log('|---|---|---|---:|')
for (const command of ['backup', 'restore'] as const) {
  const [before, now] = [timings.before[command], timings.now[command]]
  const seconds = (list: Timing[]) => list.map((timing) => timing.seconds)
  const user = (list: Timing[]) => list.map((timing) => timing.userSeconds)
  console.log(
    `| ${command} | ${range(seconds(before))}, user ${range(user(before))} | ${range(seconds(now))}, user ${range(user(now))} | ${(median(seconds(now)) / median(seconds(before))).toFixed(2)} |`,
  )
}
