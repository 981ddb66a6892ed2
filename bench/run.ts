/**
 * Runs the benchmarks one after another (never in parallel: they compare
 * against reference runs on the same machine and must not share its cores).
 *
 *   pnpm bench                  all of them
 *   pnpm bench core protocol    only these
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

const BENCHES: Record<string, string[]> = {
  core: ['bench/core/codec.ts', 'bench/core/chunker.ts'],
  blockstore: ['bench/blockstore/run.ts'],
  protocol: ['bench/protocol/run.ts'],
  backup: ['bench/backup/run.ts'],
  gateway: ['bench/gateway/run.ts'],
  network: ['bench/network/run.ts'],
  rendezvous: ['bench/rendezvous/run.ts'],
}

const root = resolve(import.meta.dirname, '..')
const wanted = process.argv.slice(2)
const unknown = wanted.filter((name) => !(name in BENCHES))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`)
  process.exit(2)
}

let failed = 0
for (const [name, scripts] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  for (const script of scripts) {
    console.log(`\n▶ ${script}`)
    const result = spawnSync(process.execPath, [script], { cwd: root, stdio: 'inherit' })
    if (result.status !== 0) {
      failed++
      console.log(`✖ ${script} exited ${result.status ?? result.signal}`)
    }
  }
}
process.exitCode = failed === 0 ? 0 : 1
