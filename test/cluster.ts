/**
 * Real `libernet start` processes for integration tests and benchmarks: each
 * node is the CLI binary run by the workspace's Node 24, in its own temporary
 * data directory, and every other command reaches it the way a user's would,
 * through `libernet --data D ...` (which goes through the running node's `api`
 * file).
 *
 * Nodes log with `DEBUG=libernet:*` into `<node dir>/node.log` (stdout and
 * stderr of every start, appended), so a failing test can show what the node
 * saw. Every process is stopped or killed by its pid in `close()`. Set
 * `LIBERNET_KEEP_CLUSTER=1` to keep the directories for a post-mortem.
 *
 * Every wait is bounded in time and in number of attempts.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

// The CLI's JSON is the node's own status shape.
export type { NodeStatus, PeerStatus, ReplicationHealth, SnapshotStatus } from '@libernet/node'

import type { NodeStatus, PeerStatus } from '@libernet/node'

export const ROOT = resolve(import.meta.dirname, '..')
export const BIN = join(ROOT, 'packages/node/bin/libernet.mjs')

/** The `api` file a running node leaves in its data directory. */
export interface ApiInfo {
  url: string
  peerId: string
  addresses: string[]
  pid: number
  gateway: string | null
}

export interface CliResult {
  args: string[]
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/** Starts a process; tests inside network namespaces pass one that prefixes `ip netns exec`. */
export type Launcher = (command: string, args: string[], options: SpawnOptions) => ChildProcess

const directLauncher: Launcher = (command, args, options) => spawn(command, args, options)

export interface NodeOptions {
  /** Multiaddrs to listen on; default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  bootstrap?: string[]
  /** mDNS stays off unless asked for: outside a namespace it would multicast on the host's interfaces. */
  mdns?: boolean
  replicas?: number
  quota?: string
  /** `false` (the default) passes `--no-gateway`; a number passes `--gateway-port`. */
  gateway?: boolean | number
  /** Further arguments for `start`. */
  args?: string[]
  launcher?: Launcher
  env?: NodeJS.ProcessEnv
}

/** Thrown from a poll attempt: stop polling now, nothing will change (e.g. the process died). */
export class PollGiveUpError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PollGiveUpError'
  }
}

export interface PollOptions {
  timeoutMs?: number
  intervalMs?: number
}

/**
 * Calls `attempt` until it returns something other than `undefined`, at most
 * `timeoutMs` and at most `timeoutMs / intervalMs + 1` times. On timeout the
 * error names `what` and the last observation (from `describe`), so the
 * failure says what was seen instead of only "timed out".
 */
export async function poll<T>(
  what: string,
  attempt: () => Promise<T | undefined> | T | undefined,
  options: PollOptions & { describe?: () => string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000
  const intervalMs = options.intervalMs ?? 200
  const deadline = Date.now() + timeoutMs
  const attempts = Math.ceil(timeoutMs / intervalMs) + 1
  let lastError: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await attempt()
      if (value !== undefined) return value
      lastError = undefined
    } catch (err) {
      if (err instanceof PollGiveUpError) throw err
      lastError = err
    }
    if (Date.now() >= deadline) break
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())))
  }
  const seen = options.describe?.() ?? (lastError instanceof Error ? lastError.message : String(lastError ?? ''))
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen === '' ? '' : `; last seen: ${seen}`}`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })))
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export interface StopResult {
  code: number | null
  signal: NodeJS.Signals | null
  /** It exited by itself within the grace period (it was not SIGKILLed). */
  graceful: boolean
  ms: number
}

/** One `libernet start` process on one data directory, startable again after it stops. */
export class LibernetNode {
  readonly name: string
  readonly home: string
  readonly dataDir: string
  readonly logFile: string
  options: NodeOptions
  child: ChildProcess | undefined
  api: ApiInfo | undefined

  constructor(name: string, home: string, options: NodeOptions = {}) {
    this.name = name
    this.home = home
    this.dataDir = join(home, 'data')
    this.logFile = join(home, 'node.log')
    this.options = options
    mkdirSync(home, { recursive: true })
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get peerId(): string {
    if (this.api === undefined) throw new Error(`${this.name} has not started`)
    return this.api.peerId
  }

  /** The first address the node reported, for `--bootstrap` of others. */
  get address(): string {
    const address = this.api?.addresses[0]
    if (address === undefined) throw new Error(`${this.name} reports no address`)
    return address
  }

  startArgs(): string[] {
    const options = this.options
    const args = ['--data', this.dataDir, 'start']
    for (const listen of options.listen ?? ['/ip4/127.0.0.1/tcp/0']) args.push('--listen', listen)
    for (const bootstrap of options.bootstrap ?? []) args.push('--bootstrap', bootstrap)
    if (options.mdns !== true) args.push('--no-mdns')
    if (options.replicas !== undefined) args.push('--replicas', String(options.replicas))
    if (options.quota !== undefined) args.push('--quota', options.quota)
    if (options.gateway === undefined || options.gateway === false) args.push('--no-gateway')
    else if (typeof options.gateway === 'number') args.push('--gateway-port', String(options.gateway))
    args.push(...(options.args ?? []))
    return args
  }

  /** Spawns `libernet start` and waits for its `api` file (written by this very process). */
  async start(timeoutMs = 30_000): Promise<ApiInfo> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`)
    this.api = undefined
    const log = openSync(this.logFile, 'a')
    const launcher = this.options.launcher ?? directLauncher
    let child: ChildProcess
    try {
      child = launcher(process.execPath, [BIN, ...this.startArgs()], {
        env: { ...process.env, LIBERNET_DATA: undefined, DEBUG: 'libernet:*', ...this.options.env },
        stdio: ['ignore', log, log],
      })
    } finally {
      closeSync(log)
    }
    this.child = child
    child.on('error', () => {
      // reported through exitCode/pid checks below
    })
    const apiFile = join(this.dataDir, 'api')
    this.api = await poll(
      `${this.name} to write ${apiFile}`,
      () => {
        if (!this.running) {
          throw new PollGiveUpError(`${this.name} exited (${child.exitCode ?? child.signalCode}) before it was ready`)
        }
        if (!existsSync(apiFile)) return undefined
        let api: ApiInfo
        try {
          api = JSON.parse(readFileSync(apiFile, 'utf8')) as ApiInfo
        } catch {
          return undefined
        }
        // A file left by an earlier, killed process is not this one's.
        return api.pid === child.pid ? api : undefined
      },
      { timeoutMs, intervalMs: 100, describe: () => `running=${this.running}\n${this.logTail()}` },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- ${this.logFile} ---\n${this.logTail()}`)
    })
    return this.api
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<StopResult> {
    const child = this.child
    if (child === undefined || !this.running) {
      return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null, graceful: true, ms: 0 }
    }
    const started = Date.now()
    child.kill('SIGTERM')
    const result = await withTimeout(exited(child), graceMs)
    if (result !== undefined) return { ...result, graceful: true, ms: Date.now() - started }
    child.kill('SIGKILL')
    const killed = await exited(child)
    return { ...killed, graceful: false, ms: Date.now() - started }
  }

  /** SIGKILL: no chance to clean up (the `api` file stays behind). */
  async kill(): Promise<void> {
    const child = this.child
    if (child === undefined || !this.running) return
    child.kill('SIGKILL')
    await exited(child)
  }

  /** Runs `libernet --data D ...args` to completion (through the running node, when there is one). */
  cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    return runCli(['--data', this.dataDir, ...args], { launcher: this.options.launcher, timeoutMs })
  }

  /** Runs `libernet --data D --json ...args`, requires exit 0 and returns its JSON. */
  async json<T>(args: string[], timeoutMs = 60_000): Promise<T> {
    const result = await this.cli(['--json', ...args], timeoutMs)
    return parseJsonResult<T>(result)
  }

  async status(): Promise<NodeStatus> {
    return this.json<NodeStatus>(['status'])
  }

  async peers(): Promise<PeerStatus[]> {
    return (await this.json<{ peers: PeerStatus[] }>(['peers'])).peers
  }

  async providers(id: string): Promise<string[]> {
    return (await this.json<{ providers: string[] }>(['providers', id])).providers
  }

  /** `put FILE`: the URL it prints. */
  async put(file: string): Promise<string> {
    const result = requireSuccess(await this.cli(['put', file]))
    return result.stdout.trim()
  }

  async get(url: string, out: string): Promise<CliResult> {
    return requireSuccess(await this.cli(['get', url, out]))
  }

  async backup(dir: string): Promise<{ url: string } & Record<string, unknown>> {
    return this.json<{ url: string } & Record<string, unknown>>(['backup', dir], 120_000)
  }

  async restore(url: string, dir: string): Promise<CliResult> {
    return requireSuccess(await this.cli(['restore', url, dir], 120_000))
  }

  /** The end of the node's log, for failure messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return '(no log)'
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')
  }
}

export interface RunOptions {
  launcher?: Launcher | undefined
  timeoutMs?: number
}

/** Runs the CLI as a real process; kills it (by pid) if it outlives `timeoutMs`. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const launcher = options.launcher ?? directLauncher
  const timeoutMs = options.timeoutMs ?? 60_000
  const started = Date.now()
  const child = launcher(process.execPath, [BIN, ...args], {
    env: { ...process.env, LIBERNET_DATA: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  )
  let result = await withTimeout(closed, timeoutMs)
  if (result === undefined) {
    child.kill('SIGKILL')
    result = await closed
    stderr += `\n(killed after ${timeoutMs} ms)`
  }
  return { args, ...result, stdout, stderr, ms: Date.now() - started }
}

export function describeResult(result: CliResult): string {
  return `libernet ${result.args.join(' ')} → exit ${result.code ?? result.signal} in ${result.ms} ms\nstdout: ${result.stdout.trim()}\nstderr: ${result.stderr.trim()}`
}

export function requireSuccess(result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(describeResult(result))
  return result
}

export function parseJsonResult<T>(result: CliResult): T {
  requireSuccess(result)
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`not JSON: ${describeResult(result)}`)
  }
}

export interface ClusterOptions extends NodeOptions {
  /** Nodes after the first get `--bootstrap <first node>` unless this is false. */
  bootstrapFromFirst?: boolean
}

/** n nodes on 127.0.0.1 (unless told otherwise), node 1 the bootstrap of the others. */
export class Cluster {
  readonly root: string
  readonly nodes: LibernetNode[] = []
  readonly options: ClusterOptions

  constructor(options: ClusterOptions = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'libernet-cluster-'))
    this.options = options
  }

  static async start(count: number, options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options)
    try {
      const first = cluster.create()
      await first.start()
      const bootstrap = options.bootstrapFromFirst === false ? [] : [first.address]
      const others = Array.from({ length: count - 1 }, () => cluster.create({ bootstrap }))
      await Promise.all(others.map((node) => node.start()))
    } catch (err) {
      await cluster.close()
      throw err
    }
    return cluster
  }

  /** A new node (not started) with the cluster's options, overridden by `options`. */
  create(options: NodeOptions = {}): LibernetNode {
    const name = `node${this.nodes.length + 1}`
    const { bootstrapFromFirst: _ignored, ...defaults } = this.options
    const node = new LibernetNode(name, join(this.root, name), { ...defaults, ...options })
    this.nodes.push(node)
    return node
  }

  node(index: number): LibernetNode {
    const node = this.nodes[index - 1]
    if (node === undefined) throw new Error(`no node ${index}`)
    return node
  }

  /** Last lines of every node's log. */
  logs(lines = 30): string {
    return this.nodes.map((node) => `--- ${node.name} (${node.logFile}) ---\n${node.logTail(lines)}`).join('\n')
  }

  /** Stops every node (SIGTERM, then SIGKILL), then removes the directories. */
  async close(): Promise<void> {
    // stop() ends with SIGKILL by pid when SIGTERM is not enough, and waits for the exit.
    await Promise.all(this.nodes.map((node) => node.stop(5_000)))
    if (process.env.LIBERNET_KEEP_CLUSTER === undefined) rmSync(this.root, { recursive: true, force: true })
  }
}

/** Deterministic incompressible bytes: SHA-256 in counter mode over a seed. */
export function pseudoRandom(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let offset = 0, counter = 0; offset < length; counter++) {
    offset += createHash('sha256').update(`${seed}:${counter}`).digest().copy(out, offset)
  }
  return out
}

/** Relative path → `dir`, `link -> target` or `file <size> <sha256> <x|->`: what a restore must reproduce. */
export function describeTree(root: string): Map<string, string> {
  const entries = new Map<string, string>()
  const visit = (directory: string, prefix: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const absolute = join(directory, name)
      const path = prefix === '' ? name : `${prefix}/${name}`
      const stats = lstatSync(absolute)
      if (stats.isDirectory()) {
        entries.set(path, 'dir')
        visit(absolute, path)
      } else if (stats.isFile()) {
        const sha = createHash('sha256').update(readFileSync(absolute)).digest('hex')
        entries.set(path, `file ${stats.size} ${sha} ${(stats.mode & 0o100) !== 0 ? 'x' : '-'}`)
      } else {
        entries.set(path, 'other')
      }
    }
  }
  visit(root, '')
  return entries
}

/**
 * Writes a nested folder of about `totalBytes`: a few directory levels, an
 * empty file, a one-byte file, a compressible text file, an executable and
 * incompressible files of mixed sizes (some above one block). Deterministic
 * for a given seed. Returns the number of bytes written.
 */
export function writeDataset(root: string, totalBytes: number, seed = 'dataset'): number {
  const write = (path: string, bytes: Buffer, mode = 0o644): number => {
    const absolute = join(root, path)
    mkdirSync(resolve(absolute, '..'), { recursive: true })
    writeFileSync(absolute, bytes, { mode })
    return bytes.byteLength
  }
  let written = 0
  written += write('empty.txt', Buffer.alloc(0))
  written += write('one.bin', Buffer.from([0x2a]))
  written += write('docs/readme.md', Buffer.from(`# ${seed}\n${'compressible line of text\n'.repeat(4_000)}`))
  written += write('bin/tool.sh', Buffer.from('#!/bin/sh\necho libernet\n'), 0o755)
  mkdirSync(join(root, 'empty-dir'), { recursive: true })
  const sizes = [3_000, 70_000, 1_100_000, 250_000, 2_300_000, 17, 600_000]
  for (let index = 0; written < totalBytes; index++) {
    const size = Math.min(sizes[index % sizes.length] ?? 1, totalBytes - written)
    const path = `data/level-${index % 3}/sub-${index % 2}/file-${index}.bin`
    written += write(path, pseudoRandom(`${seed}:${index}`, size))
  }
  return written
}
