import { EPOCH_2001_OFFSET } from './constants.ts'

/**
 * The current era stores times as seconds since 2001-01-01T00:00:00Z (the
 * original took the idea from Apple's CFAbsoluteTime); the 2022 era stored
 * POSIX seconds. Both are floats with sub-second precision.
 */

/** POSIX seconds → seconds since 2001-01-01T00:00:00Z. */
export function toEpoch2001(posixSeconds: number): number {
  return posixSeconds - EPOCH_2001_OFFSET
}

/** Seconds since 2001-01-01T00:00:00Z → POSIX seconds. */
export function fromEpoch2001(t: number): number {
  return t + EPOCH_2001_OFFSET
}

export function dateToEpoch2001(date: Date): number {
  return toEpoch2001(date.getTime() / 1000)
}

/** A Date holds milliseconds: finer fractions are rounded away. */
export function epoch2001ToDate(t: number): Date {
  return new Date(Math.round(fromEpoch2001(t) * 1000))
}

export function dateToPosixSeconds(date: Date): number {
  return date.getTime() / 1000
}

export function posixSecondsToDate(posixSeconds: number): Date {
  return new Date(Math.round(posixSeconds * 1000))
}

/**
 * POSIX seconds from a nanosecond timestamp (`fs.stat(path, { bigint: true }).mtimeNs`),
 * computed as CPython computes `st_mtime` (`sec + nsec * 1e-9`), so that the
 * same file gives the same float as the original.
 */
export function posixSecondsFromNs(ns: bigint): number {
  let seconds = ns / 1_000_000_000n
  let nanoseconds = ns % 1_000_000_000n
  if (nanoseconds < 0n) {
    seconds -= 1n
    nanoseconds += 1_000_000_000n
  }
  return Number(seconds) + Number(nanoseconds) * 1e-9
}

/** The current time in the 2001 epoch. */
export function nowEpoch2001(): number {
  return toEpoch2001(Date.now() / 1000)
}
