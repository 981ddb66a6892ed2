/**
 * Writes the backup benchmark's dataset: about 256 MiB, the same bytes and
 * mtimes on every run (fixed seed).
 *
 *   node bench/backup/dataset.ts DIR
 *
 * - large incompressible files (random bytes: media, archives): ~100 MiB, 39 %
 * - large compressible text files (logs, documents): ~100 MiB
 * - 6,000 small files of 0.5-16 KiB in 60 nested directories, half text, half random: ~50 MiB
 * - a few empty files and empty directories
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SeededRandom, text } from './random.ts'

export const DATASET_SEED = 'libernet-bench-backup-v1'
/** Every file gets this mtime (2024-01-01T00:00:00Z), so the dataset is identical metadata and all. */
export const DATASET_MTIME = 1_704_067_200

const MIB = 1024 * 1024

export interface DatasetSummary {
  files: number
  bytes: number
  randomBytes: number
  textBytes: number
  smallFiles: number
}

export function generateDataset(root: string): DatasetSummary {
  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true })
  const random = new SeededRandom(DATASET_SEED)
  const summary: DatasetSummary = { files: 0, bytes: 0, randomBytes: 0, textBytes: 0, smallFiles: 0 }
  const write = (path: string, data: Buffer): void => {
    const absolute = join(root, path)
    mkdirSync(join(absolute, '..'), { recursive: true })
    writeFileSync(absolute, data)
    utimesSync(absolute, DATASET_MTIME, DATASET_MTIME)
    summary.files++
    summary.bytes += data.byteLength
  }

  // Large random files: sizes from 3 to 17 MiB, not multiples of anything.
  let randomTotal = 0
  for (let index = 0; randomTotal < 100 * MIB; index++) {
    const size = Math.min(random.int(3 * MIB, 17 * MIB) + random.int(0, 4095), 100 * MIB - randomTotal)
    write(`media/video-${String(index).padStart(2, '0')}.bin`, random.bytes(size))
    randomTotal += size
  }
  summary.randomBytes = randomTotal

  let textTotal = 0
  for (let index = 0; textTotal < 100 * MIB; index++) {
    const size = Math.min(random.int(2 * MIB, 12 * MIB) + random.int(0, 4095), 100 * MIB - textTotal)
    write(`documents/log-${String(index).padStart(2, '0')}.txt`, text(random, size))
    textTotal += size
  }
  summary.textBytes = textTotal

  for (let index = 0; index < 6000; index++) {
    const directory = `src/module-${String(index % 60).padStart(2, '0')}/part-${index % 3}`
    const size = random.int(512, 16 * 1024)
    const isText = index % 2 === 0
    const data = isText ? text(random, size) : random.bytes(size)
    write(`${directory}/file-${String(index).padStart(4, '0')}.${isText ? 'txt' : 'dat'}`, data)
    summary.smallFiles++
  }

  for (let index = 0; index < 5; index++) write(`empty/empty-${index}.txt`, Buffer.alloc(0))
  for (let index = 0; index < 5; index++) mkdirSync(join(root, `empty-dirs/dir-${index}`), { recursive: true })
  return summary
}

if (import.meta.main) {
  const root = process.argv[2]
  if (root === undefined) {
    console.error('usage: node bench/backup/dataset.ts DIR')
    process.exit(2)
  }
  console.log(JSON.stringify(generateDataset(root)))
}
