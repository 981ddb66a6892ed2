/**
 * Edits the benchmark dataset as a week of use would, deterministically, and
 * prints how many genuinely new bytes it wrote (content that exists nowhere
 * in the dataset before: new files, inserted, appended and overwritten bytes).
 *
 *   node bench/backup/edit.ts DIR
 */
import { appendFileSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DATASET_MTIME } from './dataset.ts'
import { SeededRandom, text } from './random.ts'

const KIB = 1024
const MIB = 1024 * KIB
/** Edited files get this mtime (a week after the dataset's). */
export const EDIT_MTIME = DATASET_MTIME + 7 * 24 * 3600

export interface EditSummary {
  /** Bytes of new content written. */
  newBytes: number
  newFiles: number
  editedFiles: number
  deletedFiles: number
}

export function editDataset(root: string): EditSummary {
  const random = new SeededRandom('libernet-bench-edit-v1')
  const summary: EditSummary = { newBytes: 0, newFiles: 0, editedFiles: 0, deletedFiles: 0 }
  const touch = (path: string): void => utimesSync(join(root, path), EDIT_MTIME, EDIT_MTIME)

  // New files: two new random files (8 MiB), a new document (2 MiB), 200 small files (~1.6 MiB).
  for (const [path, data] of [
    ['media/new-video-a.bin', random.bytes(5 * MIB + 1234)],
    ['media/new-video-b.bin', random.bytes(3 * MIB + 4321)],
    ['documents/new-report.txt', text(random, 2 * MIB)],
  ] as const) {
    writeFileSync(join(root, path), data)
    touch(path)
    summary.newBytes += data.byteLength
    summary.newFiles++
  }
  for (let index = 0; index < 200; index++) {
    const path = `src/module-${String(index % 60).padStart(2, '0')}/new-${String(index).padStart(3, '0')}.txt`
    const data = text(random, random.int(2 * KIB, 14 * KIB))
    writeFileSync(join(root, path), data)
    touch(path)
    summary.newBytes += data.byteLength
    summary.newFiles++
  }

  // 64 KiB of new random bytes inserted in the middle of four large random files.
  for (const index of [0, 2, 4, 6]) {
    const path = `media/video-${String(index).padStart(2, '0')}.bin`
    const old = readFileSync(join(root, path))
    const at = Math.floor(old.byteLength / 2) + random.int(0, 4095)
    const inserted = random.bytes(64 * KIB)
    writeFileSync(join(root, path), Buffer.concat([old.subarray(0, at), inserted, old.subarray(at)]))
    touch(path)
    summary.newBytes += inserted.byteLength
    summary.editedFiles++
  }

  // 1 MiB of new text appended to three documents.
  for (const index of [1, 3, 5]) {
    const path = `documents/log-${String(index).padStart(2, '0')}.txt`
    const appended = text(random, MIB)
    appendFileSync(join(root, path), appended)
    touch(path)
    summary.newBytes += appended.byteLength
    summary.editedFiles++
  }

  // 100 small files get 200 bytes overwritten in place (same size, new mtime).
  for (let index = 1; index < 6000; index += 60) {
    const path = `src/module-${String(index % 60).padStart(2, '0')}/part-${index % 3}/file-${String(index).padStart(4, '0')}.dat`
    const old = readFileSync(join(root, path))
    const patch = random.bytes(Math.min(200, old.byteLength))
    patch.copy(old, random.int(0, old.byteLength - patch.byteLength))
    writeFileSync(join(root, path), old)
    touch(path)
    summary.newBytes += patch.byteLength
    summary.editedFiles++
  }

  // 50 small files deleted.
  for (let index = 2; index < 6000; index += 120) {
    const path = `src/module-${String(index % 60).padStart(2, '0')}/part-${index % 3}/file-${String(index).padStart(4, '0')}.txt`
    statSync(join(root, path))
    rmSync(join(root, path))
    summary.deletedFiles++
  }
  return summary
}

if (import.meta.main) {
  const root = process.argv[2]
  if (root === undefined) {
    console.error('usage: node bench/backup/edit.ts DIR')
    process.exit(2)
  }
  console.log(JSON.stringify(editDataset(root)))
}
