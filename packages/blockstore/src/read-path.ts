import * as fs from 'node:fs'
import { readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { type BlockId, isValidStoredBlock } from '@libernet/core'
import { NotFoundError } from 'interface-store'
import { CorruptBlockError } from './errors.ts'
import { fsCall } from './fs-call.ts'
import { toKey } from './keys.ts'
import type { BlockRow } from './metadata.ts'
import type { StoreState } from './state.ts'

/**
 * How a read is checked (see `GetBlockOptions.verify`):
 *
 * - `'crc'`: size and CRC-32 against the row. Every block had its SHA-256
 *   checked against its id when it was put, and its CRC-32 recorded then, so
 *   a matching CRC means the file is still what was verified: what is left to
 *   catch is damage on this disk, which a CRC-32 catches (any burst up to 32
 *   bits, any truncation with the size, a file replaced by other bytes) at
 *   several times the speed of SHA-256. Rows from before the CRC column are
 *   checked in full once and get their CRC then.
 * - `'full'`: SHA-256 against the id.
 * - `'none'`: unchecked.
 *
 * Any mismatch is judged again by a full SHA-256 of a second read under the
 * block's lock (a put may have been replacing the file): bytes that pass it
 * are returned and their row repaired; bytes that fail it are quarantined and
 * never returned.
 */
export type ReadCheck = 'crc' | 'full' | 'none'

export async function readBlock(state: StoreState, id: BlockId, check: ReadCheck): Promise<Uint8Array> {
  const key = toKey(id)
  const row = state.db.getBlock(key)
  if (row === undefined) throw new NotFoundError(`block ${id} not found`)
  const { file } = state.layout.locate(id)
  const bytes = await readBlockFile(state, id, file, row.size)
  if (check === 'none') return bytes
  if (check === 'crc' && row.crc !== undefined) {
    if (bytes.byteLength === row.size && crc32(bytes) === row.crc) return bytes
  } else if (isValidStoredBlock(id, bytes)) {
    // A row from before the CRC column (or with a stale size) gets its CRC now; others keep theirs.
    if (row.crc === undefined || row.size !== bytes.byteLength) recordChecksum(state, key, row, bytes)
    return bytes
  }
  return state.mutex.run(id, async () => {
    const current = state.db.getBlock(key)
    if (current === undefined) throw new NotFoundError(`block ${id} not found`)
    const again = await readBlockFile(state, id, file, current.size)
    if (isValidStoredBlock(id, again)) {
      recordChecksum(state, key, current, again)
      return again
    }
    await quarantine(state, id)
    throw new CorruptBlockError(`the stored file of ${id} does not match it; moved to quarantine`)
  })
}

/** Brings a row's size and CRC in line with bytes that just passed a full SHA-256 check. */
function recordChecksum(state: StoreState, key: Uint8Array, row: BlockRow, bytes: Uint8Array): void {
  if (state.closed) return
  const crc = crc32(bytes)
  if (row.crc === crc && row.size === bytes.byteLength) return
  try {
    state.write(() => state.db.setBlockChecksum(key, bytes.byteLength, crc))
  } catch {
    // Best effort (a full disk, say): the row keeps its old values and the next read checks in full again.
    return
  }
  if (row.size !== bytes.byteLength) state.totals = state.db.totals()
}

/**
 * Reads a block file whose size the metadata knows: open, one read, close
 * (readFile adds an fstat and a second read), through fs's callback API. One byte more than recorded
 * is asked for, to notice a file that grew; such a file is read whole, for
 * the check to judge. (Hashing chunk by chunk while reading the next one
 * was measured: slower from the page cache, within noise from the disk.)
 */
async function readBlockFile(state: StoreState, id: BlockId, file: string, size: number): Promise<Uint8Array> {
  let fd: number
  try {
    fd = await fsCall<number>((done) => fs.open(file, 'r', done))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    // A row without its file (lost in a power cut, or deleted by hand): forget it unless a write is under way.
    if (!state.mutex.isBusy(id) && !state.closed) {
      try {
        const row = state.write(() => state.db.deleteBlock(toKey(id)))
        if (row !== undefined) state.forgetRow(id, row)
      } catch {
        // Best effort: the row is dropped by the next verify() or reconcile instead.
      }
    }
    throw new NotFoundError(`block ${id} not found`)
  }
  let bytes: Uint8Array
  try {
    const buffer = Buffer.allocUnsafeSlow(size + 1)
    const bytesRead = await fsCall<number>((done) => fs.read(fd, buffer, 0, size + 1, 0, done))
    if (bytesRead <= size) {
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead)
    } else {
      const whole = await readFile(file)
      bytes = new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
    }
  } catch (err) {
    fs.close(fd, () => {})
    throw err
  }
  // Not awaited: the caller's check runs while the pool closes the descriptor, which, opened
  // read-only, has nothing left to report.
  fs.close(fd, () => {})
  return bytes
}

/** Moves a bad file aside and forgets its row. Its pins stay: the block is still wanted. */
export async function quarantine(state: StoreState, id: BlockId): Promise<void> {
  const { file } = state.layout.locate(id)
  const destination = join(state.layout.quarantine, `${id}.${Date.now()}.${++state.quarantined}`)
  await rename(file, destination).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
  const row = state.write(() => state.db.deleteBlock(toKey(id)))
  if (row !== undefined) state.forgetRow(id, row)
}
