import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { describeTree, runJson, scratch } from './helpers.ts'
import { pseudoRandom, writeTestTree } from './tree.ts'

interface BackupJson {
  url: string
  prior: string | null
  files: number
  bytesRead: number
  bytesStored: number
  filesRead: number
  filesReused: number
  changed: string[]
  partial: boolean
}

const MIB = 1024 * 1024

describe('incremental backups', () => {
  const work = scratch('incremental')
  const source = join(work.dir, 'source')
  const original = join(work.dir, 'original')
  const data = join(work.dir, 'data')
  let first: BackupJson

  before(async () => {
    writeTestTree(source)
    cpSync(source, original, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true })
    const result = await runJson<BackupJson>(['--data', data, 'backup', source])
    assert.equal(result.code, 0, result.stderr)
    first = result.json
  })
  after(() => work.cleanup())

  it('stores only the chunks an edit changed and reuses unchanged files without reading them', async () => {
    const big = join(source, 'big/five-mib.bin')
    const bytes = readFileSync(big)
    const inserted = pseudoRandom('inserted', 1000)
    writeFileSync(big, Buffer.concat([bytes.subarray(0, 2 * MIB + 123), inserted, bytes.subarray(2 * MIB + 123)]))
    writeFileSync(join(source, 'small/f07.dat'), pseudoRandom('edited', 400))
    writeFileSync(join(source, 'new file.bin'), pseudoRandom('new', 200_000))
    rmSync(join(source, 'small/f08.dat'))

    const second = await runJson<BackupJson>(['--data', data, 'backup', source])
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.json.prior, first.url)
    assert.equal(second.json.filesRead, 3)
    // Two files edited, one deleted, and the dangling link has nothing to reuse.
    assert.equal(second.json.filesReused, first.files - 4)
    assert.equal(second.json.bytesRead, bytes.byteLength + 1000 + 400 + 200_000)
    // New content: 1000 inserted bytes (in one or two ~256 KiB chunks), 400 + 200,000 bytes of new files, bundles.
    assert.ok(second.json.bytesStored < 200_000 + 2.5 * MIB, `stored ${second.json.bytesStored}`)
    assert.ok(second.json.bytesStored < 0.5 * bytes.byteLength, 'far less than the edited file')

    const restored = join(work.dir, 'restored-second')
    const restore = await runJson(['--data', data, 'restore', second.json.url, restored])
    assert.equal(restore.code, 0, restore.stderr)
    assert.deepEqual(describeTree(restored), describeTree(source))

    // The first snapshot still restores the tree as it was.
    const old = join(work.dir, 'restored-first')
    const restoreOld = await runJson(['--data', data, 'restore', first.url, old])
    assert.equal(restoreOld.code, 0, restoreOld.stderr)
    assert.deepEqual(describeTree(old), describeTree(original))

    const third = await runJson<BackupJson>(['--data', data, 'backup', source])
    assert.equal(third.code, 0, third.stderr)
    assert.equal(third.json.bytesRead, 0, 'nothing changed: nothing is read')
    assert.equal(third.json.prior, second.json.url)
    assert.ok(third.json.bytesStored < 64 * 1024, `only a new top bundle: ${third.json.bytesStored}`)
  })

  it('notices a file that changes while it is read, reads it again, and reports it (exit 3)', async () => {
    const folder = join(work.dir, 'busy')
    const log = join(folder, 'growing.log')
    cpSync(join(original, 'small'), folder, { recursive: true })
    writeFileSync(log, pseudoRandom('log', 6 * MIB))
    utimesSync(log, 1, 1)
    // A writer appending a line every millisecond, for the whole backup.
    const writer = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(log)},'a');setInterval(()=>fs.writeSync(fd,'a log line\\n'),1)`,
    ])
    try {
      const result = await runJson<BackupJson>(['--data', data, 'backup', folder])
      assert.equal(result.code, 3, result.stderr)
      assert.deepEqual(result.json.changed, ['growing.log'])
      assert.equal(result.json.partial, true)
      assert.match(result.stderr, /growing\.log: changed while it was read/)
      // Read once, then three more times.
      assert.ok(result.json.bytesRead >= 4 * 6 * MIB, `read ${result.json.bytesRead}`)
    } finally {
      writer.kill('SIGKILL')
    }
  })
})
