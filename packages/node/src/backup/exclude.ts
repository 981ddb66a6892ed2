import picomatch from 'picomatch'

/**
 * `--exclude` patterns, as restic and rsync users write them: a pattern
 * without `/` matches a name at any depth (`*.tmp`, `node_modules`); one with
 * `/` matches the path from the top of the backed-up folder (`build/cache`,
 * `src/**\/*.o`); a trailing `/` matches directories only. An excluded
 * directory is not descended into.
 */
export type ExcludeMatcher = (path: string, isDirectory: boolean) => boolean

export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const anyEntry: string[] = []
  const directoriesOnly: string[] = []
  for (const raw of patterns) {
    let pattern = raw.trim()
    if (pattern === '') continue
    if (pattern.startsWith('./')) pattern = pattern.slice(2)
    if (pattern.startsWith('/')) pattern = pattern.slice(1)
    if (pattern.endsWith('/')) directoriesOnly.push(pattern.replace(/\/+$/, ''))
    else anyEntry.push(pattern)
  }
  const options = { dot: true, basename: true }
  const matchAny = anyEntry.length > 0 ? picomatch(anyEntry, options) : undefined
  const matchDirectory = directoriesOnly.length > 0 ? picomatch(directoriesOnly, options) : undefined
  if (matchAny === undefined && matchDirectory === undefined) return () => false
  return (path, isDirectory) => matchAny?.(path) === true || (isDirectory && matchDirectory?.(path) === true)
}
