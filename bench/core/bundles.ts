/**
 * Reading a backup's bundles: `parseBundle` (Python-exact JSON, the model,
 * every check across the pieces) against `JSON.parse` of the same bytes, the
 * least any reader must do. The bundle is generated like the backup
 * benchmark's (FILES files in nested directories, one to three parts each)
 * and split into pieces of at most 1 MiB as a backup writes them. The first
 * round of each runs before the JIT has warmed up, as in a restore, which
 * reads each piece once; the two take turns at going first.
 *
 *   pnpm exec node bench/core/bundles.ts [FILES, default 6000] [--rounds N]
 */
import { createHash, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { type Bundle, type BundleFile, contentUrl, EntryTracker, parseBundle, splitBundle } from '@libernet/core'
import { median } from '../median.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '7' } },
})
const count = Number(positionals[0] ?? 6000)
const rounds = Number(values.rounds)
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error('usage: bundles.ts [FILES] [--rounds N]')
}

function randomUrl(): string {
  return contentUrl('convergent', randomBytes(32).toString('hex'), randomBytes(32).toString('hex'))
}

const files = new Map<string, BundleFile>()
for (let index = 0; index < count; index++) {
  const parts = Array.from({ length: 1 + (index % 3) }, () => ({ url: randomUrl(), size: 1000 + (index % 7919) }))
  files.set(`src/module-${index % 40}/part-${index % 7}/file-${index}.txt`, {
    size: parts.reduce((sum, part) => sum + part.size, 0),
    mtime: 1_700_000_000 + index + 0.123456789,
    parts,
  })
}
const bundle: Bundle = { era: 'current', files, directories: new Map([['empty', null]]) }
const split = await splitBundle(bundle, (json) => {
  const id = createHash('sha256').update(json).digest('hex')
  return contentUrl('convergent', id, id)
})
const pieces = [split.top, ...split.subBundles.map((sub) => sub.json)].map((json) => Buffer.from(json))
const bytes = pieces.reduce((sum, piece) => sum + piece.byteLength, 0)

function time(read: (piece: Buffer, tracker: EntryTracker) => void): number {
  const tracker = new EntryTracker()
  const started = performance.now()
  for (const piece of pieces) read(piece, tracker)
  return performance.now() - started
}

const readBundle = (piece: Buffer, tracker: EntryTracker): void => void parseBundle(piece, { tracker })
const readJson = (piece: Buffer): void => JSON.parse(piece.toString('latin1'))
const rows: Array<{ bundle: number; json: number }> = []
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    const bundle = time(readBundle)
    rows.push({ bundle, json: time(readJson) })
  } else {
    const json = time(readJson)
    rows.push({ bundle: time(readBundle), json })
  }
}
const parsed = rows.map((row) => row.bundle)
const json = rows.map((row) => row.json)
console.log(
  `${count} files in ${pieces.length} pieces, ${(bytes / 1e6).toFixed(2)} MB, ${rounds} rounds (ms per round)`,
)
console.log('| | first round | median | every round |')
console.log('|---|---:|---:|---|')
for (const [name, times] of [
  ['parseBundle', parsed],
  ['JSON.parse', json],
] as const) {
  console.log(
    `| ${name} | ${times[0]!.toFixed(1)} | ${median(times).toFixed(1)} | ${times.map((v) => v.toFixed(1)).join(', ')} |`,
  )
}
console.log(
  `ratio (parseBundle / JSON.parse): first round ${(parsed[0]! / json[0]!).toFixed(2)}, medians ${(median(parsed) / median(json)).toFixed(2)}`,
)
