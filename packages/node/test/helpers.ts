import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'

export const BIN = new URL('../bin/libernet.mjs', import.meta.url).pathname

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv
  uid?: number
  gid?: number
  cwd?: string
}

/** Spawns the real CLI (the workspace's Node 24 running the TypeScript entry point). */
export function startCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LIBERNET_DATA: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  })
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  )
  return { code, signal, stdout, stderr }
}

/** Runs the CLI with `--json` and parses its one JSON line. */
export async function runJson<T = Record<string, unknown>>(
  args: string[],
  options: CliOptions = {},
): Promise<{ code: number | null; json: T; stderr: string }> {
  const result = await runCli(['--json', ...args], options)
  let json: T
  try {
    json = JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`)
  }
  return { code: result.code, json, stderr: result.stderr }
}

export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `libernet-${prefix}-`))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface TreeEntry {
  type: 'file' | 'link' | 'directory'
  size?: number
  sha256?: string
  executable?: boolean
  readonly?: boolean
  /** Whole milliseconds: what a restore must reproduce. */
  mtimeMs?: number
  link?: string
}

/** Everything a backup must preserve, per relative path. */
export function describeTree(root: string): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>()
  const visit = (directory: string, prefix: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const absolute = join(directory, name)
      const path = prefix === '' ? name : `${prefix}/${name}`
      const stats = lstatSync(absolute)
      if (stats.isSymbolicLink()) {
        entries.set(path, { type: 'link', link: readlinkSync(absolute) })
      } else if (stats.isDirectory()) {
        entries.set(path, { type: 'directory' })
        visit(absolute, path)
      } else {
        const bytes = readFileSync(absolute)
        entries.set(path, {
          type: 'file',
          size: bytes.byteLength,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          executable: (stats.mode & 0o100) !== 0,
          readonly: (stats.mode & 0o200) === 0,
          mtimeMs: Math.round(stats.mtimeMs),
        })
      }
    }
  }
  visit(root, '')
  return entries
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}

/** Runs the CLI's `main` in this process (for fast checks of usage and exit codes). */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../src/cli.ts')
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text
  })
  const code = await main(args, { stdout, stderr })
  return { code, stdout: out, stderr: err }
}
