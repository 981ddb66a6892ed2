/**
 * The test command: type-check, lint, then every test file with node:test.
 * Ends with one line `N passed, N failed, N skipped` that counts the checks
 * and the tests together, and exits non-zero when anything failed.
 *
 *   pnpm test                 everything
 *   pnpm test packages/core   only test files under these paths
 */
import { spawnSync } from 'node:child_process'
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const filters = process.argv.slice(2)

let passed = 0
let failed = 0
let skipped = 0
const failures: string[] = []

function check(name: string, command: string, args: string[]): void {
  console.log(`\n▶ ${name}: ${command} ${args.join(' ')}`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.status === 0) {
    passed++
    console.log(`✔ ${name}`)
  } else {
    failed++
    failures.push(name)
    console.log(`✖ ${name} (exit ${result.status ?? result.signal})`)
  }
}

check('typecheck', 'tsc', ['--build'])
check('lint', 'biome', ['check', '--error-on-warnings', '.'])

const files = globSync(['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'], { cwd: root })
  .filter((file) => filters.length === 0 || filters.some((filter) => file.startsWith(filter)))
  .sort()

const scratch = mkdtempSync(join(tmpdir(), 'libernet-test-'))
const summaryFile = join(scratch, 'summary.json')
console.log(`\n▶ tests: ${files.length} files`)
const run = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/summary-reporter.ts')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, LIBERNET_TEST_SUMMARY: summaryFile } },
)
try {
  const totals = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
    passed: number
    failed: number
    skipped: number
    failures: string[]
  }
  passed += totals.passed
  failed += totals.failed
  skipped += totals.skipped
  failures.push(...totals.failures)
} catch {
  failed++
  failures.push(`test runner exited ${run.status ?? run.signal} without a summary`)
}
if (run.status !== 0 && failed === 0) {
  failed++
  failures.push(`test runner exited ${run.status ?? run.signal}`)
}
rmSync(scratch, { recursive: true, force: true })

if (failures.length > 0) {
  console.log('\nFailed:')
  for (const failure of failures) console.log(`  - ${failure}`)
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exitCode = failed === 0 ? 0 : 1
