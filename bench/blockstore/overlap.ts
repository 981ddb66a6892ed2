/**
 * Why a verified put cannot reach 80 % of a raw write here: times, per
 * 1 MiB block, a raw writeFile, the store's own file sequence (open, write,
 * close, rename), the same with SHA-256 + CRC-32 on the main thread while
 * libuv's pool writes, and the two checksums alone. Two rounds; the first
 * warms the page cache and the allocator.
 *
 *   pnpm exec node bench/blockstore/overlap.ts
 */
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'

const BLOCKS = 200
const blocks = Array.from({ length: BLOCKS }, () => randomBytes(1 << 20))
const dir = `/tmp/libernet-overlap-${process.pid}`

function call<T>(start: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))))
}

function checksums(block: Buffer): void {
  createHash('sha256').update(block).digest()
  crc32(block)
}

async function storeSequence(block: Buffer, index: number, whileWriting?: () => void): Promise<void> {
  const temp = join(dir, 'tmp', String(index))
  const fd = await call<number>((done) => fs.open(temp, 'wx', done))
  const written = call((done) => fs.write(fd, block, 0, block.length, 0, done))
  whileWriting?.()
  await written
  await call((done) => fs.close(fd, done))
  await call((done) => fs.rename(temp, join(dir, 'blocks', String(index)), done))
}

async function measure(name: string, body: (block: Buffer, index: number) => Promise<void>): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(join(dir, 'tmp'), { recursive: true })
  await mkdir(join(dir, 'blocks'), { recursive: true })
  const started = performance.now()
  for (const [index, block] of blocks.entries()) await body(block, index)
  const perBlock = (performance.now() - started) / BLOCKS
  console.log(`${name.padEnd(48)} ${perBlock.toFixed(3)} ms/MiB  ${((1.048576 / perBlock) * 1000).toFixed(0)} MB/s`)
}

for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}`)
  await measure('raw writeFile', (block, index) => writeFile(join(dir, 'blocks', String(index)), block))
  await measure('open, write, close, rename', (block, index) => storeSequence(block, index))
  await measure('the same, SHA-256 + CRC-32 meanwhile', (block, index) =>
    storeSequence(block, index, () => checksums(block)),
  )
  await measure('SHA-256 + CRC-32 alone', async (block) => checksums(block))
}
await rm(dir, { recursive: true, force: true })
