import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { contentUrl, encodeConvergent } from '@libernet/core'
import { runMain, scratch } from './helpers.ts'

/**
 * Bundles written by hand, as an attacker would: each must be refused before
 * anything is written, inside or outside the target.
 */
describe('restoring hostile bundles', () => {
  const work = scratch('hostile')
  const blocks = join(work.dir, 'blocks')
  const data = join(work.dir, 'data')
  const outside = join(work.dir, 'outside')
  mkdirSync(blocks)
  mkdirSync(outside)

  /** Stores bytes as a convergent block in the import directory; returns its URL. */
  const store = (text: string): string => {
    const block = encodeConvergent(new TextEncoder().encode(text))
    writeFileSync(join(blocks, block.id), block.bytes)
    return contentUrl('convergent', block.id, block.key!)
  }
  const part = store('hello')
  const entry = `{"contents":[{"size":5,"url":"${part}"}],"modified":621693800.0,"size":5}`
  const linkEntry = (target: string): string =>
    `{"contents":[],"link":${JSON.stringify(target)},"modified":621693800.0,"size":0}`

  const cases: Array<{ name: string; bundle: string; error: RegExp; prepare?: (target: string) => void }> = [
    { name: 'a path with ..', bundle: `{"files":{"../escape.txt":${entry}}}`, error: /UnsafePathError/ },
    { name: '.. inside a path', bundle: `{"files":{"a/../../escape.txt":${entry}}}`, error: /UnsafePathError/ },
    { name: 'an absolute path', bundle: `{"files":{"${outside}/abs.txt":${entry}}}`, error: /UnsafePathError/ },
    {
      name: 'a file link out of the target',
      bundle: `{"files":{"ok.txt":${entry},"evil":${linkEntry('../../outside/x')}}}`,
      error: /points outside the restore/,
    },
    {
      name: 'an absolute file link',
      bundle: `{"files":{"ok.txt":${entry},"evil":${linkEntry('/etc/passwd')}}}`,
      error: /absolute path/,
    },
    {
      name: 'a directory link out of the target',
      bundle: `{"directories":{"evil":"${outside}"},"files":{"ok.txt":${entry}}}`,
      error: /absolute path/,
    },
    {
      name: 'a link that climbs after a name',
      bundle: `{"files":{"ok.txt":${entry},"l":${linkEntry('ok.txt/../../..')}}}`,
      error: /"\.\." after a name/,
    },
    {
      name: 'a file below a directory link',
      bundle: `{"directories":{"d":"sub"},"files":{"d/x.txt":${entry}}}`,
      error: /DuplicateEntryError/,
    },
    {
      name: 'the same path in the top bundle and a sub-bundle',
      bundle: `{"bundles":["${store(`{"files":{"twice.txt":${entry}}}`)}"],"files":{"twice.txt":${entry}}}`,
      error: /DuplicateEntryError/,
    },
    {
      name: 'a size that disagrees with its parts',
      bundle: `{"files":{"x.txt":{"contents":[{"size":5,"url":"${part}"}],"modified":1.0,"size":6}}}`,
      error: /SizeMismatchError/,
    },
    {
      name: 'a symlink already in the target that leads outside',
      bundle: `{"files":{"ok.txt":${entry},"sub/file.txt":${entry}}}`,
      error: /symlink to .*outside the restore/,
      prepare: (target) => symlinkSync(outside, join(target, 'sub')),
    },
  ]
  const urls = new Map(cases.map((test) => [test.name, store(test.bundle)]))

  before(async () => {
    const imported = await runMain(['--data', data, 'import', blocks])
    assert.equal(imported.code, 0, imported.stderr)
  })
  after(() => work.cleanup())

  for (const test of cases) {
    it(`refuses ${test.name} (exit 5) and writes nothing`, async () => {
      const target = join(work.dir, `target-${test.name.replaceAll(/\W+/g, '-')}`)
      mkdirSync(target)
      test.prepare?.(target)
      const before = readdirSync(target)
      const result = await runMain(['--data', data, 'restore', urls.get(test.name)!, target])
      assert.equal(result.code, 5, result.stderr)
      assert.match(result.stderr, test.error)
      assert.deepEqual(readdirSync(target), before, 'nothing written in the target')
      assert.deepEqual(readdirSync(outside), [], 'nothing written outside')
    })
  }

  it('recreates outside links verbatim only when asked (--external-links), never writing through them', async () => {
    const target = join(work.dir, 'target-external')
    const result = await runMain([
      '--data',
      data,
      'restore',
      '--external-links',
      urls.get('a file link out of the target')!,
      target,
    ])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(readdirSync(target).sort(), ['evil', 'ok.txt'])
    assert.deepEqual(readdirSync(outside), [])
  })
})
