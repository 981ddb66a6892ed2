import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { Output } from '../src/cli/output.ts'
import { BIN, describeTree, runCli, runJson, runMain, scratch } from './helpers.ts'
import { pseudoRandom, writeTestTree } from './tree.ts'

interface BackupJson {
  url: string
  files: number
  bytes: number
  bytesRead: number
  bytesStored: number
  filesReused: number
  skipped: Array<{ path: string; reason: string }>
  partial: boolean
}

describe('libernet CLI: backup and restore', () => {
  const work = scratch('cli')
  const source = join(work.dir, 'source')
  const data = join(work.dir, 'data')
  let backup: BackupJson

  before(async () => {
    writeTestTree(source)
    const result = await runJson<BackupJson>(['--data', data, 'backup', source])
    assert.equal(result.code, 0, result.stderr)
    // With --json and nothing wrong, stdout holds the one JSON object and stderr nothing at all.
    assert.equal(result.stderr, '')
    backup = result.json
  })
  after(() => work.cleanup())

  it('prints a summary with the URL, files, bytes read and bytes stored', () => {
    assert.match(backup.url, /^\/sha256\/[0-9a-f]{64}\/aes256\/[0-9a-f]{64}$/)
    // 49 regular files plus the two file links (a link to a file and a dangling one).
    assert.equal(backup.files, 51)
    assert.equal(backup.bytesRead, backup.bytes)
    assert.ok(backup.bytesStored > 5 * 1024 * 1024, 'the random 5 MiB file is stored')
    assert.ok(backup.bytesStored < backup.bytes, 'the text compresses')
    assert.equal(backup.partial, false)
  })

  it('restores a byte- and metadata-identical tree, then skips what is already there', async () => {
    const target = join(work.dir, 'restored')
    const first = await runJson<{ written: number; upToDate: number; files: number }>([
      '--data',
      data,
      'restore',
      backup.url,
      target,
    ])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stderr, '')
    assert.deepEqual(describeTree(target), describeTree(source))
    assert.equal(first.json.written, first.json.files)

    const again = await runJson<{ written: number; upToDate: number; files: number }>([
      '--data',
      data,
      'restore',
      backup.url,
      target,
    ])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.json.written, 0)
    assert.equal(again.json.upToDate, again.json.files)
  })

  it('restores one folder of the snapshot through a URL with a path', async () => {
    const target = join(work.dir, 'docs-only')
    const result = await runCli(['--data', data, 'restore', `${backup.url}/docs`, target])
    assert.equal(result.code, 0, result.stderr)
    const expected = new Map([...describeTree(join(source, 'docs'))].map(([path, entry]) => [path, entry] as const))
    assert.deepEqual(describeTree(target), expected)
  })

  it('lists the tree with sizes and dates, as text and as JSON', async () => {
    const text = await runCli(['--data', data, 'ls', backup.url])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /-rwxr-xr-x +21 +2020-09-1\d \d\d:\d\d:\d\d +bin\/run\.sh/)
    assert.match(text.stdout, /link_to_deep_dir -> docs\/deep/)
    assert.match(text.stdout, /emptydir\/nested_empty\//)
    const json = await runJson<{ files: number; entries: Array<{ path: string; type: string; size?: number }> }>([
      '--data',
      data,
      'ls',
      `${backup.url}/docs`,
    ])
    assert.equal(json.code, 0)
    assert.deepEqual(
      json.json.entries.map((entry) => entry.path),
      ['docs/deep/a/b/c/leaf.txt', 'docs/notes with spaces.txt', 'docs/readonly.txt', 'docs/ünïcødé файл 文件 🎉.txt'],
    )
  })

  it('cats a file and gets it back byte for byte', async () => {
    const cat = await runCli(['--data', data, 'cat', `${backup.url}/README.txt`])
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout, readFileSync(join(source, 'README.txt'), 'utf8'))
    const out = join(work.dir, 'five.bin')
    const get = await runCli(['--data', data, 'get', `${backup.url}/big/five-mib.bin`, out])
    assert.equal(get.code, 0, get.stderr)
    assert.ok(readFileSync(out).equals(readFileSync(join(source, 'big/five-mib.bin'))))
  })

  it('puts a single file and gets it by its URL', async () => {
    const file = join(work.dir, 'single file.bin')
    writeFileSync(file, pseudoRandom('single', 1_500_000))
    const put = await runJson<{ url: string; bytes: number }>(['--data', data, 'put', file])
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.json.url, /\/single%20file\.bin$/)
    assert.equal(put.json.bytes, 1_500_000)
    const out = join(work.dir, 'fetched.bin')
    const get = await runCli(['--data', data, 'get', put.json.url, out])
    assert.equal(get.code, 0, get.stderr)
    assert.ok(readFileSync(out).equals(readFileSync(file)))
  })

  it('records the snapshot in the folder history and checks the store', async () => {
    const history = await runJson<{ folders: Array<{ folder: string; snapshots: Array<{ url: string }> }> }>([
      '--data',
      data,
      'snapshots',
    ])
    assert.equal(history.code, 0)
    const folder = history.json.folders.find((entry) => entry.folder === source)
    assert.ok(folder !== undefined)
    assert.equal(folder.snapshots.at(-1)?.url, backup.url)
    const check = await runJson<{ ok: boolean; missing: number }>(['--data', data, 'check'])
    assert.equal(check.code, 0, check.stderr)
    assert.equal(check.json.ok, true)
  })

  it('a wrong key is a clear verification error (exit 5)', async () => {
    const wrong = backup.url.replace(/[0-9a-f]$/, (digit) => (digit === '0' ? '1' : '0'))
    const result = await runCli(['--data', data, 'restore', wrong, join(work.dir, 'wrong')])
    assert.equal(result.code, 5)
    assert.match(result.stderr, /wrong key/)
  })

  it('lists missing blocks and exits 4 when parts are not in the store', async () => {
    const other = join(work.dir, 'other-data')
    const blocks = join(work.dir, 'only-bundle')
    mkdirSync(blocks, { recursive: true })
    const id = backup.url.split('/')[2]!
    // `cat /sha256/{id}` prints the block exactly as stored.
    writeFileSync(join(blocks, id), execFileSync(process.execPath, [BIN, '--data', data, 'cat', `/sha256/${id}`]))
    const imported = await runCli(['--data', other, 'import', blocks])
    assert.equal(imported.code, 0, imported.stderr)
    const result = await runCli(['--data', other, 'restore', backup.url, join(work.dir, 'partial')])
    assert.equal(result.code, 4, result.stderr)
    assert.match(result.stderr, /block\(s\) missing from the store:\n {2}\/sha256\/[0-9a-f]{64}\n/)
    assert.match(result.stderr, /big\/five-mib\.bin \(missing \d+ block\(s\)\)/)
  })

  it('reports an unreadable file, leaves it out and exits 3', async () => {
    // Run as nobody (root reads everything), in a directory nobody may use.
    const shared = mkdtempSync(join(tmpdir(), 'libernet-nobody-'))
    chmodSync(shared, 0o777)
    const folder = join(shared, 'folder')
    mkdirSync(folder)
    chmodSync(folder, 0o777)
    writeFileSync(join(folder, 'ok.txt'), 'readable')
    writeFileSync(join(folder, 'secret.txt'), 'not for nobody')
    chmodSync(join(folder, 'secret.txt'), 0o000)
    const result = await runJson<BackupJson>(['--data', join(shared, 'data'), 'backup', folder], {
      uid: 65534,
      gid: 65534,
    })
    assert.equal(result.code, 3, result.stderr)
    assert.equal(result.json.partial, true)
    assert.equal(result.json.files, 1)
    assert.deepEqual(
      result.json.skipped.map((entry) => entry.path),
      ['secret.txt'],
    )
    assert.match(result.stderr, /secret\.txt: EACCES/)
    rmSync(shared, { recursive: true, force: true })
  })
})

describe('libernet CLI: usage and exit codes', () => {
  it('prints help with the exit codes (exit 0)', async () => {
    const result = await runMain(['--help'])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /Exit codes:/)
    assert.match(result.stdout, /backup \[options\] <dir>/)
  })

  it('exits 2 on an unknown command, a missing argument or a malformed URL', async () => {
    const work = scratch('usage')
    try {
      assert.equal((await runMain(['frobnicate'])).code, 2)
      assert.equal((await runMain(['--data', work.dir, 'restore', '/sha256/abc'])).code, 2)
      const bad = await runMain(['--data', work.dir, 'ls', '/sha256/not-an-id'])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /invalid Libernet URL/)
      const block = await runMain(['--data', work.dir, 'restore', `/sha256/${'a'.repeat(64)}`, work.dir])
      assert.equal(block.code, 2)
      assert.match(block.stderr, /restore needs a snapshot URL/)
    } finally {
      work.cleanup()
    }
  })

  it('exits 1 with a clear message when the folder to back up does not exist', async () => {
    const work = scratch('nofolder')
    try {
      const result = await runMain(['--data', join(work.dir, 'data'), 'backup', join(work.dir, 'missing')])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /cannot back up .*missing: ENOENT/)
    } finally {
      work.cleanup()
    }
  })
})

describe('libernet CLI: output', () => {
  /** A stream that says it is a terminal and keeps what is written to it. */
  function terminal(): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 })
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') })
  }

  it('draws a progress bar on a terminal, and none when stderr is not one or with --json', async () => {
    const stderr = terminal()
    const output = new Output({ json: false, quiet: false, stdout: new PassThrough(), stderr })
    let bytes = 0
    const bar = output.progress('backup', () => ({ bytes, totalBytes: 2_000_000, files: 3, totalFiles: 4 }))
    bytes = 1_000_000
    bar.stop()
    await new Promise((resolve) => setImmediate(resolve))
    assert.match(stderr.text(), /backup .*50% \| 977 KiB \/ 1\.9 MiB \| 3\/4 files/)

    for (const options of [
      { json: false, stderr: Object.assign(new PassThrough(), { isTTY: false }) },
      { json: true, stderr: terminal() },
    ]) {
      const chunks: Buffer[] = []
      options.stderr.on('data', (chunk: Buffer) => chunks.push(chunk))
      const quiet = new Output({ json: options.json, quiet: false, stdout: new PassThrough(), stderr: options.stderr })
      quiet.progress('backup', () => ({ bytes: 1, totalBytes: 2, files: 0 })).stop()
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(Buffer.concat(chunks).length, 0)
    }
  })
})
