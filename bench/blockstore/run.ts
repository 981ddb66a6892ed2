/**
 * Block store benchmark: put/get of 1 MiB blocks against raw `fs` in the same
 * run, and like queries over 100,000 ids. The benchmark lives in
 * packages/blockstore/bench/ so that it resolves the store's dependencies from
 * that package; this entry point runs it with the same arguments.
 *
 *   pnpm exec node bench/blockstore/run.ts [--blocks 256] [--rounds 3] [--like-ids 100000] [--queries 1000] [--json FILE]
 *
 * Results and the exact command: bench/blockstore/RESULTS.md.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../../packages/blockstore/bench/run.ts', import.meta.url))
const result = spawnSync(process.execPath, [target, ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(result.status ?? 1)
