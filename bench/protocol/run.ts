/**
 * Node-to-node transfer benchmark of /libernet/block/1.0.0 against a raw
 * libp2p stream and Helia bitswap. The benchmark itself lives in
 * packages/protocol/bench/ so that it resolves libp2p and Helia from that
 * package's dependencies; this entry point runs it with the same arguments.
 *
 *   pnpm exec node bench/protocol/run.ts [--blocks 256] [--size 1048576] [--rounds 7] [--no-helia] [--json FILE]
 *
 * Results and the exact command: bench/protocol/RESULTS.md.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../../packages/protocol/bench/run.ts', import.meta.url))
const result = spawnSync(process.execPath, [target, ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(result.status ?? 1)
