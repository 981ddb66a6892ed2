/**
 * What a backup's block files cost the file system here: the blocks of the
 * backup benchmark's store (run `bench/backup/run.ts` first) written again
 * three ways, 64 at a time, each into a fresh directory, alternating for a
 * few rounds: plain `fs.writeFile` into sharded directories; a temp file in
 * one directory renamed into a shard (what the store does on disk); and the
 * store's own `putBlock` (the same, plus the SHA-256 check, CRC-32 and a
 * metadata row), closed at the end.
 *
 *   pnpm exec node packages/blockstore/bench/files.ts [STORE] [--rounds N]
 *
 * STORE defaults to the backup benchmark's last store, /tmp/libernet-bench-backup/libernet-data-3
 * (its first round's is libernet-data-1; before it ran rounds, libernet-data).
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sha256Hex } from '@libernet/core'
import { LibernetBlockstore } from '../src/index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' } },
})
const source = join(positionals[0] ?? '/tmp/libernet-bench-backup/libernet-data-3', 'blocks', 'blocks')
const work = '/tmp/libernet-bench-files'
const SHARDS = 1024
const CONCURRENCY = 64

const blocks: Uint8Array[] = []
for (const shard of readdirSync(source)) {
  for (const name of readdirSync(join(source, shard)))
    blocks.push(new Uint8Array(readFileSync(join(source, shard, name))))
}
const ids = blocks.map((bytes) => sha256Hex(bytes))
const mib = blocks.reduce((sum, bytes) => sum + bytes.byteLength, 0) / 1048576

function call<T>(start: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))))
}

async function eachBlock(write: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < blocks.length) await write(next++)
    }),
  )
}

async function shardDirectories(root: string): Promise<void> {
  for (let shard = 0; shard < SHARDS; shard++) await mkdir(join(root, String(shard)), { recursive: true })
}

const ways: Record<string, (root: string) => Promise<void>> = {
  async writeFile(root) {
    await shardDirectories(root)
    await eachBlock((i) => writeFile(join(root, String(i % SHARDS), ids[i]!), blocks[i]!))
  },
  async 'temp + rename'(root) {
    await shardDirectories(root)
    await mkdir(join(root, 'tmp'))
    await eachBlock(async (i) => {
      const temp = join(root, 'tmp', `${ids[i]}.tmp`)
      const fd = await call<number>((done) => fs.open(temp, 'wx', 0o644, done))
      await call((done) => fs.write(fd, blocks[i]!, 0, blocks[i]!.byteLength, 0, done))
      await call((done) => fs.close(fd, done))
      await call((done) => fs.rename(temp, join(root, String(i % SHARDS), ids[i]!), done))
    })
  },
  async putBlock(root) {
    const store = await LibernetBlockstore.open({ path: root })
    await eachBlock(async (i) => {
      await store.putBlock(ids[i]!, blocks[i]!)
    })
    await store.close()
  },
}

console.log(`${blocks.length} blocks, ${mib.toFixed(1)} MiB, ${CONCURRENCY} at a time`)
const seconds = new Map<string, number[]>(Object.keys(ways).map((name) => [name, []]))
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, write] of Object.entries(ways)) {
      rmSync(work, { recursive: true, force: true })
      execFileSync('sync')
      const started = performance.now()
      await write(work)
      seconds.get(name)!.push((performance.now() - started) / 1000)
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
const reference = median(seconds.get('writeFile')!)
console.log('\n| way | seconds (each round) | median vs writeFile |')
console.log('| --- | --- | ---: |')
for (const [name, list] of seconds) {
  console.log(`| ${name} | ${list.map((s) => s.toFixed(2)).join(', ')} | ${(median(list) / reference).toFixed(2)}× |`)
}
