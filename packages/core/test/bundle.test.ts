import assert from 'node:assert/strict'
import { createDecipheriv, createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { inflateSync } from 'node:zlib'
import fc from 'fast-check'
import {
  type Bundle,
  type BundleFile,
  type BundlePart,
  createBundle,
  fileToPyJson,
  iterateBundleFiles,
  mergeBundle,
  parseBundle,
  serializeBundle,
  serializeFileEntry,
  splitBundle,
  validateBundle,
} from '../src/bundle/index.ts'
import { MAX_BUNDLE_SIZE } from '../src/constants.ts'
import { formatPyFloat, pyFloat, stringifyPyJson } from '../src/pyjson.ts'
import { type Era, loadManifest, type ManifestCase, type ManifestFile, readVectorBlock } from './fixtures/vectors.ts'

// ---------------------------------------------------------------- vectors

type BundleCase = ManifestCase & {
  url: string
  files: Record<string, ManifestFile>
  sub_bundles: Record<string, string | { sha256: string; size: number }>
}

function bundleCases(era: Era): BundleCase[] {
  return loadManifest(era).cases.filter((c): c is BundleCase => c.kind === 'bundle')
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Just enough of the block codec to open the vectors: AES-256-CBC, IV of sixteen '0', then inflate unless stored raw. */
function openBlock(era: Era, url: string): Uint8Array {
  const [, , id, mode, key] = url.split('/') as [string, string, string, string, string]
  const stored = readVectorBlock(era, id)
  assert.equal(sha256Hex(stored), id, `block ${id} is corrupt`)
  const decipher = createDecipheriv('aes-256-cbc', Buffer.from(key, 'hex'), Buffer.alloc(16, 0x30))
  const plain = Buffer.concat([decipher.update(stored), decipher.final()])
  if (mode === 'passphrase' || sha256Hex(plain) === key) return plain
  return inflateSync(plain)
}

function topJsonOf(era: Era, c: BundleCase): Uint8Array {
  const fromBlock = openBlock(era, c.url)
  if (c.bundle_json !== undefined) {
    assert.equal(Buffer.from(fromBlock).toString('utf8'), c.bundle_json)
    return Buffer.from(c.bundle_json, 'utf8')
  }
  assert.equal(fromBlock.byteLength, c.bundle_json_size)
  assert.equal(sha256Hex(fromBlock), c.bundle_json_sha256)
  return fromBlock
}

function subBundleLoader(era: Era, c: BundleCase, loaded: string[] = []) {
  return async (url: string): Promise<Uint8Array> => {
    loaded.push(url)
    const expected = c.sub_bundles[url]
    assert.ok(expected !== undefined, `unexpected sub-bundle ${url}`)
    if (typeof expected === 'string') return Buffer.from(expected, 'utf8')
    const json = openBlock(era, url)
    assert.equal(json.byteLength, expected.size)
    assert.equal(sha256Hex(json), expected.sha256)
    return json
  }
}

function assertMatchesManifest(bundle: Bundle, c: BundleCase, era: Era): void {
  assert.deepEqual([...bundle.files.keys()].sort(), Object.keys(c.files).sort(), c.name)
  for (const [path, expected] of Object.entries(c.files)) {
    const file = bundle.files.get(path)!
    assert.equal(file.size, expected.size, path)
    assert.equal(
      file.parts.reduce((sum, part) => sum + part.size, 0),
      expected.size,
      path,
    )
    assert.equal(file.executable === true, expected.executable === true, `${path} executable`)
    assert.equal(file.readonly === true, expected.readonly === true, `${path} readonly`)
    assert.equal(file.link, expected.link, `${path} link`)
  }
  const directories = new Map(
    Object.entries(c.directories ?? {}).map(([path, entry]) => [path, entry.link === undefined ? null : entry.link]),
  )
  assert.deepEqual(bundle.directories ?? new Map(), directories, `${c.name} directories`)
  assert.equal(bundle.prior, era === 'head' ? c.prior : c.previous, `${c.name} prior`)
}

describe('bundle vectors', () => {
  for (const era of ['head', 'f09f918'] as const) {
    it(`parses every ${era} bundle, sub-bundles included, and matches the manifest`, async () => {
      const cases = bundleCases(era)
      assert.ok(cases.length >= 3)
      let subBundles = 0
      for (const c of cases) {
        const top = parseBundle(topJsonOf(era, c))
        assert.equal(top.era, era === 'head' ? 'current' : '2022')
        assert.deepEqual([...(top.bundles ?? [])].sort(), Object.keys(c.sub_bundles).sort(), c.name)
        const loaded: string[] = []
        const merged = await mergeBundle(top, subBundleLoader(era, c, loaded), { url: c.url })
        assert.deepEqual(loaded, top.bundles ?? [])
        subBundles += loaded.length
        assert.equal(merged.bundles, undefined)
        assertMatchesManifest(merged, c, era)
        if (era === 'f09f918' && c.bundle_json !== undefined) assert.equal(typeof top.timestamp, 'number')
      }
      assert.equal(subBundles, 2)
    })
  }

  it('re-serializes every head bundle and sub-bundle byte for byte', () => {
    let checked = 0
    for (const c of bundleCases('head')) {
      const pieces = [topJsonOf('head', c), ...Object.keys(c.sub_bundles).map((url) => openBlock('head', url))]
      for (const json of pieces) {
        assert.deepEqual(Buffer.from(serializeBundle(parseBundle(json))), Buffer.from(json), c.name)
        checked++
      }
    }
    assert.ok(checked >= 6)
  })

  it("reproduces the original's split of the head split tree exactly", async () => {
    const c = bundleCases('head').find((each) => each.name === 'bundle/split')!
    const merged = await mergeBundle(parseBundle(topJsonOf('head', c)), subBundleLoader('head', c))
    assert.equal(merged.files.size, Object.keys(c.files).length)
    const urlOfJson = new Map(
      Object.entries(c.sub_bundles).map(([url, info]) => [(info as { sha256: string }).sha256, url]),
    )
    const encoded: string[] = []
    const result = await splitBundle(merged, (json) => {
      const url = urlOfJson.get(sha256Hex(json))
      assert.ok(url !== undefined, `the split made a sub-bundle the original did not (${json.byteLength} bytes)`)
      encoded.push(url)
      return url
    })
    assert.equal(result.top.byteLength, 996_528)
    assert.equal(sha256Hex(result.top), c.bundle_json_sha256)
    assert.deepEqual(
      result.subBundles.map((sub) => sub.json.byteLength),
      [927_201, 355_450],
    )
    assert.deepEqual(
      result.subBundles.map((sub) => sub.url),
      encoded,
    )
    assert.deepEqual(parseBundle(result.top).bundles, encoded)
  })

  it('writes 2022 bundles in the current era, identical to what the current era wrote for the same files', async () => {
    const legacy = bundleCases('f09f918').find((c) => c.name === 'bundle/tree-incremental')!
    const current = bundleCases('head').find((c) => c.name === 'bundle/tree')!
    const bundle = parseBundle(topJsonOf('f09f918', legacy))
    assert.equal(bundle.files.get('README.txt')!.mtime, 1_700_000_000)
    const json = Buffer.from(serializeBundle(bundle)).toString('latin1')
    assert.ok(!json.includes('"parts"') && !json.includes('"previous"') && !json.includes('"timestamp"'))
    const reread = parseBundle(json)
    assert.equal(reread.era, 'current')
    assert.equal(reread.prior, legacy.previous)
    assert.equal(reread.timestamp, undefined)
    assert.match(json, /"README\.txt":\{"contents":\[[^\]]*\],"modified":721692800\.0,"size":1700\}/)

    // Files of one chunk with no mode bits come out exactly as the current era wrote them.
    const legacyTree = parseBundle(topJsonOf('f09f918', bundleCases('f09f918').find((c) => c.name === 'bundle/tree')!))
    const currentTree = parseBundle(topJsonOf('head', current))
    let identical = 0
    for (const [path, file] of legacyTree.files) {
      const other = currentTree.files.get(path)!
      if (file.parts.length > 1 || other.executable || other.readonly || other.link !== undefined) continue
      assert.equal(stringifyPyJson(fileToPyJson(file)), stringifyPyJson(fileToPyJson(other)), path)
      identical++
    }
    assert.ok(identical >= 30, `${identical}`)
  })
})

// ---------------------------------------------------------------- model round trip

const ID_A = 'a'.repeat(64)
const ID_B = 'b'.repeat(64)

function convergentUrl(id: string, key: string): string {
  return `/sha256/${id}/aes256/${key}`
}

const hexId = fc.stringMatching(/^[0-9a-f]{64}$/)
const partUrl = fc.oneof(
  fc.tuple(hexId, hexId).map(([id, key]) => convergentUrl(id, key)),
  fc.tuple(hexId, hexId).map(([id, key]) => `/sha256/${id}/passphrase/${key}`),
  hexId.map((id) => `/sha256/${id}`),
)
const segmentChars = fc.constantFrom(...Array.from('abcXYZ019 _-.~éü文🎉\u007f"\\/'.replace(/[\\/]/g, '')))
const segment = fc
  .string({ unit: segmentChars, minLength: 1, maxLength: 8 })
  .filter((s) => s !== '.' && s !== '..' && !s.startsWith('~'))
const relativeDirs = fc.array(segment, { maxLength: 3 })
const extraValue = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null))
const extra = fc.dictionary(
  fc.string({ maxLength: 6 }).map((key) => `x-${key}`),
  extraValue,
  { minKeys: 1, maxKeys: 3, noNullPrototype: true },
)

const part = fc.record(
  { url: partUrl, size: fc.integer({ min: 1, max: 1_048_576 }), extra },
  { requiredKeys: ['url', 'size'], noNullPrototype: true },
) as fc.Arbitrary<BundlePart>

/**
 * mtimes whose trip through the 2001 epoch is exact: whole seconds anywhere,
 * and any double between 1985 and 2032 (where POSIX − 978307200 is exact).
 */
const mtime = fc.oneof(
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double({ min: 489_153_600, max: 1_956_614_400, noNaN: true }),
)

const file: fc.Arbitrary<BundleFile> = fc
  .record(
    {
      parts: fc.array(part, { maxLength: 4 }),
      mtime,
      executable: fc.boolean(),
      readonly: fc.boolean(),
      link: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0')),
      extra,
    },
    { requiredKeys: ['parts', 'mtime'], noNullPrototype: true },
  )
  .map((f) => ({ ...f, size: f.parts.reduce((sum, p) => sum + p.size, 0) }))

/**
 * Conflict-free by construction: file names start with `~f` and link names
 * with `~l`, which no directory segment does, so no entry lies below a file
 * or a link; empty directories live under their own `~d` root.
 */
const bundleArbitrary: fc.Arbitrary<Bundle> = fc
  .record(
    {
      files: fc.uniqueArray(fc.tuple(relativeDirs, segment, file), {
        maxLength: 8,
        selector: ([dirs, name]) => [...dirs, name].join('/'),
      }),
      emptyDirs: fc.uniqueArray(fc.array(segment, { minLength: 1, maxLength: 3 }), {
        maxLength: 3,
        selector: (s) => s.join('/'),
      }),
      links: fc.uniqueArray(fc.tuple(relativeDirs, segment, fc.string({ minLength: 1, maxLength: 10 })), {
        maxLength: 3,
        selector: ([dirs, name]) => [...dirs, name].join('/'),
      }),
      bundles: fc.array(partUrl, { maxLength: 3 }),
      prior: fc.oneof(fc.constant(null), partUrl),
      extra,
    },
    { requiredKeys: ['files'], noNullPrototype: true },
  )
  .map((r) => {
    const bundle: Bundle = {
      era: 'current',
      files: new Map(r.files.map(([dirs, name, f]) => [[...dirs, `~f${name}`].join('/'), f])),
    }
    if (r.emptyDirs !== undefined || r.links !== undefined) {
      bundle.directories = new Map([
        ...(r.emptyDirs ?? []).map((dirs): [string, string | null] => [['~d', ...dirs].join('/'), null]),
        ...(r.links ?? [])
          .filter(([, , target]) => !target.includes('\0'))
          .map(([dirs, name, target]): [string, string] => [[...dirs, `~l${name}`].join('/'), target]),
      ])
    }
    if (r.bundles !== undefined) bundle.bundles = r.bundles
    if (r.prior !== undefined) bundle.prior = r.prior
    if (r.extra !== undefined) bundle.extra = r.extra
    return bundle
  })

describe('bundle model round trip', () => {
  it('model → serialize → parse gives the model back, and its bytes again', () => {
    fc.assert(
      fc.property(bundleArbitrary, (bundle) => {
        const json = serializeBundle(bundle)
        const parsed = parseBundle(json)
        assert.deepStrictEqual(parsed, bundle)
        assert.deepEqual(serializeBundle(parsed), json)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps unknown keys at every level and an explicit "prior": null', () => {
    const json =
      '{"bundles":[],"directories":{},"files":{"a":{"contents":[{"hash":"x","size":3,"url":"/sha256/' +
      ID_A +
      '"}],"executable":false,"future":[1,2.5],"modified":12,"size":3}},"prior":null,"timestamp":5,"zz":{"k":1e-07}}'
    const bundle = parseBundle(json)
    assert.equal(bundle.era, 'current')
    assert.deepEqual(bundle.extra, { timestamp: 5, zz: { k: pyFloat(1e-7) } })
    assert.deepEqual(bundle.files.get('a')!.extra, { future: [1, pyFloat(2.5)] })
    assert.deepEqual(bundle.files.get('a')!.parts[0]!.extra, { hash: 'x' })
    assert.equal(bundle.prior, null)
    assert.deepEqual(bundle.bundles, [])
    assert.deepEqual(bundle.directories, new Map())
    assert.equal(bundle.files.get('a')!.executable, false)
    assert.equal(bundle.files.get('a')!.mtime, 978_307_212)
    assert.equal(Buffer.from(serializeBundle(bundle)).toString(), json)
  })

  it('writes a changed mtime as a float in the 2001 epoch', () => {
    const bundle = parseBundle(
      `{"files":{"a":{"contents":[{"size":3,"url":"/sha256/${ID_A}"}],"modified":12,"size":3}}}`,
    )
    const entry = bundle.files.get('a')!
    entry.mtime = 1_600_001_000
    assert.match(Buffer.from(serializeBundle(bundle)).toString(), /"modified":621693800\.0,/)
    bundle.files.set('b', { ...entry, mtime: 0 })
    assert.match(Buffer.from(serializeBundle(bundle)).toString(), /"b":\{[^}]*\}\],"modified":-978307200\.0,/)
  })

  it('serializes one file entry exactly as it appears in a bundle of that file', () => {
    fc.assert(
      fc.property(relativeDirs, segment, file, (dirs, name, entry) => {
        const path = [...dirs, name].join('/')
        const whole = Buffer.from(serializeBundle(createBundle([[path, entry]]))).toString('latin1')
        assert.equal(`{"files":{${serializeFileEntry(path, entry)}}}`, whole)
      }),
      { numRuns: 300 },
    )
    assert.throws(() => serializeFileEntry('../up', { size: 0, mtime: 1, parts: [] }), { name: 'UnsafePathError' })
    assert.throws(() => serializeFileEntry('a', { size: 1, mtime: 1, parts: [] }), { name: 'SizeMismatchError' })
  })

  it('writes back every "modified" it read, byte for byte: ints, big ints, any float, -0.0', () => {
    const token = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(formatPyFloat),
      fc.integer().map(String),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
      fc.constantFrom('-0.0', '0.0', '1e-07', '621693800.0', '1.7976931348623157e+308'),
    )
    fc.assert(
      fc.property(token, (modified) => {
        const json = `{"files":{"a":{"contents":[{"size":3,"url":"/sha256/${ID_A}"}],"modified":${modified},"size":3}}}`
        assert.equal(Buffer.from(serializeBundle(parseBundle(json))).toString(), json)
      }),
      { numRuns: 500 },
    )
  })

  it('builds an empty bundle', () => {
    assert.equal(Buffer.from(serializeBundle(createBundle())).toString(), '{"files":{}}')
  })
})

// ---------------------------------------------------------------- hostile bundles

function entry(path: string, body = `{"contents":[{"size":3,"url":"/sha256/${ID_A}"}],"modified":1.0,"size":3}`) {
  return `${JSON.stringify(path)}:${body}`
}

function rejects(json: string, name: string): void {
  assert.throws(
    () => parseBundle(json),
    (err: Error) => {
      assert.equal(err.name, name, `${json} → ${err.name}: ${err.message}`)
      return true
    },
  )
}

describe('hostile bundles', () => {
  it('refuses unsafe paths with UnsafePathError', () => {
    const unsafe = [
      '',
      '/etc/passwd',
      '../x',
      'a/../b',
      'a/..',
      '..',
      '.',
      './a',
      'a/./b',
      'a//b',
      'a/',
      '/',
      'a\0b',
      'a\\b',
      '..\\x',
    ]
    for (const path of unsafe) {
      rejects(`{"files":{${entry(path)}}}`, 'UnsafePathError')
      rejects(`{"directories":{${JSON.stringify(path)}:null},"files":{}}`, 'UnsafePathError')
    }
    rejects(
      `{"files":{${entry('l', `{"contents":[],"link":"a\\u0000b","modified":1.0,"size":0}`)}}}`,
      'UnsafePathError',
    )
    rejects(`{"files":{${entry('l', `{"contents":[],"link":"","modified":1.0,"size":0}`)}}}`, 'UnsafePathError')
    rejects('{"directories":{"d":"x\\u0000"},"files":{}}', 'UnsafePathError')
  })

  it('accepts odd but safe paths and link targets verbatim', () => {
    const bundle = parseBundle(
      `{"directories":{"up":"../../outside"},"files":{${entry('...')},${entry(' a b ')},${entry('\u00e9/\ud83c\udf89')},${entry('ln', `{"contents":[],"link":"/etc/passwd","modified":1.0,"size":0}`)}}}`,
    )
    assert.equal(bundle.directories!.get('up'), '../../outside')
    assert.equal(bundle.files.get('ln')!.link, '/etc/passwd')
    assert.ok(bundle.files.has('é/🎉'))
  })

  it('refuses duplicate and overlapping entries with DuplicateEntryError', () => {
    const cases = [
      `{"files":{${entry('a')},${entry('a')}}}`,
      `{"files":{${entry('a')}},"files":{}}`,
      `{"files":{"a":{"contents":[],"modified":1.0,"size":0,"size":0}}}`,
      `{"directories":{"a":null},"files":{${entry('a')}}}`,
      `{"directories":{"a":"t"},"files":{${entry('a')}}}`,
      `{"files":{${entry('a')},${entry('a/b')}}}`,
      `{"files":{${entry('a/b/c')},${entry('a/b')}}}`,
      `{"directories":{"d":"target"},"files":{${entry('d/x')}}}`,
      `{"directories":{"d":null},"files":{${entry('d/x')}}}`,
      `{"directories":{"a/b":null},"files":{${entry('a')}}}`,
      `{"directories":{"l":"t","l/x":null},"files":{}}`,
      `{"directories":{"l/x":null,"l":"t"},"files":{}}`,
      `{"directories":{"a/l":"t"},"files":{${entry('a')}}}`,
      `{"directories":{"d":null,"d":null},"files":{}}`,
    ]
    for (const json of cases) rejects(json, 'DuplicateEntryError')
    // Nested empty directories and a link inside an empty directory are what the original writes.
    parseBundle('{"directories":{"e":null,"e/n":null,"e/l":"x"},"files":{}}')
  })

  it('refuses sizes that disagree or make no sense with SizeMismatchError', () => {
    const url = `/sha256/${ID_A}`
    const cases = [
      `{"contents":[{"size":3,"url":"${url}"}],"modified":1.0,"size":4}`,
      `{"contents":[{"size":3,"url":"${url}"},{"size":3,"url":"${url}"}],"modified":1.0,"size":3}`,
      `{"contents":[],"modified":1.0,"size":1}`,
      `{"contents":[],"modified":1.0,"size":-1}`,
      `{"contents":[],"modified":1.0,"size":1.5}`,
      `{"contents":[],"modified":1.0,"size":0.0}`,
      `{"contents":[],"modified":1.0,"size":9007199254740993}`,
      `{"contents":[{"size":-3,"url":"${url}"}],"modified":1.0,"size":-3}`,
      `{"contents":[{"size":3.0,"url":"${url}"}],"modified":1.0,"size":3}`,
      `{"contents":[{"size":1048577,"url":"${url}"}],"modified":1.0,"size":1048577}`,
      `{"contents":[{"size":0,"url":"${url}"},{"size":3,"url":"${url}"}],"modified":1.0,"size":3}`,
      `{"contents":[{"size":3,"url":"${url}"},{"size":0,"url":"${url}"}],"modified":1.0,"size":3}`,
    ]
    for (const body of cases) rejects(`{"files":{${entry('f', body)}}}`, 'SizeMismatchError')
    // A 2022-era incompressible 1 MiB part, and a lone empty part, are fine.
    parseBundle(
      `{"files":{${entry('f', `{"modified":1.0,"parts":[{"size":1048576,"url":"${url}"}],"size":1048576}`)}}}`,
    )
    parseBundle(`{"files":{${entry('f', `{"contents":[{"size":0,"url":"${url}"}],"modified":1.0,"size":0}`)}}}`)
  })

  it('refuses wrong shapes with InvalidBundleError', () => {
    const url = `/sha256/${ID_A}`
    const file = (body: string) => `{"files":{${entry('f', body)}}}`
    const cases = [
      '',
      '[]',
      '1',
      'null',
      '"files"',
      '{}',
      '{"files":[]}',
      '{"files":null}',
      '{"files":{"f":[]}}',
      '{"files":{"f":null}}',
      file('{"modified":1.0,"size":0}'),
      file('{"contents":{},"modified":1.0,"size":0}'),
      file('{"contents":[],"modified":1.0,"parts":[],"size":0}'),
      file(`{"contents":[{"size":3}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"url":"${url}"}],"modified":1.0,"size":3}`),
      file('{"contents":[{"size":3,"url":5}],"modified":1.0,"size":3}'),
      file('{"contents":[[3]],"modified":1.0,"size":3}'),
      file('{"contents":[{"size":3,"url":"/sha256/xyz"}],"modified":1.0,"size":3}'),
      file(`{"contents":[{"size":3,"url":"/sha256/${ID_A.toUpperCase()}"}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"size":3,"url":"/sha256/like/${ID_A}"}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"size":3,"url":"${convergentUrl(ID_A, ID_B)}/file.txt"}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"size":3,"url":"${convergentUrl(ID_A, ID_B)}/"}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"size":3,"url":"http://localhost${url}"}],"modified":1.0,"size":3}`),
      file(`{"contents":[{"size":3,"url":"/sha256/${ID_A}/rot13/${ID_B}"}],"modified":1.0,"size":3}`),
      file('{"contents":[],"size":0}'),
      file('{"contents":[],"modified":"yesterday","size":0}'),
      file('{"contents":[],"modified":null,"size":0}'),
      file('{"contents":[],"modified":NaN,"size":0}'),
      file('{"contents":[],"modified":Infinity,"size":0}'),
      file('{"contents":[],"modified":1.0}'),
      file('{"contents":[],"modified":1.0,"size":"0"}'),
      file('{"contents":[],"modified":1.0,"size":null}'),
      file('{"contents":[],"executable":"yes","modified":1.0,"size":0}'),
      file('{"contents":[],"modified":1.0,"readonly":1,"size":0}'),
      file('{"contents":[],"link":5,"modified":1.0,"size":0}'),
      '{"directories":[],"files":{}}',
      '{"directories":{"d":5},"files":{}}',
      '{"directories":{"d":{}},"files":{}}',
      '{"bundles":{},"files":{}}',
      '{"bundles":[5],"files":{}}',
      '{"bundles":["/sha256/nope"],"files":{}}',
      '{"files":{},"prior":5}',
      '{"files":{},"prior":"yesterday"}',
      `{"files":{},"previous":"${url}","prior":"${url}"}`,
      `{"files":{},"previous":"${url}","directories":{}}`,
      `{"files":{${entry('f', `{"contents":[],"modified":1.0,"size":0}`)}},"previous":"${url}"}`,
      `{"files":{${entry('f', `{"modified":1.0,"parts":[],"size":0}`)}},"prior":"${url}"}`,
      `{"files":{${entry('f', `{"modified":1.0,"parts":[],"size":0}`)},${entry('g', `{"contents":[],"modified":1.0,"size":0}`)}}}`,
      '{"files":{},"previous":5}',
      '{"files":{},"timestamp":"now"}',
      '{"files":{} ',
      '{"files":{},}',
    ]
    for (const json of cases) rejects(json, 'InvalidBundleError')
    assert.throws(() => parseBundle(Uint8Array.from([0x7b, 0xff, 0x7d])), { name: 'InvalidBundleError' })
  })

  it('detects the 2022 era from its keys and reads its POSIX times', () => {
    const bundle = parseBundle(
      `{"files":{"f":{"modified":1600001000.5,"parts":[{"size":3,"url":"/sha256/${ID_A}"}],"size":3}},"previous":"/sha256/${ID_B}","timestamp":1795584398.7892601}`,
    )
    assert.equal(bundle.era, '2022')
    assert.equal(bundle.files.get('f')!.mtime, 1_600_001_000.5)
    assert.equal(bundle.prior, `/sha256/${ID_B}`)
    assert.equal(bundle.timestamp, 1795584398.7892601)
    assert.equal(parseBundle('{"files":{},"timestamp":1.5}').era, '2022')
    assert.equal(parseBundle('{"files":{}}').era, 'current')
    assert.equal(
      Buffer.from(serializeBundle(bundle)).toString(),
      `{"files":{"f":{"contents":[{"size":3,"url":"/sha256/${ID_A}"}],"modified":621693800.5,"size":3}},"prior":"/sha256/${ID_B}"}`,
    )
  })

  it('validates models before writing them', () => {
    const bundle = createBundle([['../escape', { size: 0, mtime: 0, parts: [] }]])
    assert.throws(() => serializeBundle(bundle), { name: 'UnsafePathError' })
    const mismatch = createBundle([['f', { size: 5, mtime: 0, parts: [{ url: `/sha256/${ID_A}`, size: 4 }] }]])
    assert.throws(() => serializeBundle(mismatch), { name: 'SizeMismatchError' })
    const badTime = createBundle([['f', { size: 0, mtime: Number.NaN, parts: [] }]])
    assert.throws(() => serializeBundle(badTime), { name: 'InvalidBundleError' })
    assert.throws(() => validateBundle({ ...createBundle(), era: 'future' as 'current' }), {
      name: 'InvalidBundleError',
    })
  })

  it('refuses to write a bundle above MAX_BUNDLE_SIZE with BundleTooLargeError', () => {
    const bundle = manyFiles(5_000, 3)
    assert.throws(
      () => serializeBundle(bundle),
      (err: Error) => err.name === 'BundleTooLargeError',
    )
  })
})

// ---------------------------------------------------------------- split and read back

/** Deterministic pseudo-random numbers (mulberry32), so the big split test is reproducible. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function fakeId(n: number, salt: string): string {
  return createHash('sha256').update(`${salt}:${n}`).digest('hex')
}

/** Thousands of files with long (partly non-ASCII) names and 0..maxParts parts each. */
function manyFiles(count: number, maxParts: number, seed = 7): Bundle {
  const next = random(seed)
  const bundle: Bundle = { era: 'current', files: new Map() }
  for (let i = 0; i < count; i++) {
    const parts = Math.floor(next() * (maxParts + 1))
    const fileParts: BundlePart[] = []
    for (let p = 0; p < parts; p++) {
      const size = p < parts - 1 ? 1_048_560 : 1 + Math.floor(next() * 1_048_560)
      fileParts.push({ url: convergentUrl(fakeId(i * 100 + p, 'id'), fakeId(i * 100 + p, 'key')), size })
    }
    const name =
      i % 3 === 0
        ? `d${i % 17}/ünïcødé-фaйл-文件-🎉-${'x'.repeat(Math.floor(next() * 60))}-${i}.bin`
        : `dir-${i % 23}/sub-${i % 7}/a-rather-long-file-name-${'y'.repeat(40 + Math.floor(next() * 80))}-${i}.dat`
    bundle.files.set(name, {
      size: fileParts.reduce((sum, part) => sum + part.size, 0),
      mtime: 1_600_000_000 + i + 0.25,
      parts: fileParts,
      ...(i % 11 === 0 ? { executable: true } : {}),
    })
  }
  return bundle
}

/** An in-memory stand-in for the block store: sub-bundles keyed by the hash of their JSON. */
function memoryStore() {
  const blocks = new Map<string, Uint8Array>()
  return {
    blocks,
    encode: (json: Uint8Array): string => {
      const id = sha256Hex(json)
      blocks.set(id, json)
      return convergentUrl(id, id)
    },
    load: async (url: string): Promise<Uint8Array> => {
      const id = url.split('/')[2]!
      const json = blocks.get(id)
      if (json === undefined) throw new Error(`no block ${id}`)
      return json
    },
  }
}

describe('splitting large bundles', () => {
  it('returns a bundle that fits as it is', async () => {
    const bundle = manyFiles(50, 2)
    const store = memoryStore()
    const result = await splitBundle(bundle, store.encode)
    assert.deepEqual(result.subBundles, [])
    assert.deepEqual(result.top, serializeBundle(bundle))
    assert.equal(store.blocks.size, 0)
  })

  it('splits thousands of long-named files into pieces that all fit and reads them back', async () => {
    const bundle = manyFiles(9_000, 4)
    bundle.directories = new Map([
      ['empty/one', null],
      ['links/to-dir', 'dir-1/sub-1'],
    ])
    bundle.prior = convergentUrl(ID_A, ID_B)
    bundle.extra = { note: 'kept on top' }
    const store = memoryStore()
    const result = await splitBundle(bundle, store.encode)

    assert.ok(result.subBundles.length >= 3, `${result.subBundles.length} sub-bundles`)
    assert.ok(result.top.byteLength <= MAX_BUNDLE_SIZE)
    for (const sub of result.subBundles) {
      assert.ok(sub.json.byteLength <= MAX_BUNDLE_SIZE, `${sub.json.byteLength}`)
      const parsed = parseBundle(sub.json)
      assert.equal(parsed.directories, undefined)
      assert.deepEqual(Object.keys(JSON.parse(Buffer.from(sub.json).toString())), ['files'])
    }
    const top = parseBundle(result.top)
    assert.deepEqual(
      top.bundles,
      result.subBundles.map((sub) => sub.url),
    )
    assert.deepEqual(top.directories, bundle.directories)
    assert.equal(top.prior, bundle.prior)
    assert.deepEqual(top.extra, bundle.extra)

    const merged = await mergeBundle(top, store.load)
    assert.deepStrictEqual(merged, bundle)

    // Same input, other insertion order: same bytes (ties between files are broken by path).
    const shuffled: Bundle = { ...bundle, files: new Map([...bundle.files].reverse()) }
    const again = await splitBundle(shuffled, memoryStore().encode)
    assert.deepEqual(again.top, result.top)
    assert.deepEqual(
      again.subBundles.map((sub) => sub.url),
      result.subBundles.map((sub) => sub.url),
    )
  })

  it('fills pieces exactly when most files have no parts (where the estimate alone would overflow)', async () => {
    const bundle = manyFiles(12_000, 0)
    const store = memoryStore()
    const result = await splitBundle(bundle, store.encode)
    for (const piece of [result.top, ...result.subBundles.map((sub) => sub.json)]) {
      assert.ok(piece.byteLength <= MAX_BUNDLE_SIZE)
    }
    assert.deepStrictEqual(await mergeBundle(parseBundle(result.top), store.load), bundle)
  })

  it('accepts sub-bundle URLs longer than convergent ones', async () => {
    const bundle = manyFiles(5_000, 3)
    const store = memoryStore()
    const result = await splitBundle(bundle, (json) => store.encode(json).replace('/aes256/', '/passphrase/'))
    assert.ok(result.top.byteLength <= MAX_BUNDLE_SIZE)
    assert.ok(result.subBundles.every((sub) => sub.url.includes('/passphrase/')))
    assert.deepStrictEqual(await mergeBundle(parseBundle(result.top), store.load), bundle)
  })

  it('refuses what cannot be split with BundleTooLargeError', async () => {
    const huge: BundleFile = { size: 0, mtime: 0, parts: [] }
    for (let p = 0; p < 7_000; p++)
      huge.parts.push({ url: convergentUrl(fakeId(p, 'i'), fakeId(p, 'k')), size: 1_048_560 })
    huge.size = huge.parts.reduce((sum, part) => sum + part.size, 0)
    const store = memoryStore()
    await assert.rejects(splitBundle(createBundle([['huge.iso', huge]]), store.encode), { name: 'BundleTooLargeError' })

    const dirs = createBundle()
    dirs.directories = new Map()
    for (let i = 0; i < 20_000; i++)
      dirs.directories.set(`empty-directory-with-a-long-name-${'z'.repeat(40)}-${i}`, null)
    await assert.rejects(splitBundle(dirs, store.encode), { name: 'BundleTooLargeError' })
  })

  it('refuses an encoder that returns something other than a URL', async () => {
    await assert.rejects(
      splitBundle(manyFiles(5_000, 3), () => 'not a url'),
      { name: 'InvalidBundleError' },
    )
  })
})

describe('reading bundles with sub-bundles', () => {
  function topWith(files: string[], bundles: string[], directories?: Record<string, string | null>): Bundle {
    const bundle = createBundle(files.map((path): [string, BundleFile] => [path, { size: 0, mtime: 0, parts: [] }]))
    if (bundles.length > 0) bundle.bundles = bundles
    if (directories !== undefined) bundle.directories = new Map(Object.entries(directories))
    return bundle
  }

  function subJson(files: string[], bundles: string[] = []): Uint8Array {
    const bundle = topWith(files, bundles)
    return serializeBundle(bundle)
  }

  function storeOf(pieces: Record<string, Uint8Array>) {
    const urls = new Map<string, string>()
    for (const [name, json] of Object.entries(pieces)) urls.set(name, convergentUrl(sha256Hex(json), sha256Hex(json)))
    const loaded: string[] = []
    const byUrl = new Map([...urls].map(([name, url]) => [url, pieces[name]!]))
    return {
      url: (name: string) => urls.get(name)!,
      loaded,
      load: async (url: string) => {
        loaded.push(url)
        const json = byUrl.get(url)
        if (json === undefined) throw new Error(`missing ${url}`)
        return json
      },
    }
  }

  it('yields top-level files before fetching any sub-bundle', async () => {
    const store = storeOf({ one: subJson(['s1', 's2']) })
    const top = topWith(['t1', 't2'], [store.url('one')])
    const iterator = iterateBundleFiles(top, store.load)[Symbol.asyncIterator]()
    assert.equal((await iterator.next()).value?.path, 't1')
    assert.equal((await iterator.next()).value?.path, 't2')
    assert.deepEqual(store.loaded, [])
    const third = await iterator.next()
    assert.equal(third.value?.path, 's1')
    assert.equal(third.value?.source, store.url('one'))
    assert.deepEqual(store.loaded, [store.url('one')])
    await iterator.return?.()
  })

  it('follows nested sub-bundles depth first', async () => {
    const inner = subJson(['c'])
    const innerUrl = convergentUrl(sha256Hex(inner), sha256Hex(inner))
    const store = storeOf({ inner, outer: subJson(['b'], [innerUrl]), last: subJson(['d']) })
    const top = topWith(['a'], [store.url('outer'), store.url('last')])
    const paths: string[] = []
    for await (const { path } of iterateBundleFiles(top, store.load)) paths.push(path)
    assert.deepEqual(paths, ['a', 'b', 'c', 'd'])
  })

  it('refuses the same path in two pieces, or below a file or link of another piece', async () => {
    const cases: Array<[string[], string[], Record<string, string | null> | undefined]> = [
      [['a'], ['a'], undefined],
      [['a'], ['a/b'], undefined],
      [['a/b'], ['a'], undefined],
      [[], ['l/x'], { l: 'target' }],
      [[], ['e/x'], { e: null }],
      [[], ['d'], { d: null }],
    ]
    for (const [topFiles, subFiles, directories] of cases) {
      const store = storeOf({ sub: subJson(subFiles) })
      const top = topWith(topFiles, [store.url('sub')], directories)
      await assert.rejects(mergeBundle(top, store.load), { name: 'DuplicateEntryError' }, `${topFiles} / ${subFiles}`)
    }
    const store = storeOf({ one: subJson(['x']), two: subJson(['y', 'x']) })
    await assert.rejects(mergeBundle(topWith([], [store.url('one'), store.url('two')]), store.load), {
      name: 'DuplicateEntryError',
    })
  })

  it('refuses a sub-bundle listed twice, one listing itself, and cycles', async () => {
    const store = storeOf({ one: subJson(['x']) })
    await assert.rejects(mergeBundle(topWith([], [store.url('one'), store.url('one')]), store.load), {
      name: 'DuplicateEntryError',
    })
    const topUrl = convergentUrl(ID_A, ID_B)
    await assert.rejects(mergeBundle(topWith(['a'], [topUrl]), store.load, { url: topUrl }), {
      name: 'DuplicateEntryError',
    })
    // A sub-bundle pointing at itself: its id is the hash of the block, so use a loader that serves any id.
    const selfish = subJson([], [convergentUrl(ID_B, ID_B)])
    const anyLoad = async () => selfish
    await assert.rejects(mergeBundle(topWith([], [convergentUrl(ID_B, ID_B)]), anyLoad), {
      name: 'DuplicateEntryError',
    })
  })

  it('refuses a sub-bundle with directories, too many sub-bundles, and stops on abort', async () => {
    const withDirs = Buffer.from('{"directories":{"d":null},"files":{}}')
    const store = storeOf({ withDirs, one: subJson(['x']), two: subJson(['y']) })
    await assert.rejects(mergeBundle(topWith([], [store.url('withDirs')]), store.load), { name: 'InvalidBundleError' })
    await assert.rejects(
      mergeBundle(topWith([], [store.url('one'), store.url('two')]), store.load, { maxSubBundles: 1 }),
      { name: 'InvalidBundleError' },
    )
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(mergeBundle(topWith([], [store.url('one')]), store.load, { signal: controller.signal }), {
      name: 'AbortError',
    })
    const malformed = storeOf({ bad: Buffer.from('{"files":{"../x":{}}}') })
    await assert.rejects(mergeBundle(topWith([], [malformed.url('bad')]), malformed.load), {
      name: 'InvalidBundleError',
    })
  })
})
