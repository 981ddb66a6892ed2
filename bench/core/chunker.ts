/**
 * Chunker throughput, single thread, on pseudo-random data (no dedup, no
 * early cuts: the worst case for a content-defined chunker).
 *
 *   pnpm exec node bench/core/chunker.ts [MiB of data, default 128]
 *
 * Compares FastCDC (findCutPoint over a whole buffer, and the streaming
 * chunker fed with pieces of several sizes) with a plain loop summing the
 * bytes and with SHA-256 (node:crypto) over the same data, measures the hash
 * loop variants that were considered, and reports the chunk sizes achieved for
 * a few `avg` settings. Results: bench/core/CHUNKER.md.
 */
import { createHash } from 'node:crypto'
import {
  chunkFastCdc,
  chunkFixed,
  DEFAULT_FASTCDC_PARAMS,
  type FastCdcParams,
  findCutPoint,
  gearTable,
  MAX_CHUNK_SIZE,
} from '@libernet/core'

const MiB = 1024 * 1024
const sizeMiB = Number(process.argv[2] ?? 128)
if (!Number.isInteger(sizeMiB) || sizeMiB < 8) throw new Error('usage: chunker.ts [MiB >= 8]')
const ROUNDS = 7

function pseudoRandom(length: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x
  }
  return new Uint8Array(words.buffer, 0, length)
}

/**
 * MB/s (10^6 bytes per second) over `rounds` runs after one warm-up run, by
 * the wall clock and by the CPU time of the process. On a shared machine the
 * CPU figure is the steadier one; it also counts garbage collector threads.
 */
async function measure(name: string, bytes: number, run: () => unknown, rounds = ROUNDS): Promise<void> {
  await run()
  const wall: number[] = []
  const cpu: number[] = []
  for (let round = 0; round < rounds; round++) {
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    await run()
    wall.push(bytes / 1e3 / (performance.now() - started))
    const used = process.cpuUsage(cpuBefore)
    cpu.push(bytes / ((used.user + used.system) / 1e3) / 1e3)
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  console.log(`| ${name} | ${median(wall).toFixed(0)} | ${Math.max(...wall).toFixed(0)} | ${median(cpu).toFixed(0)} |`)
}

function cutAll(data: Uint8Array, params: FastCdcParams, cut = findCutPoint): number {
  let chunks = 0
  for (let start = 0; start < data.length; chunks++) start = cut(data, start, data.length, params)
  return chunks
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
}

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let count = 0
  for await (const _ of chunks) count++
  return count
}

// Hash loop variants that were considered; each is FastCDC with normalized
// chunking, level 2, masks on the high bits, cutting before the matching byte.
const TABLE = gearTable()
const HIGH = Int32Array.from(TABLE, (entry) => Number(entry >> 32n) | 0)
const LOW = Uint32Array.from(TABLE, (entry) => Number(entry & 0xffffffffn))

function highMask(bits: number): number {
  return (((1 << bits) - 1) << (31 - bits)) | 0
}

/** 32-bit gear hash, one byte per step: the same cut points as findCutPoint. */
function cutOneBytePerStep(data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  if (end - start <= params.min) return end
  const limit = Math.min(end, start + params.max)
  const normal = Math.min(limit, start + params.avg)
  const bits = Math.log2(params.avg)
  const small = highMask(bits + 2)
  const large = highMask(bits - 2)
  let hash = 0
  let i = start + params.min
  for (; i < normal; i++) {
    hash = ((hash << 1) + HIGH[data[i]!]!) | 0
    if ((hash & small) === 0) return i
  }
  for (; i < limit; i++) {
    hash = ((hash << 1) + HIGH[data[i]!]!) | 0
    if ((hash & large) === 0) return i
  }
  return limit
}

/** 64-bit gear hash in two uint32 halves, masks on the high half. */
function cutTwoHalves(data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  if (end - start <= params.min) return end
  const limit = Math.min(end, start + params.max)
  const normal = Math.min(limit, start + params.avg)
  const bits = Math.log2(params.avg)
  const small = highMask(bits + 2)
  const large = highMask(bits - 2)
  let high = 0
  let low = 0
  for (let i = start + params.min; i < limit; i++) {
    const byte = data[i]!
    const sumLow = ((low << 1) >>> 0) + LOW[byte]!
    high = ((high << 1) + (low >>> 31) + HIGH[byte]! + (sumLow > 0xffffffff ? 1 : 0)) | 0
    low = sumLow >>> 0
    if ((high & (i < normal ? small : large)) === 0) return i
  }
  return limit
}

/** 64-bit gear hash on BigInt. */
function cutBigInt(data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  if (end - start <= params.min) return end
  const limit = Math.min(end, start + params.max)
  const normal = Math.min(limit, start + params.avg)
  const bits = Math.log2(params.avg)
  const small = BigInt(highMask(bits + 2) >>> 0) << 32n
  const large = BigInt(highMask(bits - 2) >>> 0) << 32n
  const u64 = 0xffffffffffffffffn
  let hash = 0n
  for (let i = start + params.min; i < limit; i++) {
    hash = ((hash << 1n) + TABLE[data[i]!]!) & u64
    if ((hash & (i < normal ? small : large)) === 0n) return i
  }
  return limit
}

const data = pseudoRandom(sizeMiB * MiB, 0x5eed)
const small = data.subarray(0, 8 * MiB)
console.log(`node ${process.version}, ${sizeMiB} MiB of pseudo-random data, median of ${ROUNDS} runs\n`)
console.log('| MB/s | median (wall) | best (wall) | median (CPU time) |')
console.log('|---|---|---|---|')

await measure('baseline: for loop summing the bytes', data.length, () => {
  let sum = 0
  for (let i = 0; i < data.length; i++) sum = (sum + data[i]!) | 0
  return sum
})
await measure('baseline: copy into fresh 256 KiB arrays', data.length, () => {
  let last = 0
  for (let offset = 0; offset < data.length; offset += 256 * 1024) last = data.slice(offset, offset + 256 * 1024)[0]!
  return last
})
await measure('baseline: SHA-256 (node:crypto)', data.length, () => createHash('sha256').update(data).digest())

await measure('findCutPoint, whole buffer (2 bytes per step)', data.length, () => cutAll(data, DEFAULT_FASTCDC_PARAMS))
if (cutAll(small, DEFAULT_FASTCDC_PARAMS) !== cutAll(small, DEFAULT_FASTCDC_PARAMS, cutOneBytePerStep)) {
  throw new Error('the one-byte variant should cut at the same places')
}
await measure('variant: 32-bit, 1 byte per step', data.length, () =>
  cutAll(data, DEFAULT_FASTCDC_PARAMS, cutOneBytePerStep),
)
await measure('variant: 64-bit as two 32-bit halves', data.length, () =>
  cutAll(data, DEFAULT_FASTCDC_PARAMS, cutTwoHalves),
)
await measure('variant: 64-bit BigInt (8 MiB)', small.length, () => cutAll(small, DEFAULT_FASTCDC_PARAMS, cutBigInt), 3)

for (const pieceSize of [4 * 1024, 64 * 1024, MiB, 8 * MiB]) {
  await measure(`chunkFastCdc, ${pieceSize / 1024} KiB pieces`, data.length, () =>
    drain(chunkFastCdc(pieces(data, pieceSize))),
  )
}
for (const pieceSize of [64 * 1024, MiB]) {
  await measure(`chunkFixed, ${pieceSize / 1024} KiB pieces`, data.length, () =>
    drain(chunkFixed(pieces(data, pieceSize))),
  )
}

console.log('\nchunk sizes on the same data, min = avg / 4, max = MAX_CHUNK_SIZE:')
console.log('| avg | chunks | mean | mean / avg | smallest | largest | cut at max |')
console.log('|---|---|---|---|---|---|---|')
for (const avg of [64 * 1024, 128 * 1024, 256 * 1024, 512 * 1024]) {
  const params = { min: avg / 4, avg, max: MAX_CHUNK_SIZE }
  const lengths: number[] = []
  for (let start = 0; start < data.length; ) {
    const cut = findCutPoint(data, start, data.length, params)
    lengths.push(cut - start)
    start = cut
  }
  const whole = lengths.slice(0, -1)
  const mean = whole.reduce((sum, length) => sum + length, 0) / whole.length
  const atMax = whole.filter((length) => length === MAX_CHUNK_SIZE).length
  console.log(
    `| ${avg / 1024} KiB | ${whole.length} | ${(mean / 1024).toFixed(1)} KiB | ${(mean / avg).toFixed(2)} | ` +
      `${(Math.min(...whole) / 1024).toFixed(1)} KiB | ${(Math.max(...whole) / 1024).toFixed(1)} KiB | ${atMax} |`,
  )
}
