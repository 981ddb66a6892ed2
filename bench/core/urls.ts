/**
 * Checking bundle part URLs: `assertBlockUrl` (canonical URLs recognised by
 * one regular expression) against what it did before for every URL, parse
 * and format back, on the same URLs in the same process, rounds alternating.
 * The first round of each runs before the JIT has warmed up, as in a command
 * that reads one backup's bundles.
 *
 *   pnpm exec node bench/core/urls.ts [URLs, default 7000] [--rounds N]
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { assertBlockUrl, contentUrl, formatUrl, parseUrl } from '@libernet/core'
import { median } from '../median.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '7' } },
})
const count = Number(positionals[0] ?? 7000)
const rounds = Number(values.rounds)
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error('usage: urls.ts [URLs] [--rounds N]')
}
const urls = Array.from({ length: count }, () =>
  contentUrl('convergent', randomBytes(32).toString('hex'), randomBytes(32).toString('hex')),
)

/** The check as it ran for every URL before the fast path: parse, then format back and compare. */
function parseAndFormat(url: string): void {
  const parsed = parseUrl(url)
  if (parsed.kind === 'like' || formatUrl(parsed) !== url) throw new Error(`not canonical: ${url}`)
}

function time(check: (url: string) => void): number {
  const started = performance.now()
  for (const url of urls) check(url)
  return performance.now() - started
}

const rows: Array<{ fast: number; parse: number }> = []
for (let round = 0; round < rounds; round++) {
  // Alternating which goes first, so neither always runs on a warmer JIT.
  if (round % 2 === 0) {
    const fast = time((url) => assertBlockUrl(url, 'part'))
    rows.push({ fast, parse: time(parseAndFormat) })
  } else {
    const parse = time(parseAndFormat)
    rows.push({ fast: time((url) => assertBlockUrl(url, 'part')), parse })
  }
}
const fast = rows.map((row) => row.fast)
const parse = rows.map((row) => row.parse)
console.log(`${count} convergent part URLs, ${rounds} rounds (ms per round)`)
console.log('| | first round | median | every round |')
console.log('|---|---:|---:|---|')
console.log(
  `| assertBlockUrl | ${fast[0]!.toFixed(1)} | ${median(fast).toFixed(1)} | ${fast.map((v) => v.toFixed(1)).join(', ')} |`,
)
console.log(
  `| parse + format | ${parse[0]!.toFixed(1)} | ${median(parse).toFixed(1)} | ${parse.map((v) => v.toFixed(1)).join(', ')} |`,
)
console.log(`ratio of medians: ${(median(fast) / median(parse)).toFixed(2)}`)
