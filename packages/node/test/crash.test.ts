import assert from 'node:assert/strict'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeTree, ensureDir, runJson, scratch, startCli } from './helpers.ts'
import { pseudoRandom } from './tree.ts'

/** Files below `directory`, recursively (0 while it does not exist). */
/** Files under `directory`; with `complete`, only those in place (not a restore's temporary files). */
function countFiles(directory: string, options: { complete?: boolean } = {}): number {
  if (!existsSync(directory)) return 0
  let count = 0
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !(options.complete === true && entry.name.startsWith('.libernet-partial-'))) count++
  }
  return count
}

/** Starts the CLI and kills it with SIGKILL (by pid) once `ready()` holds, or when it ends by itself. */
async function killMidway(args: string[], ready: () => boolean): Promise<boolean> {
  const child = startCli(args)
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  while (!exited && !ready()) await sleep(5)
  if (exited) return false
  process.kill(child.pid!, 'SIGKILL')
  await new Promise((resolve) => child.on('close', resolve))
  return true
}

function hasPartialFiles(directory: string): boolean {
  return readdirSync(directory, { recursive: true }).some((name) => String(name).includes('.libernet-partial-'))
}

describe('kill -9 during backup and restore, then rerun', () => {
  const work = scratch('crash')
  const source = join(work.dir, 'source')
  const data = join(work.dir, 'data')

  before(() => {
    for (let index = 0; index < 12; index++) {
      writeFileSync(join(ensureDir(join(source, 'big')), `file-${index}.bin`), pseudoRandom(`big${index}`, 3 << 20))
    }
    for (let index = 0; index < 300; index++) {
      const directory = ensureDir(join(source, `small/d${index % 10}`))
      writeFileSync(join(directory, `f${index}.txt`), `small file ${index}\n`.repeat(index + 1))
    }
  })
  after(() => work.cleanup())

  it('a backup killed midway is rerun into a complete, restorable snapshot', async () => {
    const blocks = join(data, 'blocks')
    const killed = await killMidway(['--data', data, 'backup', source], () => countFiles(blocks) > 60)
    assert.ok(killed, 'the backup was still running when killed')
    const history = await runJson<{ folders: unknown[] }>(['--data', data, 'snapshots'])
    assert.deepEqual(history.json.folders, [], 'no snapshot was recorded by the killed run')

    const rerun = await runJson<{ url: string; files: number }>(['--data', data, 'backup', source])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.equal(rerun.json.files, 312)
    const check = await runJson<{ ok: boolean }>(['--data', data, 'check'])
    assert.equal(check.code, 0, check.stderr)

    const target = join(work.dir, 'restored-after-backup-crash')
    const restored = await runJson(['--data', data, 'restore', rerun.json.url, target])
    assert.equal(restored.code, 0, restored.stderr)
    assert.deepEqual(describeTree(target), describeTree(source))
  })

  it('a restore killed midway is rerun to a correct tree, with nothing left over', async () => {
    const backup = await runJson<{ url: string }>(['--data', data, 'backup', source])
    assert.equal(backup.code, 0, backup.stderr)
    const target = join(work.dir, 'restored-after-restore-crash')
    const killed = await killMidway(
      ['--data', data, 'restore', backup.json.url, target],
      () => countFiles(target, { complete: true }) > 40,
    )
    assert.ok(killed, 'the restore was still running when killed')
    assert.notDeepEqual(describeTree(target), describeTree(source), 'the killed restore was incomplete')

    const rerun = await runJson<{ written: number; upToDate: number; files: number }>([
      '--data',
      data,
      'restore',
      backup.json.url,
      target,
    ])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.ok(rerun.json.upToDate > 0, 'files restored before the kill are kept')
    assert.deepEqual(describeTree(target), describeTree(source))
    assert.equal(hasPartialFiles(target), false)
  })
})
