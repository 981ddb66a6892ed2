import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
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
})
