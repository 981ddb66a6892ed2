/**
 * Deflating chunks the way the codec does (one zlib stream per thread, reset
 * between chunks, one output buffer) against a `zlib.deflateSync` per chunk
 * into an output buffer that fits any result, as the codec did before, on the same text-like chunks in the same process, rounds
 * alternating which goes first; the text is the backup benchmark's. Small chunks are where the difference is:
 * a backup of small files deflates one chunk per file.
 *
 *   pnpm exec node bench/core/deflate.ts [--mib N] [--rounds N]
 */
import { parseArgs } from 'node:util'
import { deflateSync } from 'node:zlib'
import { DEFAULT_ZLIB_LEVEL, deflateWithin } from '@libernet/core'
import { SeededRandom, text } from '../backup/random.ts'
import { median } from '../median.ts'

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '16' }, rounds: { type: 'string', default: '5' } },
})
const mib = Number(values.mib)
const rounds = Number(values.rounds)
if (!(mib > 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error('usage: deflate.ts [--mib N] [--rounds N]')

const level = DEFAULT_ZLIB_LEVEL
/** The codec's former call: zlib's output in one buffer that fits any deflate output, at least 64 KiB. */
const outputSize = (chunk: Uint8Array): number => Math.max(64 * 1024, chunk.byteLength + (chunk.byteLength >> 10) + 64)

console.log(`text chunks, ${mib} MiB per size, zlib level ${level}, ${rounds} rounds (µs per chunk, medians)`)
console.log('| chunk (± 50 %) | deflateSync | reused stream | ratio |')
console.log('|---:|---:|---:|---:|')
for (const size of [2 * 1024, 8 * 1024, 64 * 1024, 512 * 1024]) {
  const count = Math.max(1, Math.floor((mib * 1024 * 1024) / size))
  const random = new SeededRandom(`deflate ${size}`)
  // Lengths vary around the size, as files do: a stream that held a longer chunk clears its window first.
  const chunks = Array.from({ length: count }, () => text(random, random.int(size >> 1, size + (size >> 1))))
  const fresh: number[] = []
  const reused: number[] = []
  let freshBytes = 0
  let reusedBytes = 0
  const runFresh = (): void => {
    const started = performance.now()
    freshBytes = 0
    for (const chunk of chunks) freshBytes += deflateSync(chunk, { level, chunkSize: outputSize(chunk) }).byteLength
    fresh.push(((performance.now() - started) * 1000) / count)
  }
  const runReused = (): void => {
    const started = performance.now()
    reusedBytes = 0
    for (const chunk of chunks) reusedBytes += deflateWithin(chunk, level, chunk.byteLength)?.byteLength ?? 0
    reused.push(((performance.now() - started) * 1000) / count)
  }
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      runFresh()
      runReused()
    } else {
      runReused()
      runFresh()
    }
  }
  // The same bytes either way: the reset stream starts from zlib's initial state.
  if (freshBytes !== reusedBytes) throw new Error(`output differs at ${size} B: ${freshBytes} against ${reusedBytes}`)
  const ratio = median(reused) / median(fresh)
  console.log(`| ${size} B | ${median(fresh).toFixed(1)} | ${median(reused).toFixed(1)} | ${ratio.toFixed(2)} |`)
}
