/**
 * Private networks made of Linux network namespaces, for the tests and
 * benchmarks that need multicast (mDNS multicasts on every interface, so it
 * may only ever run on links that exist nowhere but inside namespaces the test
 * created itself).
 *
 * Two namespaces are joined by one veth pair; three or more hang off a bridge
 * in an extra "hub" namespace. Every namespace gets `lo` up, one interface
 * with an address in 10.231.0.0/24 (that subnet exists only inside these
 * namespaces) and a route for 224.0.0.0/4 on that interface: without it the
 * kernel has no route for multicast and mDNS fails silently.
 *
 * `close()` removes every namespace (which destroys the veth ends and the
 * bridge with them) after killing, by pid, whatever still runs inside. It is
 * also called when creation fails halfway. Namespaces left behind by a test
 * process that died are removed the next time a network is created.
 *
 * Needs root and iproute2; without them `createNetwork` throws a
 * `NamespaceUnavailableError` saying why, so a test fails rather than passing
 * without having run.
 *
 * The harness was proven with two bare libp2p nodes running @libp2p/mdns, one
 * in each namespace, which found each other within about 100 ms; test/mdns.test.ts
 * now does the same with two `libernet start` nodes.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process'

const PREFIX = 'lbnet'
const SUBNET = '10.231.0'

export class NamespaceUnavailableError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`network namespaces unavailable: ${reason}`, options)
    this.name = 'NamespaceUnavailableError'
  }
}

export interface Namespace {
  /** Name for `ip netns exec`. */
  name: string
  /** The namespace's address on the private link (no prefix length). */
  address: string
  /** Name of the link's interface inside the namespace. */
  device: string
}

export interface NamespaceNetwork {
  namespaces: Namespace[]
  /** Spawns `command args` inside `namespace` (the child's pid is the command's own: `ip netns exec` execs it). */
  spawn(namespace: Namespace, command: string, args: string[], options?: SpawnOptions): ChildProcess
  /** Runs `command args` inside `namespace` to completion and returns its stdout. */
  run(namespace: Namespace, command: string, args: string[]): string
  /** Kills what still runs inside and removes every namespace. Idempotent. */
  close(): void
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function ipFailure(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'stderr' in err) {
    const stderr = String((err as { stderr: unknown }).stderr).trim()
    if (stderr !== '') return stderr
  }
  return err instanceof Error ? err.message : String(err)
}

function listNamespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function killInside(name: string): void {
  let pids: number[] = []
  try {
    pids = ip(['netns', 'pids', name])
      .split('\n')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0)
  } catch {
    return
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

function removeNamespace(name: string): void {
  killInside(name)
  try {
    ip(['netns', 'del', name])
  } catch {
    // already gone
  }
}

/** Removes namespaces of this harness whose creating process no longer exists. */
function removeStale(): void {
  for (const name of listNamespaces()) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (match === null) continue
    const owner = Number(match[1])
    if (owner !== process.pid && !isAlive(owner)) removeNamespace(name)
  }
}

function checkAvailable(): void {
  if (process.platform !== 'linux') throw new NamespaceUnavailableError(`needs Linux, this is ${process.platform}`)
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new NamespaceUnavailableError(`needs root (uid ${process.getuid()})`)
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch (err) {
    throw new NamespaceUnavailableError('the `ip` command of iproute2 is not installed', { cause: err })
  }
}

let sequence = 0

/**
 * Creates `count` (≥ 2) namespaces on one private link, addressed
 * 10.231.0.1, 10.231.0.2, … in order.
 */
export function createNetwork(count = 2): NamespaceNetwork {
  if (!Number.isInteger(count) || count < 2 || count > 200) throw new RangeError(`count must be 2..200, got ${count}`)
  checkAvailable()
  try {
    removeStale()
  } catch (err) {
    throw new NamespaceUnavailableError(`cannot list namespaces: ${ipFailure(err)}`, { cause: err })
  }

  const id = `${PREFIX}${process.pid}-${sequence++}`
  const created: string[] = []
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (const name of created.reverse()) removeNamespace(name)
  }
  const addNamespace = (name: string): void => {
    try {
      ip(['netns', 'add', name])
    } catch (err) {
      throw new NamespaceUnavailableError(`ip netns add ${name}: ${ipFailure(err)}`, { cause: err })
    }
    created.push(name)
    ip(['-n', name, 'link', 'set', 'lo', 'up'])
  }

  const namespaces: Namespace[] = []
  try {
    for (let index = 0; index < count; index++) {
      const name = `${id}-${index + 1}`
      addNamespace(name)
      namespaces.push({ name, address: `${SUBNET}.${index + 1}`, device: 'lbveth0' })
    }
    if (count === 2) {
      const [a, b] = namespaces as [Namespace, Namespace]
      // Created straight inside the namespaces: nothing ever appears in the caller's namespace.
      ip(['link', 'add', 'name', a.device, 'netns', a.name, 'type', 'veth', 'peer', 'name', b.device, 'netns', b.name])
    } else {
      const hub = `${id}-hub`
      addNamespace(hub)
      ip(['-n', hub, 'link', 'add', 'name', 'lbbr0', 'type', 'bridge'])
      ip(['-n', hub, 'link', 'set', 'lbbr0', 'up'])
      namespaces.forEach((namespace, index) => {
        const port = `lbport${index + 1}`
        ip([
          'link',
          'add',
          'name',
          namespace.device,
          'netns',
          namespace.name,
          'type',
          'veth',
          'peer',
          'name',
          port,
          'netns',
          hub,
        ])
        ip(['-n', hub, 'link', 'set', port, 'master', 'lbbr0'])
        ip(['-n', hub, 'link', 'set', port, 'up'])
      })
    }
    for (const namespace of namespaces) {
      ip(['-n', namespace.name, 'addr', 'add', `${namespace.address}/24`, 'dev', namespace.device])
      ip(['-n', namespace.name, 'link', 'set', namespace.device, 'multicast', 'on', 'up'])
      ip(['-n', namespace.name, 'route', 'add', '224.0.0.0/4', 'dev', namespace.device])
    }
  } catch (err) {
    close()
    if (err instanceof NamespaceUnavailableError) throw err
    throw new NamespaceUnavailableError(`setting up the link failed: ${ipFailure(err)}`, { cause: err })
  }

  return {
    namespaces,
    spawn: (namespace, command, args, options = {}) =>
      spawn('ip', ['netns', 'exec', namespace.name, command, ...args], options),
    run: (namespace, command, args) =>
      execFileSync('ip', ['netns', 'exec', namespace.name, command, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    close,
  }
}
