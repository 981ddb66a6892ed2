import { DiskFullError } from './errors.ts'
import { SQLITE_FULL, sqliteResultCode } from './sqlite-codes.ts'

/** A DiskFullError for out-of-space failures of the file system or SQLite; undefined for anything else. */
export function asDiskFull(err: unknown): DiskFullError | undefined {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT' || sqliteResultCode(err) === SQLITE_FULL) {
    return new DiskFullError(`no space left on the device: ${(err as Error).message}`, { cause: err })
  }
  return undefined
}
