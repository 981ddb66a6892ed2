import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BlockId, sha256Hex } from '@libernet/core'

export interface TestBlock {
  id: BlockId
  bytes: Uint8Array
}

/** A random (hence incompressible, "encrypted-like") block: id = sha256(bytes). */
export function randomBlock(size = 1024): TestBlock {
  const bytes = new Uint8Array(randomBytes(size))
  return { id: sha256Hex(bytes), bytes }
}

export async function makeTempDir(name: string): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `libernet-blockstore-${name}-`))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}

/** Every regular file below `dir`, as full paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

/** A controllable clock (ms). */
export function manualClock(start = Date.UTC(2025, 0, 1)): { now: () => number; advance(ms: number): void } {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
