import type { BigIntStats } from 'node:fs'
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { throwIfAborted } from '@libernet/core'
import { compareCodePoints } from '../util/code-points.ts'
import type { ExcludeMatcher } from './exclude.ts'

/**
 * What the walker finds, in code point order of `path` (the order of bundle
 * keys). `path` is relative to the walked folder with `/` separators.
 */
export type WalkEntry =
  /** A regular file; `stats` from lstat. */
  | { kind: 'file'; path: string; absolute: string; stats: BigIntStats }
  /**
   * A symlink that is not to a directory. `stats` are the target's when it
   * is a regular file (its bytes are stored too, as the original does),
   * absent when it dangles or points at something else; `linkStats` are the
   * link's own.
   */
  | { kind: 'link'; path: string; absolute: string; target: string; linkStats: BigIntStats; stats?: BigIntStats }
  /** A symlink to a directory: recorded under `directories`, not followed. */
  | { kind: 'directory-link'; path: string; target: string }
  /** A directory with no file below it (after excludes); comes after its own subtree. */
  | { kind: 'empty-directory'; path: string }
  /** Sockets, FIFOs, devices: not backed up. */
  | { kind: 'special'; path: string }
  /** Something that could not be read (a directory, a stat); the walk goes on. */
  | { kind: 'error'; path: string; absolute: string; error: Error }

export interface WalkOptions {
  exclude?: ExcludeMatcher
  /** Absolute paths never to enter or record (the data directory, when it lies inside the folder). */
  skipAbsolute?: readonly string[]
  signal?: AbortSignal
}

interface Child {
  name: string
  /** The name as sorted: directories carry a trailing `/`, so the order equals that of full paths. */
  key: string
  directory: boolean
}

interface Frame {
  path: string
  absolute: string
  children: Child[]
  next: number
  /** A file (or file link) was found at or below this directory. */
  hasFile: boolean
}

/**
 * Metadata calls are synchronous on purpose: on a tree of small files each
 * one takes microseconds, while a round trip through libuv's thread pool
 * takes tens of them and leaves the pipeline idle in between.
 *
 * Walks `root` depth first, yielding entries in code point order of their
 * relative paths, with memory bounded by the depth times the widest
 * directory (never the whole tree). Symlinks are not followed into
 * directories.
 */
export async function* walk(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry, void, undefined> {
  const skip = new Set(options.skipAbsolute ?? [])
  const exclude = options.exclude ?? (() => false)
  const stack: Frame[] = []

  const rootChildren = readChildren(root)
  stack.push({ path: '', absolute: root, children: rootChildren, next: 0, hasFile: false })

  while (stack.length > 0) {
    throwIfAborted(options.signal)
    const frame = stack.at(-1)!
    const child = frame.children[frame.next++]
    if (child === undefined) {
      stack.pop()
      if (frame.path !== '' && !frame.hasFile) yield { kind: 'empty-directory', path: frame.path }
      if (frame.hasFile && stack.length > 0) stack.at(-1)!.hasFile = true
      continue
    }
    const path = frame.path === '' ? child.name : `${frame.path}/${child.name}`
    const absolute = join(frame.absolute, child.name)
    if (skip.has(absolute) || exclude(path, child.directory)) continue

    if (child.directory) {
      let children: Child[]
      try {
        children = readChildren(absolute)
      } catch (err) {
        yield { kind: 'error', path, absolute, error: asError(err) }
        // Recorded as a file would be: the folder is not empty, we just could not read it.
        frame.hasFile = true
        continue
      }
      stack.push({ path, absolute, children, next: 0, hasFile: false })
      continue
    }

    let stats: BigIntStats
    try {
      stats = lstatSync(absolute, { bigint: true })
    } catch (err) {
      yield { kind: 'error', path, absolute, error: asError(err) }
      continue
    }
    if (stats.isFile()) {
      frame.hasFile = true
      yield { kind: 'file', path, absolute, stats }
    } else if (stats.isSymbolicLink()) {
      let target: string
      try {
        target = readlinkSync(absolute)
      } catch (err) {
        yield { kind: 'error', path, absolute, error: asError(err) }
        continue
      }
      let targetStats: BigIntStats | undefined
      try {
        targetStats = statSync(absolute, { bigint: true })
      } catch {
        // A dangling link is still recorded, with no content.
      }
      if (targetStats?.isDirectory() === true) {
        yield { kind: 'directory-link', path, target }
      } else {
        frame.hasFile = true
        const entry: WalkEntry = { kind: 'link', path, absolute, target, linkStats: stats }
        if (targetStats?.isFile() === true) entry.stats = targetStats
        yield entry
      }
    } else if (stats.isDirectory()) {
    } else {
      yield { kind: 'special', path }
    }
  }
}

function readChildren(directory: string): Child[] {
  const children: Child[] = []
  for (const dirent of readdirSync(directory, { withFileTypes: true })) {
    const directoryEntry = dirent.isDirectory()
    children.push({
      name: dirent.name,
      key: directoryEntry ? `${dirent.name}/` : dirent.name,
      directory: directoryEntry,
    })
  }
  return children.sort((a, b) => compareCodePoints(a.key, b.key))
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
