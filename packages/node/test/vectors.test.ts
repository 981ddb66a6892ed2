import assert from 'node:assert/strict'
import { createHash, type Hash } from 'node:crypto'
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { runMain, scratch } from './helpers.ts'

/**
 * Every bundle the original Python Libernet wrote (both eras) is imported
 * from the interop vectors and restored through the CLI, and the result is
 * compared with the tree its manifest describes.
 */
const VECTORS = resolve(import.meta.dirname, '../../../../shared/vectors')

interface ManifestFile {
  size: number
  sha256: string
  executable?: boolean
  readonly?: boolean
  link?: string
}

interface BundleCase {
  name: string
  kind: string
  url: string
  files: Record<string, ManifestFile>
  directories?: Record<string, { link?: string }>
}

/**
 * SHA-256 of runs of zero bytes, for every size asked, in one pass over the
 * largest: the split case's 1.2 GB sparse files are checked without reading
 * them (a file with no allocated blocks is all zeros).
 */
function zeroDigests(sizes: number[]): Map<number, string> {
  const digests = new Map<number, string>()
  const hash: Hash = createHash('sha256')
  const zeros = Buffer.alloc(4 * 1024 * 1024)
  let done = 0
  for (const size of [...new Set(sizes)].sort((a, b) => a - b)) {
    while (done < size) {
      const step = Math.min(zeros.byteLength, size - done)
      hash.update(zeros.subarray(0, step))
      done += step
    }
    digests.set(size, hash.copy().digest('hex'))
  }
  return digests
}

function checkTree(root: string, bundle: BundleCase, era: string): void {
  const sparse: Array<[string, ManifestFile]> = []
  for (const [path, expected] of Object.entries(bundle.files)) {
    const absolute = join(root, ...path.split('/'))
    const stats = lstatSync(absolute)
    if (expected.link !== undefined) {
      assert.ok(stats.isSymbolicLink(), `${path} is a link`)
      assert.equal(readlinkSync(absolute), expected.link)
      continue
    }
    assert.ok(stats.isFile(), `${path} is a file`)
    assert.equal(stats.size, expected.size, `size of ${path}`)
    if (era === 'head') {
      assert.equal((stats.mode & 0o100) !== 0, expected.executable === true, `executable bit of ${path}`)
      assert.equal((stats.mode & 0o200) === 0, expected.readonly === true, `read-only bit of ${path}`)
    }
    if (stats.size > 64 * 1024 * 1024) {
      assert.equal(stats.blocks, 0, `${path} is restored as a hole`)
      sparse.push([path, expected])
      continue
    }
    const digest = createHash('sha256').update(readFileSync(absolute)).digest('hex')
    assert.equal(digest, expected.sha256, `content of ${path}`)
  }
  const digests = zeroDigests(sparse.map(([, expected]) => expected.size))
  for (const [path, expected] of sparse) assert.equal(digests.get(expected.size), expected.sha256, `content of ${path}`)
  for (const [path, entry] of Object.entries(bundle.directories ?? {})) {
    const absolute = join(root, ...path.split('/'))
    if (entry.link !== undefined) {
      assert.equal(readlinkSync(absolute), entry.link, `directory link ${path}`)
    } else {
      assert.ok(lstatSync(absolute).isDirectory(), `${path} is a directory`)
      assert.deepEqual(
        readdirSync(absolute).filter((name) => !Object.hasOwn(bundle.directories ?? {}, `${path}/${name}`)),
        [],
      )
    }
  }
  // Nothing else was written: no temporary files left behind.
  const count = (directory: string): number =>
    readdirSync(directory, { withFileTypes: true }).reduce(
      (sum, entry) =>
        sum + 1 + (entry.isDirectory() && !entry.isSymbolicLink() ? count(join(directory, entry.name)) : 0),
      0,
    )
  const expectedEntries = new Set<string>()
  for (const path of [...Object.keys(bundle.files), ...Object.keys(bundle.directories ?? {})]) {
    const segments = path.split('/')
    for (let depth = 1; depth <= segments.length; depth++) expectedEntries.add(segments.slice(0, depth).join('/'))
  }
  assert.equal(count(root), expectedEntries.size, 'exactly the entries of the manifest')
}

for (const era of ['f09f918', 'head']) {
  const manifestPath = join(VECTORS, era, 'manifest.json')
  describe(`interop vectors: ${era}`, { skip: existsSync(manifestPath) ? false : 'no shared/vectors' }, () => {
    const work = scratch(`vectors-${era}`)
    const data = join(work.dir, 'data')
    after(() => work.cleanup())

    it('imports every block, verifying each', async () => {
      const result = await runMain(['--json', '--data', data, 'import', join(VECTORS, era, 'blocks')])
      assert.equal(result.code, 0, result.stderr)
      const summary = JSON.parse(result.stdout) as { imported: number; rejected: unknown[] }
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { block_count: number }
      assert.equal(summary.imported, manifest.block_count)
      assert.deepEqual(summary.rejected, [])
    })

    const manifest = existsSync(manifestPath)
      ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { cases: BundleCase[] })
      : { cases: [] }
    for (const bundle of manifest.cases.filter((entry) => entry.kind === 'bundle')) {
      it(`restores ${bundle.name} to the tree of its manifest`, async () => {
        const target = join(work.dir, bundle.name.replaceAll('/', '-'))
        const result = await runMain(['--data', data, 'restore', bundle.url, target])
        assert.equal(result.code, 0, result.stderr)
        checkTree(target, bundle, era)
      })
    }
  })
}
