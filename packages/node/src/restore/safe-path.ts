import { lstat, realpath } from 'node:fs/promises'
import { isAbsolute, join, posix, relative, sep } from 'node:path'
import { assertSafePath, UnsafePathError } from '@libernet/core'
import { RestoreConflictError } from '../errors.ts'

/**
 * Keeps a restore inside its target directory. The bundle's own paths are
 * checked by core (no `..`, absolute paths, NUL, duplicates); this module
 * checks them against the disk and checks where symlinks would point.
 */

/**
 * Refuses a symlink target that is absolute or leaves the restore root when
 * resolved from the link's directory. `..` is only accepted as a leading run
 * (`../../x`): after a link component, `..` climbs from wherever that link
 * points, which a lexical check cannot see.
 */
export function assertLinkInside(path: string, target: string): void {
  assertLinkTarget(path, target)
  if (target.startsWith('/') || isAbsolute(target) || target.includes('\\')) {
    throw new UnsafePathError(
      `link ${show(path)} points at the absolute path ${show(target)}, outside the restore (--external-links recreates such links)`,
    )
  }
  const segments = target.split('/')
  let seenName = false
  for (const segment of segments) {
    if (segment === '..') {
      if (seenName) {
        throw new UnsafePathError(
          `link ${show(path)} -> ${show(target)} has ".." after a name (--external-links recreates such links)`,
        )
      }
    } else if (segment !== '' && segment !== '.') {
      seenName = true
    }
  }
  const resolved = posix.normalize(posix.join(posix.dirname(path), target))
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new UnsafePathError(
      `link ${show(path)} -> ${show(target)} points outside the restore (--external-links recreates such links)`,
    )
  }
}

/** The least any link target must be: a non-empty string without NUL. */
export function assertLinkTarget(path: string, target: string): void {
  if (target === '' || target.includes('\0')) throw new UnsafePathError(`link ${show(path)} has an empty or NUL target`)
}

/**
 * The restore root, resolved once, and a memo of the directories below it
 * already checked on disk.
 */
export class RestoreRoot {
  readonly root: string
  readonly #checked = new Map<string, 'directory' | 'missing'>()
  /** Directories found missing: whatever is below them, the restore put there. Kept by {@link forget}. */
  readonly #absent = new Set<string>()

  private constructor(root: string) {
    this.root = root
  }

  /** `directory` must exist (create it first); symlinks in its own path are resolved once here. */
  static async open(directory: string): Promise<RestoreRoot> {
    return new RestoreRoot(await realpath(directory))
  }

  /** The absolute path of a bundle path, after checking it is a safe relative path. */
  resolve(path: string): string {
    assertSafePath(path)
    return join(this.root, ...path.split('/'))
  }

  /**
   * Checks every existing parent directory of `path` on disk: a symlink that
   * leads outside the root is an {@link UnsafePathError}, a file where a
   * directory must go is a {@link RestoreConflictError}.
   */
  async checkParents(path: string): Promise<void> {
    assertSafePath(path)
    const segments = path.split('/')
    let parent = ''
    for (let i = 0; i < segments.length - 1; i++) {
      parent = parent === '' ? segments[i]! : `${parent}/${segments[i]}`
      const known = this.#checked.get(parent)
      if (known === 'missing') return
      if (known === 'directory') continue
      const state = await this.#checkDirectory(parent)
      this.#checked.set(parent, state)
      if (state === 'missing') {
        this.#absent.add(parent)
        return
      }
    }
  }

  /**
   * Whether `path` lies below a directory that {@link checkParents} found
   * missing: nothing can be there yet but what this restore wrote (a bundle
   * names each path once), so there is nothing on disk to compare with.
   */
  inNewDirectory(path: string): boolean {
    if (this.#absent.size === 0) return false
    let end = path.indexOf('/')
    while (end !== -1) {
      if (this.#absent.has(path.slice(0, end))) return true
      end = path.indexOf('/', end + 1)
    }
    return false
  }

  /** Forgets what was learnt about the disk (after creating directories, say). */
  forget(): void {
    this.#checked.clear()
  }

  /** Whether an absolute path lies inside the root (or is the root). */
  contains(absolute: string): boolean {
    const rel = relative(this.root, absolute)
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
  }

  async #checkDirectory(path: string): Promise<'directory' | 'missing'> {
    const absolute = join(this.root, ...path.split('/'))
    let stats: Awaited<ReturnType<typeof lstat>>
    try {
      stats = await lstat(absolute)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
      throw err
    }
    if (stats.isDirectory()) return 'directory'
    if (stats.isSymbolicLink()) {
      let resolved: string
      try {
        resolved = await realpath(absolute)
      } catch {
        throw new UnsafePathError(
          `${show(path)} in the restore target is a dangling symlink; refusing to write through it`,
        )
      }
      if (!this.contains(resolved)) {
        throw new UnsafePathError(
          `${show(path)} in the restore target is a symlink to ${resolved}, outside the restore`,
        )
      }
      const target = await lstat(resolved)
      if (target.isDirectory()) return 'directory'
    }
    throw new RestoreConflictError(`${show(path)} exists in the restore target and is not a directory`)
  }
}

function show(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text)
}
