import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite'
import type { IndexEntry, SortedIdIndex } from './like-index.ts'
import { SQLITE_DAMAGED, sqliteResultCode } from './sqlite-codes.ts'

/**
 * Per-block metadata in SQLite (`node:sqlite`, built into Node 24: no native
 * module to build, one file, crash-safe transactions).
 *
 * Ids are stored as 32-byte BLOBs: memcmp order is the order of their leading
 * bits, so the primary key of `blocks` doubles as the like index.
 *
 * Nothing here is the only copy of anything that matters: block presence and
 * sizes come from the files, pins from `pins.json`; request heat and replica
 * sightings are soft state that a rebuild starts afresh.
 */

/**
 * 2: `blocks.crc`, the CRC-32 of the stored bytes, recorded once they were
 * verified against the id; version 1 databases gain the column on open, NULL
 * for their rows until a read has checked them in full (see read-path.ts).
 */
export const SCHEMA_VERSION = 2

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (
  id BLOB PRIMARY KEY,
  size INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  heat REAL NOT NULL,
  last_access INTEGER NOT NULL,
  added_at INTEGER NOT NULL,
  crc INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_eviction ON blocks (heat, id) WHERE pinned = 0;
CREATE TABLE IF NOT EXISTS pin_roots (
  rid INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  url TEXT NOT NULL,
  pinned_at INTEGER NOT NULL,
  UNIQUE (owner, url)
);
CREATE TABLE IF NOT EXISTS pins (
  id BLOB NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (id, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pins_by_root ON pins (rid, id);
CREATE TABLE IF NOT EXISTS replicas (
  id BLOB NOT NULL,
  peer TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (id, peer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`

/** The url of an owner's staging root: blocks put with `pinnedBy` before their backup root exists. */
export const STAGING_URL = ''

export interface BlockRow {
  id: Uint8Array
  size: number
  pinned: boolean
  heat: number
  lastAccess: number
  addedAt: number
  /** CRC-32 of the stored bytes, taken when they were verified against the id; undefined for rows older than it. */
  crc: number | undefined
}

export interface PinRootRow {
  rid: number
  owner: string
  url: string
  pinnedAt: number
}

export interface Totals {
  blocks: number
  bytes: number
  pinnedBlocks: number
  pinnedBytes: number
}

export interface AccessUpdate {
  id: Uint8Array
  /** Requests, each weighted 2^((t - since) / halfLife): their worth at time `since`. */
  count: number
  since: number
  lastAccess: number
}

/** A metadata file this version cannot use (a newer schema). */
export class UnreadableMetadataError extends Error {}

/** True when the metadata file should be set aside and rebuilt from the blocks. */
export function isDamagedMetadata(err: unknown): boolean {
  const code = sqliteResultCode(err)
  return err instanceof UnreadableMetadataError || (code !== undefined && SQLITE_DAMAGED.has(code))
}

export class MetadataDb implements SortedIdIndex {
  readonly db: DatabaseSync
  readonly #statements = new Map<string, StatementSync>()

  /** Opens (creating if needed) the database; throws node:sqlite errors as they are. */
  constructor(file: string) {
    this.db = new DatabaseSync(file, { timeout: 0 })
    try {
      // Exclusive locking: a second process cannot open the same store's metadata
      // behind our back, and WAL needs no shared-memory file.
      this.db.exec('PRAGMA locking_mode = EXCLUSIVE')
      this.db.exec('PRAGMA journal_mode = WAL')
      // NORMAL in WAL mode: a commit survives a process crash (it is in the OS);
      // a power cut may lose the last commits, which the open-time reconcile repairs.
      this.db.exec('PRAGMA synchronous = NORMAL')
      const version = this.#scalar('PRAGMA user_version')
      // 0: a new file; 1: migrated below (it lacks the CRC column).
      if (version !== 0 && version !== 1 && version !== SCHEMA_VERSION) {
        throw new UnreadableMetadataError(`unknown metadata schema version ${String(version)}`)
      }
      this.transaction(() => {
        this.db.exec(SCHEMA)
        if (version === 1) this.db.exec('ALTER TABLE blocks ADD COLUMN crc INTEGER')
        this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
      })
    } catch (err) {
      this.db.close()
      throw err
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
  }

  /** `PRAGMA quick_check`: true when SQLite finds the file structurally sound. */
  quickCheck(): boolean {
    const rows = this.db.prepare('PRAGMA quick_check').all()
    return rows.length === 1 && Object.values(rows[0]!)[0] === 'ok'
  }

  transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  // ------------------------------------------------------------------ state

  getState(key: string): string | undefined {
    const row = this.#get('SELECT value FROM state WHERE key = ?', key)
    return row === undefined ? undefined : String(row.value)
  }

  setState(key: string, value: string): void {
    this.#run(
      'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    )
  }

  // ----------------------------------------------------------------- blocks

  getBlock(id: Uint8Array): BlockRow | undefined {
    const row = this.#get('SELECT id, size, pinned, heat, last_access, added_at, crc FROM blocks WHERE id = ?', id)
    return row === undefined ? undefined : toBlockRow(row)
  }

  /**
   * Size and CRC-32 of a block's file: what a read of it needs, no more. A
   * restore asks once per block, thousands of times, and rows as arrays of
   * two columns cost a third of full rows as objects.
   */
  getBlockFile(id: Uint8Array): { size: number; crc: number | undefined } | undefined {
    const row = this.#arrays('SELECT size, crc FROM blocks WHERE id = ?').get(id) as unknown as
      | SQLOutputValue[]
      | undefined
    if (row === undefined) return undefined
    return { size: Number(row[0]), crc: row[1] === null ? undefined : Number(row[1]) }
  }

  hasBlock(id: Uint8Array): boolean {
    return this.#get('SELECT 1 AS one FROM blocks WHERE id = ?', id) !== undefined
  }

  /** Adds a block row unless one exists; returns, when it was added, whether it went in pinned. */
  insertBlock(id: Uint8Array, size: number, crc: number, heat: number, now: number): { pinned: boolean } | undefined {
    const pinned = this.isPinned(id) ? 1 : 0
    const result = this.#run(
      'INSERT OR IGNORE INTO blocks (id, size, pinned, heat, last_access, added_at, crc) VALUES (?, ?, ?, ?, ?, ?, ?)',
      id,
      size,
      pinned,
      heat,
      now,
      now,
      crc,
    )
    return Number(result.changes) === 1 ? { pinned: pinned === 1 } : undefined
  }

  /** Records the size and CRC-32 of a file just verified in full. */
  setBlockChecksum(id: Uint8Array, size: number, crc: number): void {
    this.#run('UPDATE blocks SET size = ?, crc = ? WHERE id = ?', size, crc, id)
  }

  /** Removes a block row; returns it as it was, if there was one. */
  deleteBlock(id: Uint8Array): BlockRow | undefined {
    const row = this.getBlock(id)
    if (row !== undefined) this.#run('DELETE FROM blocks WHERE id = ?', id)
    return row
  }

  /** Unpinned blocks, least requested first: the eviction order. Consume synchronously. */
  *evictionOrder(): Generator<IndexEntry, void, undefined> {
    for (const row of this.#statement('SELECT id, size FROM blocks WHERE pinned = 0 ORDER BY heat, id').iterate()) {
      yield toEntry(row)
    }
  }

  /** A page of every block, in id order, after `after` (exclusive). */
  page(after: Uint8Array | undefined, limit: number): IndexEntry[] {
    return (
      after === undefined
        ? this.#all('SELECT id, size FROM blocks ORDER BY id LIMIT ?', limit)
        : this.#all('SELECT id, size FROM blocks WHERE id > ? ORDER BY id LIMIT ?', after, limit)
    ).map(toEntry)
  }

  totals(): Totals {
    const row = this.#get(
      `SELECT count(*) AS blocks, coalesce(sum(size), 0) AS bytes,
        coalesce(sum(pinned), 0) AS pinned_blocks, coalesce(sum(CASE WHEN pinned THEN size ELSE 0 END), 0) AS pinned_bytes
       FROM blocks`,
    )!
    return {
      blocks: Number(row.blocks),
      bytes: Number(row.bytes),
      pinnedBlocks: Number(row.pinned_blocks),
      pinnedBytes: Number(row.pinned_bytes),
    }
  }

  /** Folds batched request counts into the blocks' heat (see heat.ts), in one transaction. */
  applyAccesses(updates: Iterable<AccessUpdate>, halfLife: number): void {
    this.transaction(() => {
      for (const { id, count, since, lastAccess } of updates) {
        this.#run(
          'UPDATE blocks SET heat = ?1 + log2(pow(2, heat - ?1) + ?2), last_access = max(last_access, ?3) WHERE id = ?4',
          since / halfLife,
          count,
          lastAccess,
          id,
        )
      }
    })
  }

  // -------------------------------------------------------------- like index

  ascending(from: Uint8Array, limit: number): IndexEntry[] {
    return this.#all('SELECT id, size FROM blocks WHERE id >= ? ORDER BY id LIMIT ?', from, limit).map(toEntry)
  }

  descending(before: Uint8Array, limit: number): IndexEntry[] {
    return this.#all('SELECT id, size FROM blocks WHERE id < ? ORDER BY id DESC LIMIT ?', before, limit).map(toEntry)
  }

  // ------------------------------------------------------------------- pins

  isPinned(id: Uint8Array): boolean {
    return this.#get('SELECT 1 AS one FROM pins WHERE id = ? LIMIT 1', id) !== undefined
  }

  findRoot(owner: string, url: string): PinRootRow | undefined {
    const row = this.#get('SELECT rid, owner, url, pinned_at FROM pin_roots WHERE owner = ? AND url = ?', owner, url)
    return row === undefined ? undefined : toRootRow(row)
  }

  ensureRoot(owner: string, url: string, now: number): PinRootRow {
    this.#run('INSERT OR IGNORE INTO pin_roots (owner, url, pinned_at) VALUES (?, ?, ?)', owner, url, now)
    return this.findRoot(owner, url)!
  }

  roots(): PinRootRow[] {
    return this.#all('SELECT rid, owner, url, pinned_at FROM pin_roots ORDER BY owner, url').map(toRootRow)
  }

  /** Pins `ids` under root `rid` (present or not: a pin also says the block is wanted). */
  addPins(rid: number, ids: Iterable<Uint8Array>): void {
    for (const id of ids) {
      this.#run('INSERT OR IGNORE INTO pins (id, rid) VALUES (?, ?)', id, rid)
      this.#run('UPDATE blocks SET pinned = 1 WHERE id = ? AND pinned = 0', id)
    }
  }

  /** Drops every pin of root `rid` and the root itself; blocks no other root pins become evictable. */
  removeRoot(rid: number): number {
    this.#run(
      `UPDATE blocks SET pinned = EXISTS (SELECT 1 FROM pins p WHERE p.id = blocks.id AND p.rid != ?1)
       WHERE id IN (SELECT id FROM pins WHERE rid = ?1)`,
      rid,
    )
    const removed = Number(this.#run('DELETE FROM pins WHERE rid = ?', rid).changes)
    this.#run('DELETE FROM pin_roots WHERE rid = ?', rid)
    return removed
  }

  /** Distinct owners pinning `id`. */
  pinOwners(id: Uint8Array): string[] {
    return this.#all(
      'SELECT DISTINCT r.owner AS owner FROM pins p JOIN pin_roots r ON r.rid = p.rid WHERE p.id = ? ORDER BY r.owner',
      id,
    ).map((row) => String(row.owner))
  }

  countPins(rid: number): number {
    return Number(this.#get('SELECT count(*) AS n FROM pins WHERE rid = ?', rid)!.n)
  }

  // --------------------------------------------------------------- replicas

  recordReplica(id: Uint8Array, peer: string, seenAt: number): void {
    this.#run(
      'INSERT INTO replicas (id, peer, seen_at) VALUES (?, ?, ?) ON CONFLICT (id, peer) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)',
      id,
      peer,
      seenAt,
    )
  }

  forgetReplica(id: Uint8Array, peer: string): boolean {
    return Number(this.#run('DELETE FROM replicas WHERE id = ? AND peer = ?', id, peer).changes) === 1
  }

  replicasOf(id: Uint8Array): { peer: string; seenAt: number }[] {
    return this.#all('SELECT peer, seen_at FROM replicas WHERE id = ? ORDER BY seen_at DESC, peer', id).map((row) => ({
      peer: String(row.peer),
      seenAt: Number(row.seen_at),
    }))
  }

  // ---------------------------------------------------------------- helpers

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** A statement whose rows come as arrays of column values. */
  #arrays(sql: string): StatementSync {
    const key = `arrays:${sql}`
    let statement = this.#statements.get(key)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      statement.setReturnArrays(true)
      this.#statements.set(key, statement)
    }
    return statement
  }

  #get(sql: string, ...params: SQLInputValue[]): Record<string, unknown> | undefined {
    return this.#statement(sql).get(...params)
  }

  #all(sql: string, ...params: SQLInputValue[]): Record<string, unknown>[] {
    return this.#statement(sql).all(...params)
  }

  #run(sql: string, ...params: SQLInputValue[]): { changes: number | bigint } {
    return this.#statement(sql).run(...params)
  }

  #scalar(sql: string): unknown {
    const row = this.db.prepare(sql).get()
    return row === undefined ? undefined : Object.values(row)[0]
  }
}

function toEntry(row: Record<string, unknown>): IndexEntry {
  return { id: row.id as Uint8Array, size: Number(row.size) }
}

function toBlockRow(row: Record<string, unknown>): BlockRow {
  return {
    id: row.id as Uint8Array,
    size: Number(row.size),
    pinned: Number(row.pinned) !== 0,
    heat: Number(row.heat),
    lastAccess: Number(row.last_access),
    addedAt: Number(row.added_at),
    crc: row.crc === null || row.crc === undefined ? undefined : Number(row.crc),
  }
}

function toRootRow(row: Record<string, unknown>): PinRootRow {
  return { rid: Number(row.rid), owner: String(row.owner), url: String(row.url), pinnedAt: Number(row.pinned_at) }
}
