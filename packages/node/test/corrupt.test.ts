import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runCli, runJson, scratch } from './helpers.ts'

/** Every regular file below `dir`, with its size. */
function filesBelow(dir: string): Array<{ path: string; size: number }> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name)
      return { path, size: statSync(path).size }
    })
}

describe('a block corrupted on disk', () => {
  const work = scratch('corrupt')
  after(() => work.cleanup())

  it('is never written into a restored file: restore quarantines it and exits 5', async () => {
    const source = join(work.dir, 'source')
    const data = join(work.dir, 'data')
    mkdirSync(source, { recursive: true })
    const content = randomBytes(200_000)
    writeFileSync(join(source, 'photo.raw'), content)
    const backup = await runJson<{ url: string }>(['--data', data, 'backup', source])
    assert.equal(backup.code, 0, backup.stderr)

    // The file's one part is by far the largest block; the bundle is a few hundred bytes.
    const [part] = filesBelow(join(data, 'blocks'))
      .filter((file) => !file.path.endsWith('.sqlite') && !file.path.endsWith('.json'))
      .sort((a, b) => b.size - a.size)
    assert.ok(part !== undefined && part.size > 100_000, 'found the stored part')
    const bytes = readFileSync(part.path)
    bytes[bytes.length >> 1]! ^= 0x40
    writeFileSync(part.path, bytes)

    const target = join(work.dir, 'restored')
    const restore = await runCli(['--data', data, 'restore', backup.json.url, target])
    assert.equal(restore.code, 5, restore.stderr)
    assert.match(restore.stderr, /quarantine/)
    const written = filesBelow(target)
    assert.deepEqual(written, [], 'nothing of the corrupt file reaches the target, not even a temp file')
    assert.ok(
      filesBelow(join(data, 'blocks')).some((file) => file.path.includes('quarantine')),
      'the corrupt file was moved to quarantine',
    )
  })

  it('in the snapshot bundle, decoded on the command thread: restore names and quarantines it, writes nothing; ls fails too', async () => {
    const source = join(work.dir, 'source-bundle')
    const data = join(work.dir, 'data-bundle')
    mkdirSync(source, { recursive: true })
    writeFileSync(join(source, 'notes.txt'), 'a small file, stored as one block of its own\n')
    const backup = await runJson<{ url: string }>(['--data', data, 'backup', source])
    assert.equal(backup.code, 0, backup.stderr)

    // The bundle's block is the one named in the snapshot URL.
    const bundleId = /^\/sha256\/([0-9a-f]{64})\//.exec(backup.json.url)![1]!
    const blocks = filesBelow(join(data, 'blocks')).filter(
      (file) => !file.path.endsWith('.sqlite') && !file.path.endsWith('.json'),
    )
    assert.equal(blocks.length, 2, 'a bundle and one part')
    const list = await runJson<Array<{ path: string }>>(['--data', data, 'ls', backup.json.url])
    assert.equal(list.code, 0, list.stderr)
    for (const block of blocks) {
      const bytes = readFileSync(block.path)
      bytes[bytes.length >> 1]! ^= 0x40
      writeFileSync(block.path, bytes)
    }

    const target = join(work.dir, 'restored-bundle')
    const restore = await runCli(['--data', data, 'restore', backup.json.url, target])
    assert.notEqual(restore.code, 0, 'a snapshot whose bundle is corrupt cannot be restored')
    assert.match(restore.stderr, new RegExp(bundleId.slice(0, 12)), restore.stderr)
    assert.equal(existsSync(target), false, 'nothing was written, not even the target directory')
    const listing = await runCli(['--data', data, 'ls', backup.json.url])
    assert.notEqual(listing.code, 0)
    assert.ok(
      filesBelow(join(data, 'blocks')).some((file) => file.path.includes('quarantine')),
      'the corrupt bundle was moved to quarantine',
    )
  })
})
