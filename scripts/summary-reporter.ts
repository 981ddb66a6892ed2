/**
 * node:test reporter that counts leaf tests and writes the totals as JSON to
 * the file named by LIBERNET_TEST_SUMMARY, so the test driver can print one
 * summary line for the whole run (checks + tests).
 */
import { writeFileSync } from 'node:fs'
import type { TestEvent } from 'node:test/reporters'

interface Totals {
  passed: number
  failed: number
  skipped: number
  failures: string[]
}

export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0, failures: [] }
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const data = event.data
    if (data.details.type === 'suite') {
      // A suite fails on its own when its body throws (its tests then never run); a suite whose
      // tests failed is already counted through them.
      const error = 'error' in data.details ? (data.details.error as { failureType?: string }) : undefined
      if (event.type === 'test:fail' && error?.failureType !== 'subtestsFailed') {
        totals.failed++
        totals.failures.push(`${data.file ?? ''}: ${data.name} (suite)`)
      }
      continue
    }
    if (data.skip !== undefined || data.todo !== undefined) {
      totals.skipped++
    } else if (event.type === 'test:pass') {
      totals.passed++
    } else {
      totals.failed++
      totals.failures.push(`${data.file ?? ''}: ${data.name}`)
    }
  }
  const target = process.env.LIBERNET_TEST_SUMMARY
  if (target !== undefined) writeFileSync(target, JSON.stringify(totals))
  yield ''
}
