/**
 * Where a user's backup index lives (DESIGN §2 "Rendezvous"): an id derived
 * from the user name and a month, so that a new machine that knows only the
 * name can ask the network for blocks like it, month by month.
 */
import { type BlockId, sha256Hex } from '@libernet/core'
import { InvalidArgumentError } from '../errors.ts'

/** A calendar month in UTC; `month` is 1..12. */
export interface YearMonth {
  year: number
  month: number
}

/** Longest user name accepted, in UTF-16 code units: a name, not a document. */
export const MAX_USER_LENGTH = 256

/** Months a lookup may go back: a century is already absurd. */
export const MAX_MONTHS = 1200

/** Throws InvalidArgumentError unless `user` is a non-empty name of at most {@link MAX_USER_LENGTH} characters. */
export function assertUserName(user: unknown): asserts user is string {
  if (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER_LENGTH) {
    throw new InvalidArgumentError(`a user name is 1 to ${MAX_USER_LENGTH} characters`)
  }
  if (!user.isWellFormed()) throw new InvalidArgumentError('a user name must be valid Unicode')
}

/** `YYYY-MM`, as the target string spells it. */
export function formatYearMonth({ year, month }: YearMonth): string {
  if (!Number.isInteger(year) || year < 0 || year > 9999 || !Number.isInteger(month) || month < 1 || month > 12) {
    throw new InvalidArgumentError(`not a month: ${year}-${month}`)
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`
}

/** The UTC month `date` falls in. */
export function yearMonthOf(date: Date): YearMonth {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new InvalidArgumentError('not a valid date')
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 }
}

/** sha256 of UTF-8 `USER:{user}@{YYYY-MM}`: the id an index of that month is mined toward. */
export function rendezvousTarget(user: string, month: YearMonth): BlockId {
  assertUserName(user)
  return sha256Hex(Buffer.from(`USER:${user}@${formatYearMonth(month)}`, 'utf8'))
}

/** The `count` UTC months up to and including the one `now` falls in, newest first. */
export function recentMonths(now: Date, count: number): YearMonth[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_MONTHS) {
    throw new InvalidArgumentError(`months must be an integer from 1 to ${MAX_MONTHS}, got ${count}`)
  }
  const { year, month } = yearMonthOf(now)
  const months: YearMonth[] = []
  for (let back = 0; back < count; back++) {
    const index = year * 12 + (month - 1) - back
    if (index < 0) break
    months.push({ year: Math.floor(index / 12), month: (index % 12) + 1 })
  }
  return months
}
