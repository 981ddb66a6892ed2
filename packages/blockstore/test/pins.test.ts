import assert from 'node:assert/strict'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import {
  type BlockId,
  type BundleFile,
  createBundle,
  decodeBlock,
  type EncodedBlock,
  encodeConvergent,
  encodePassphrase,
  parseUrl,
  serializeBundle,
} from '@libernet/core'
import { LibernetBlockstore } from '../src/index.ts'
import { makeTempDir, randomBlock } from './helpers.ts'

function contentUrl(block: EncodedBlock): string {
  return block.mode === 'passphrase'
    ? `/sha256/${block.id}/passphrase/${block.key}`
    : `/sha256/${block.id}/aes256/${block.key}`
}

function fileOf(parts: EncodedBlock[]): BundleFile {
  const size = parts.reduce((sum, part) => sum + part.size, 0)
  return { size, mtime: 1_700_000_000, parts: parts.map((part) => ({ url: contentUrl(part), size: part.size })) }
}

function chunk(text: string): EncodedBlock {
  return encodeConvergent(new TextEncoder().encode(text))
}

/**
 * A backup: top bundle → sub-bundle A → sub-bundle B (a sub-bundle may list
 * further ones), each with files of one or two parts.
 */
function makeBackup(tag: string, shared: EncodedBlock[] = []) {
  const partsB = [chunk(`${tag} b1`), chunk(`${tag} b2`)]
  const subB = encodeConvergent(serializeBundle(createBundle([['deep/b.txt', fileOf(partsB)]])))
  const partsA = [chunk(`${tag} a1`)]
  const bundleA = createBundle([['dir/a.txt', fileOf(partsA)]])
  bundleA.bundles = [contentUrl(subB)]
  const subA = encodeConvergent(serializeBundle(bundleA))
  const partsTop = [chunk(`${tag} top1`), chunk(`${tag} top2`), ...shared]
  const top = createBundle([['top.txt', fileOf(partsTop)]])
  top.bundles = [contentUrl(subA)]
  const root = encodeConvergent(serializeBundle(top))
  const parts = [...partsTop, ...partsA, ...partsB]
  return { url: contentUrl(root), root, bundles: [root, subA, subB], parts, all: [root, subA, subB, ...parts] }
}

async function putAll(store: LibernetBlockstore, blocks: { id: BlockId; bytes: Uint8Array }[]): Promise<void> {
  for (const block of blocks) await store.putBlock(block.id, block.bytes)
}

function pinnedIds(store: LibernetBlockstore, blocks: { id: BlockId }[]): BlockId[] {
  return blocks.filter((block) => store.blockInfo(block.id)?.pinned === true).map((block) => block.id)
}

describe('pins', () => {
  it('pins a root recursively: bundle, sub-bundles of sub-bundles, every part', async () => {
    await using dir = await makeTempDir('pin')
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 100_000 })
    const backup = makeBackup('one')
    const stranger = randomBlock(500)
    await putAll(store, backup.all)
    await store.putBlock(stranger.id, stranger.bytes)

    const result = await store.pin(backup.url, 'laptop')
    assert.deepEqual(result, {
      owner: 'laptop',
      url: backup.url,
      blocks: backup.all.length,
      present: backup.all.length,
    })
    for (const block of backup.all) assert.deepEqual(store.blockInfo(block.id)?.pinnedBy, ['laptop'])
    assert.equal(store.blockInfo(stranger.id)?.pinned, false)
    assert.deepEqual(
      store.pins().map(({ owner, url }) => ({ owner, url })),
      [{ owner: 'laptop', url: backup.url }],
    )
    const bytes = backup.all.reduce((sum, block) => sum + block.bytes.byteLength, 0)
    assert.equal(store.stats().pinnedBytes, bytes)

    await store.gc({ target: 0 })
    assert.equal(store.hasBlock(stranger.id), false)
    for (const block of backup.all) assert.equal(store.hasBlock(block.id), true)
    await store.close()
  })

  it('pins the references a caller gives without reading the bundles: the same blocks as walking them', async () => {
    await using dir = await makeTempDir('pin-references')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const backup = makeBackup('given')
    await putAll(store, backup.all)
    const root = backup.bundles[0]!.id
    const references = backup.all.map((block) => block.id).filter((id) => id !== root)
    const given = await store.pin(backup.url, 'given', { references })
    const walked = await store.pin(backup.url, 'walked')
    assert.deepEqual(given, { ...walked, owner: 'given' })
    for (const block of backup.all) assert.deepEqual(store.blockInfo(block.id)?.pinnedBy, ['given', 'walked'])

    await assert.rejects(store.pin(backup.url, 'x', { references, followPrior: true }), TypeError)
    await assert.rejects(store.pin(backup.url, 'x', { references: ['not-an-id'] }), { name: 'InvalidIdError' })
    const absent = makeBackup('absent')
    await assert.rejects(store.pin(absent.url, 'x', { references }), { name: 'NotFoundError' })
    assert.deepEqual(
      store.pins().map(({ owner }) => owner),
      ['given', 'walked'],
    )
    await store.close()
  })

  it('pins parts that are not here yet, so they are kept when they arrive', async () => {
    await using dir = await makeTempDir('pin-missing-parts')
    const store = await LibernetBlockstore.open({ path: dir.path, quota: 0 })
    const backup = makeBackup('later')
    // Bundles only: the node holds the index of the backup but not yet its data.
    for (const block of backup.bundles) await store.putBlock(block.id, block.bytes, { pinnedBy: 'laptop' })
    const result = await store.pin(backup.url, 'laptop')
    assert.equal(result.blocks, backup.all.length)
    assert.equal(result.present, backup.bundles.length)
    // With a zero quota an unpinned block could not be kept at all; pinned parts are.
    await putAll(store, backup.parts)
    for (const block of backup.parts) assert.equal(store.blockInfo(block.id)?.pinned, true)
    await store.close()
  })

  it('refuses to pin a root whose sub-bundle is missing, pinning nothing (NotFoundError)', async () => {
    await using dir = await makeTempDir('pin-missing-bundle')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const backup = makeBackup('gap')
    await putAll(
      store,
      backup.all.filter((block) => block !== backup.bundles[2]),
    )
    await assert.rejects(store.pin(backup.url, 'laptop'), (err: Error) => err.name === 'NotFoundError')
    assert.deepEqual(store.pins(), [])
    assert.deepEqual(pinnedIds(store, backup.all), [])
    assert.equal(store.stats().pinnedBlocks, 0)
    await store.close()
  })

  it('unpins one root without unpinning what another root still needs', async () => {
    await using dir = await makeTempDir('unpin')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const shared = [chunk('shared 1'), chunk('shared 2')]
    const monday = makeBackup('monday', shared)
    const tuesday = makeBackup('tuesday', shared)
    await putAll(store, [...monday.all, ...tuesday.all])
    await store.pin(monday.url, 'laptop')
    await store.pin(tuesday.url, 'laptop')
    assert.equal(store.pins().length, 2)

    assert.equal(await store.unpin(monday.url, 'laptop'), monday.all.length)
    assert.equal(await store.unpin(monday.url, 'laptop'), 0)
    const mondayOnly = monday.all.filter((block) => !shared.includes(block))
    assert.deepEqual(pinnedIds(store, mondayOnly), [])
    assert.deepEqual(
      pinnedIds(store, tuesday.all),
      tuesday.all.map((block) => block.id),
    )

    await store.gc({ target: 0 })
    for (const block of mondayOnly) assert.equal(store.hasBlock(block.id), false)
    for (const block of tuesday.all) assert.equal(store.hasBlock(block.id), true)

    await store.unpin(tuesday.url, 'laptop')
    assert.equal(store.stats().pinnedBlocks, 0)
    assert.deepEqual(store.pins(), [])
    await store.close()
  })

  it('keeps staged blocks (pinnedBy) until the owner pins a root, then only what the root needs', async () => {
    await using dir = await makeTempDir('staged')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const backup = makeBackup('staged')
    const leftover = randomBlock(300) // written by an attempt that was abandoned
    for (const block of [...backup.all, leftover]) {
      await store.putBlock(block.id, block.bytes, { pinnedBy: 'laptop' })
    }
    assert.equal(store.stats().pinnedBlocks, backup.all.length + 1)
    assert.equal(await store.gc({ target: 0 }).then((r) => r.removed), 0)

    await store.pin(backup.url, 'laptop')
    assert.equal(store.blockInfo(leftover.id)?.pinned, false)
    assert.equal(store.stats().pinnedBlocks, backup.all.length)

    const other = randomBlock(300)
    await store.putBlock(other.id, other.bytes, { pinnedBy: 'desktop' })
    assert.equal(await store.unpinStaged('desktop'), 1)
    assert.equal(store.blockInfo(other.id)?.pinned, false)
    await store.close()
  })

  it('survives a lost database: pins are rebuilt from pins.json by walking the roots again', async () => {
    await using dir = await makeTempDir('pins-rebuild')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const backup = makeBackup('durable')
    const stranger = randomBlock(100)
    await putAll(store, [...backup.all, stranger])
    await store.pin(backup.url, 'laptop')
    await store.close()

    for (const name of await readdir(dir.path)) {
      if (name.startsWith('meta.sqlite')) await rm(join(dir.path, name))
    }
    const again = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(again.recovery.state, 'rebuilt')
    assert.equal(again.recovery.rootsRewalked, 1)
    assert.deepEqual(again.recovery.unresolvedRoots, [])
    assert.equal(again.recovery.added, backup.all.length + 1)
    assert.deepEqual(
      pinnedIds(again, backup.all),
      backup.all.map((block) => block.id),
    )
    assert.equal(again.blockInfo(stranger.id)?.pinned, false)
    assert.deepEqual(
      again.pins().map(({ owner, url }) => ({ owner, url })),
      [{ owner: 'laptop', url: backup.url }],
    )
    await again.close()
  })

  it('follows pins.json when the database disagrees with it', async () => {
    await using dir = await makeTempDir('pins-authority')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const backup = makeBackup('authority')
    await putAll(store, backup.all)
    await store.pin(backup.url, 'laptop')
    await store.close()
    // As after a crash between writing pins.json and committing an unpin.
    const pinsFile = join(dir.path, 'pins.json')
    const saved = await readFile(pinsFile)
    await writeFile(pinsFile, JSON.stringify({ version: 1, roots: [] }))
    const unpinned = await LibernetBlockstore.open({ path: dir.path })
    assert.deepEqual(unpinned.pins(), [])
    assert.deepEqual(pinnedIds(unpinned, backup.all), [])
    await unpinned.close()
    // And the other way: a root in the file that the database lacks is walked again.
    await writeFile(pinsFile, saved)
    const repinned = await LibernetBlockstore.open({ path: dir.path })
    assert.equal(repinned.recovery.rootsRewalked, 1)
    assert.deepEqual(
      pinnedIds(repinned, backup.all),
      backup.all.map((block) => block.id),
    )
    await repinned.close()
  })

  it('pins passphrase roots, and refuses URLs that do not name a whole bundle', async () => {
    await using dir = await makeTempDir('pin-urls')
    const store = await LibernetBlockstore.open({ path: dir.path })
    const part = chunk('secret part')
    const top = encodePassphrase(serializeBundle(createBundle([['s.txt', fileOf([part])]])), 'correct horse')
    await putAll(store, [part, top])
    assert.equal((await store.pin(contentUrl(top), 'laptop')).blocks, 2)

    const wrongKey = `/sha256/${top.id}/passphrase/${'0'.repeat(64)}`
    await assert.rejects(store.pin(wrongKey, 'laptop'), (err: Error) => err.name === 'DecryptionError')
    await assert.rejects(store.pin(`/sha256/like/${top.id}`, 'laptop'), (err: Error) => err.name === 'InvalidUrlError')
    await assert.rejects(
      store.pin(`${contentUrl(top)}/s.txt`, 'laptop'),
      (err: Error) => err.name === 'InvalidUrlError',
    )
    await assert.rejects(store.pin('/sha256/nope', 'laptop'), (err: Error) => err.name === 'InvalidUrlError')
    // A block that is not a bundle at all.
    await assert.rejects(store.pin(contentUrl(part), 'laptop'), (err: Error) => err.name === 'InvalidBundleError')
    await assert.rejects(store.pin(contentUrl(top), ''), TypeError)
    assert.equal(store.pins().length, 1)
    await store.close()
  })
})

describe('pins on the interop vectors', () => {
  const vectors = join(
    process.env.LIBERNET_VECTORS ?? resolve(import.meta.dirname, '../../../../shared/vectors'),
    'head',
  )

  interface Case {
    name: string
    url?: string
    prior?: string
  }

  /** Every id a root needs, found by decoding each bundle and collecting the URLs in its JSON text. */
  async function expectedIds(rootUrl: string, withPrior: boolean): Promise<Set<BlockId>> {
    const ids = new Set<BlockId>()
    const pending = [rootUrl]
    while (pending.length > 0) {
      const url = parseUrl(pending.pop()!)
      if (url.kind !== 'content' || ids.has(url.id)) continue
      ids.add(url.id)
      const stored = await readFile(join(vectors, 'blocks', url.id))
      const json = JSON.parse(new TextDecoder().decode(decodeBlock(url.mode, stored, url.id, url.key))) as {
        files: Record<string, { contents: { url: string }[] }>
        bundles?: string[]
        prior?: string
      }
      for (const file of Object.values(json.files)) for (const part of file.contents) ids.add(parseUrl(part.url).id)
      pending.push(...(json.bundles ?? []))
      if (withPrior && json.prior !== undefined) pending.push(json.prior)
    }
    return ids
  }

  it('pins every block of the original implementation’s bundles, split and incremental', async () => {
    const manifest = JSON.parse(await readFile(join(vectors, 'manifest.json'), 'utf8')) as { cases: Case[] }
    await using dir = await makeTempDir('pin-vectors')
    const store = await LibernetBlockstore.open({ path: dir.path })
    for (const name of await readdir(join(vectors, 'blocks'))) {
      await store.putBlock(name, new Uint8Array(await readFile(join(vectors, 'blocks', name))))
    }
    const byName = new Map(manifest.cases.map((entry) => [entry.name, entry]))
    for (const [name, followPrior] of [
      ['bundle/split', false],
      ['bundle/tree-passphrase', false],
      ['bundle/tree-incremental', true],
    ] as const) {
      const url = byName.get(name)!.url!
      const expected = await expectedIds(url, followPrior)
      const result = await store.pin(url, name, { followPrior })
      assert.equal(result.blocks, expected.size, name)
      for (const id of expected) assert.ok(store.blockInfo(id)?.pinnedBy.includes(name), `${name}: ${id}`)
    }
    const split = await expectedIds(byName.get('bundle/split')!.url!, false)
    assert.ok(split.size > 3, 'the split case has sub-bundles and parts')
    await store.close()
  })
})
