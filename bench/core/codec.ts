/**
 * Block codec throughput against the raw primitives it must run, in the same
 * process, on the same bytes, chunk by chunk interleaved (so that machine
 * noise hits both sides alike), on one thread.
 *
 *   pnpm exec node bench/core/codec.ts [--mib 64] [--rounds 3] [--level-mib 8]
 *
 * Encode baseline: sha256(P) + [deflate(P) at the codec's level when the
 * codec compresses] + AES-256-CBC + sha256(E). On random data the baseline
 * has no deflate: the codec must recognise incompressible data for nearly free.
 * Decode baseline: sha256(E) + AES-256-CBC decrypt + [inflate] + sha256(P).
 * Target: codec time / raw time <= 1.25. Each measurement runs `rounds`
 * times; the table shows the round with the median ratio, the range over
 * rounds, and the median of the per-chunk ratios (the figure least moved by
 * other work on the machine, since each chunk's two timings are adjacent).
 * Then the zlib level table (levels 1-9 on text-like and mixed data) that
 * DEFAULT_ZLIB_LEVEL was chosen from.
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { deflateSync, inflateSync } from 'node:zlib'
import {
  DEFAULT_ZLIB_LEVEL,
  decodeConvergent,
  type EncodedBlock,
  encodeConvergent,
  looksIncompressible,
  MAX_CHUNK_SIZE,
} from '@libernet/core'

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    'level-mib': { type: 'string', default: '8' },
    chunks: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
})
const ROUNDS = Number(values.rounds)
const TOTAL_MIB = Number(values.mib)
const LEVEL_MIB = Number(values['level-mib'])
const DISTINCT_CHUNKS = Number(values.chunks)
const MIB = 1024 * 1024
/** The format's fixed IV: sixteen ASCII '0' bytes. */
const AES_IV = Buffer.alloc(16, 0x30)

// --- data -------------------------------------------------------------------

const WORDS = (
  'the of and to in is was for on that with as by at from his her an were are which this be or has had not but its ' +
  'new after also first one two backup block bundle cipher digest file folder hash key node peer store libernet ' +
  'archive restore snapshot chunk stream random seed vector check alpha bravo charlie delta echo foxtrot golf hotel ' +
  'india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey river mountain ' +
  'ocean forest desert city village harbor bridge tower quick brown fox jumps over lazy dog lorem ipsum dolor sit amet'
).split(' ')

/** xorshift32: reproducible and fast enough to make hundreds of MiB of text. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
}

/** Pseudo-English, as the interop vectors' generator writes it: words, a newline past column 72. */
function text(size: number, next: () => number): Uint8Array {
  const out = new Uint8Array(size)
  let length = 0
  let line = 0
  while (length < size) {
    const word = WORDS[next() % WORDS.length]!
    line += word.length + 1
    const separator = line > 72 ? 10 : 32
    if (separator === 10) line = 0
    for (let index = 0; index < word.length && length < size; index++) out[length++] = word.charCodeAt(index)
    if (length < size) out[length++] = separator
  }
  return out
}

/** Alternating 96 KiB of text and 32 KiB of random bytes (about 3/4 text), as the vectors' mixed files. */
function mixed(size: number, next: () => number): Uint8Array {
  const out = new Uint8Array(size)
  let useText = true
  for (let offset = 0; offset < size; useText = !useText) {
    const run = Math.min(useText ? 96 * 1024 : 32 * 1024, size - offset)
    out.set(useText ? text(run, next) : randomFillSync(new Uint8Array(run)), offset)
    offset += run
  }
  return out
}

type Kind = 'random' | 'text' | 'mixed'

function chunks(kind: Kind, count: number): Uint8Array[] {
  const next = prng(kind.length * 7919 + count)
  return Array.from({ length: count }, () => {
    if (kind === 'random') return randomFillSync(new Uint8Array(MAX_CHUNK_SIZE))
    return kind === 'text' ? text(MAX_CHUNK_SIZE, next) : mixed(MAX_CHUNK_SIZE, next)
  })
}

// --- raw primitives ---------------------------------------------------------

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

// The baseline calls each primitive the cheapest way we know: zlib with one
// output buffer (as the codec does), decryption without PKCS#7 checks and
// hashes fed piecewise instead of joining buffers.

function rawEncode(plaintext: Uint8Array, level: number | undefined): void {
  const key = sha256(plaintext)
  const content =
    level === undefined ? plaintext : deflateSync(plaintext, { level, chunkSize: plaintext.byteLength + 1024 })
  const cipher = createCipheriv('aes-256-cbc', key, AES_IV)
  const body = cipher.update(content)
  const tail = cipher.final()
  createHash('sha256').update(body).update(tail).digest()
}

function rawDecode(stored: Uint8Array, key: Uint8Array, compressed: boolean): void {
  sha256(stored)
  const decipher = createDecipheriv('aes-256-cbc', key, AES_IV).setAutoPadding(false)
  const padded = decipher.update(stored)
  decipher.final()
  const content = padded.subarray(0, padded.byteLength - padded[padded.byteLength - 1]!)
  sha256(compressed ? inflateSync(content, { chunkSize: MAX_CHUNK_SIZE + 16 }) : content)
}

// --- measurement ------------------------------------------------------------

interface Pair {
  codecNs: number
  rawNs: number
  bytes: number
  /** codec time / raw time of each chunk. */
  chunkRatios: number[]
}

/** Runs `codec` and `raw` on each chunk in turn, alternating which goes first, until `total` bytes each. */
function measurePair<T>(
  items: T[],
  size: (item: T) => number,
  total: number,
  codec: (item: T) => void,
  raw: (item: T) => void,
): Pair {
  for (const item of items.slice(0, 2)) {
    codec(item)
    raw(item)
  }
  const pair: Pair = { codecNs: 0, rawNs: 0, bytes: 0, chunkRatios: [] }
  for (let index = 0; pair.bytes < total; index++) {
    const item = items[index % items.length]!
    const first = index % 2 === 0
    const t0 = process.hrtime.bigint()
    if (first) codec(item)
    else raw(item)
    const t1 = process.hrtime.bigint()
    if (first) raw(item)
    else codec(item)
    const t2 = process.hrtime.bigint()
    const codecNs = Number(first ? t1 - t0 : t2 - t1)
    const rawNs = Number(first ? t2 - t1 : t1 - t0)
    pair.codecNs += codecNs
    pair.rawNs += rawNs
    pair.chunkRatios.push(codecNs / rawNs)
    pair.bytes += size(item)
  }
  return pair
}

const mbps = (bytes: number, ns: number) => (bytes / MIB / (ns / 1e9)).toFixed(0)

interface Row {
  kind: Kind
  operation: string
  baseline: string
  rounds: Pair[]
}

const ratio = (pair: Pair) => pair.codecNs / pair.rawNs

function rounds(measure: () => Pair): Pair[] {
  return Array.from({ length: ROUNDS }, measure).sort((a, b) => ratio(a) - ratio(b))
}

const rows: Row[] = []
const started = performance.now()

for (const kind of ['random', 'text', 'mixed'] as const) {
  const plaintexts = chunks(kind, DISTINCT_CHUNKS)
  const compresses = !looksIncompressible(plaintexts[0]!)
  const rawLevel = compresses ? DEFAULT_ZLIB_LEVEL : undefined
  const encodeBaseline = compresses
    ? `sha256 + zlib level ${DEFAULT_ZLIB_LEVEL} + AES + sha256`
    : 'sha256 + AES + sha256'
  const encodeRounds = rounds(() =>
    measurePair(
      plaintexts,
      (plaintext) => plaintext.byteLength,
      TOTAL_MIB * MIB,
      (plaintext) => encodeConvergent(plaintext),
      (plaintext) => rawEncode(plaintext, rawLevel),
    ),
  )
  rows.push({ kind, operation: 'encodeConvergent', baseline: encodeBaseline, rounds: encodeRounds })

  const blocks: EncodedBlock[] = plaintexts.map((plaintext) => encodeConvergent(plaintext))
  const items = blocks.map((block) => ({ block, key: Buffer.from(block.key!, 'hex') }))
  const decodeRounds = rounds(() =>
    measurePair(
      items,
      ({ block }) => block.size,
      TOTAL_MIB * MIB,
      ({ block }) => decodeConvergent(block.bytes, block.key!, { id: block.id }),
      ({ block, key }) => rawDecode(block.bytes, key, compresses),
    ),
  )
  const decodeBaseline = compresses ? 'sha256 + AES + inflate + sha256' : 'sha256 + AES + sha256'
  rows.push({ kind, operation: 'decodeConvergent (with id)', baseline: decodeBaseline, rounds: decodeRounds })
}

console.log(`# Block codec (bench/core/codec.ts)\n`)
console.log(
  `Command: \`pnpm exec node bench/core/codec.ts --mib ${TOTAL_MIB} --rounds ${ROUNDS} --level-mib ${LEVEL_MIB}\``,
)
console.log(
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), one thread; ` +
    `${DISTINCT_CHUNKS} distinct chunks of ${MAX_CHUNK_SIZE} B cycled to ${TOTAL_MIB} MiB per round, ${ROUNDS} rounds; ` +
    `DEFAULT_ZLIB_LEVEL = ${DEFAULT_ZLIB_LEVEL}.\n`,
)
console.log(
  '| data | operation | codec MB/s | raw primitives | raw MB/s | codec / raw, total time (range of rounds) | codec / raw, median chunk |',
)
console.log('|---|---|---:|---|---:|---:|---:|')
for (const { kind, operation, baseline, rounds } of rows) {
  const median = rounds[rounds.length >> 1]!
  const range = `${ratio(rounds[0]!).toFixed(2)}-${ratio(rounds.at(-1)!).toFixed(2)}`
  const chunkRatios = rounds.flatMap((round) => round.chunkRatios).sort((a, b) => a - b)
  console.log(
    `| ${kind} | ${operation} | ${mbps(median.bytes, median.codecNs)} | ${baseline} | ` +
      `${mbps(median.bytes, median.rawNs)} | ${ratio(median).toFixed(3)} (${range}) | ` +
      `${chunkRatios[chunkRatios.length >> 1]!.toFixed(3)} |`,
  )
}

// --- zlib levels ------------------------------------------------------------

console.log(`\n## zlib levels (${LEVEL_MIB} MiB per cell, deflate and inflate of ${MAX_CHUNK_SIZE} B chunks)\n`)
console.log('| data | level | deflate MB/s | stored / original | inflate MB/s |')
console.log('|---|---:|---:|---:|---:|')
const LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9]
for (const kind of ['text', 'mixed'] as const) {
  const plaintexts = chunks(kind, Math.max(1, Math.min(DISTINCT_CHUNKS, LEVEL_MIB)))
  const cells = LEVELS.map(() => ({ deflateNs: 0, inflateNs: 0, original: 0, stored: 0 }))
  // Every chunk goes through every level, starting from a different one each
  // time, so that load on the machine spreads evenly over the levels.
  for (let index = 0; cells[0]!.original < LEVEL_MIB * MIB; index++) {
    const plaintext = plaintexts[index % plaintexts.length]!
    for (let step = 0; step < LEVELS.length; step++) {
      const slot = (index + step) % LEVELS.length
      const cell = cells[slot]!
      const t0 = process.hrtime.bigint()
      const compressed = deflateSync(plaintext, { level: LEVELS[slot]!, chunkSize: plaintext.byteLength + 1024 })
      const t1 = process.hrtime.bigint()
      inflateSync(compressed, { chunkSize: plaintext.byteLength + 1024 })
      const t2 = process.hrtime.bigint()
      cell.deflateNs += Number(t1 - t0)
      cell.inflateNs += Number(t2 - t1)
      cell.original += plaintext.byteLength
      cell.stored += compressed.byteLength
    }
  }
  for (const [slot, cell] of cells.entries()) {
    console.log(
      `| ${kind} | ${LEVELS[slot]} | ${mbps(cell.original, cell.deflateNs)} | ${(cell.stored / cell.original).toFixed(3)} | ` +
        `${mbps(cell.original, cell.inflateNs)} |`,
    )
  }
}

console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`)
