import { readFile, stat } from 'node:fs/promises'
import { crc32 } from 'node:zlib'
import { type BlockId, isValidStoredBlock, throwIfAborted } from '@libernet/core'
import { idOfCid } from './cid.ts'
import { fileSize } from './files.ts'
import { addRequests } from './heat.ts'
import { toId, toKey } from './keys.ts'
import { quarantine } from './read-path.ts'
import type { StoreState } from './state.ts'
import type { VerifyReport } from './types.ts'

/** Rows read per page when walking the metadata. */
const PAGE = 512

export type ScanReport = Omit<VerifyReport, 'metadataRebuilt'>

/**
 * Walks the block files against the metadata. Files without a row are
 * checked in full (SHA-256) and indexed with their CRC-32, or quarantined;
 * rows without a file are dropped; with `readAll` every file is read and
 * hashed, and rows get the CRC of what passed.
 */
export async function scanBlocks(
  state: StoreState,
  options: { readAll: boolean; signal?: AbortSignal },
): Promise<ScanReport> {
  const report: ScanReport = { checked: 0, bytes: 0, corrupt: [], added: 0, removed: 0, resized: 0 }
  const files = await state.files()
  for await (const { cid } of files.getAll({ signal: options.signal })) {
    throwIfAborted(options.signal)
    let id: BlockId
    try {
      id = idOfCid(cid)
    } catch {
      continue
    }
    await state.mutex.run(id, async () => {
      const key = toKey(id)
      const row = state.db.getBlock(key)
      if (row !== undefined && !options.readAll) return
      const { file } = state.layout.locate(id)
      let bytes: Buffer
      let mtime: number
      try {
        bytes = await readFile(file)
        mtime = (await stat(file)).mtimeMs
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        throw err
      }
      report.checked++
      report.bytes += bytes.byteLength
      if (!isValidStoredBlock(id, bytes)) {
        await quarantine(state, id)
        report.corrupt.push(id)
        return
      }
      const crc = crc32(bytes)
      if (row === undefined) {
        // Request history is gone; the file's age stands in for it, so older blocks are evicted first.
        const heat = addRequests(undefined, 1, mtime, state.halfLife)
        const inserted = state.write(() => state.db.insertBlock(key, bytes.byteLength, crc, heat, mtime))
        if (inserted !== undefined) {
          state.countRow({ size: bytes.byteLength, pinned: inserted.pinned }, +1)
          report.added++
        }
      } else if (row.size !== bytes.byteLength || row.crc !== crc) {
        state.write(() => state.db.setBlockChecksum(key, bytes.byteLength, crc))
        if (row.size !== bytes.byteLength) {
          state.totals = state.db.totals()
          report.resized++
        }
      }
    })
  }
  let after: Uint8Array | undefined
  for (;;) {
    const page = state.db.page(after, PAGE)
    if (page.length === 0) break
    for (const entry of page) {
      throwIfAborted(options.signal)
      const id = toId(entry.id)
      await state.mutex.run(id, async () => {
        const size = await fileSize(state.layout.locate(id).file)
        if (size === undefined) {
          const row = state.write(() => state.db.deleteBlock(entry.id))
          if (row !== undefined) state.forgetRow(id, row)
          report.removed++
        } else if (size !== entry.size) {
          // Only after a power cut: the file changed under its row. Let the bytes decide.
          const bytes = await readFile(state.layout.locate(id).file)
          report.checked++
          report.bytes += bytes.byteLength
          if (isValidStoredBlock(id, bytes)) {
            state.write(() => state.db.setBlockChecksum(entry.id, bytes.byteLength, crc32(bytes)))
            report.resized++
          } else {
            await quarantine(state, id)
            report.corrupt.push(id)
          }
        }
      })
    }
    after = page[page.length - 1]!.id
  }
  state.totals = state.db.totals()
  return report
}
