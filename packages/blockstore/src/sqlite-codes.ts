/**
 * SQLite result codes of node:sqlite's errors, apart from the database code:
 * the block file writer, which runs in worker threads, maps SQLITE_FULL to a
 * DiskFullError without loading node:sqlite.
 */

/** SQLite's primary result code of an error thrown by node:sqlite, if it is one. */
export function sqliteResultCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_SQLITE_ERROR') {
    const errcode = (err as { errcode?: unknown }).errcode
    if (typeof errcode === 'number') return errcode & 0xff
  }
  return undefined
}

export const SQLITE_FULL = 13
export const SQLITE_BUSY = 5
export const SQLITE_LOCKED = 6
/** Result codes meaning the file is damaged or not a database at all. */
export const SQLITE_DAMAGED: ReadonlySet<number> = new Set([11 /* CORRUPT */, 26 /* NOTADB */])
