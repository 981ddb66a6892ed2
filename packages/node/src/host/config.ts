import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DataDirectoryError, InvalidArgumentError } from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'

/** How a node runs. Stored in `config.json` in the data directory; command-line flags override it for one run. */
export interface NodeConfig {
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Peers to connect to at start (multiaddrs with /p2p/ ids). */
  bootstrap: string[]
  /** Find peers on the LAN by multicast DNS. */
  mdns: boolean
  /** Bytes kept for others; `null` for no bound. */
  quota: number | null
  /** Replicas wanted for each of the owner's blocks. */
  replicas: number
  /** HTTP gateway address, or `null` for none. */
  gateway: { host: string; port: number } | null
  /** Seconds between replication repair passes. */
  repairInterval: number
  /** Seconds a replica holder may stay unreachable before its copies are made elsewhere. */
  holderGrace: number
  /** Seconds to wait for the network to supply a missing block. */
  fetchTimeout: number
}

export const DEFAULT_CONFIG: NodeConfig = {
  listen: ['/ip4/0.0.0.0/tcp/4042'],
  bootstrap: [],
  mdns: true,
  quota: null,
  replicas: 3,
  gateway: { host: '127.0.0.1', port: 8042 },
  repairInterval: 60,
  holderGrace: 600,
  fetchTimeout: 30,
}

export function configFile(dataDir: string): string {
  return join(dataDir, 'config.json')
}

/**
 * The data directory's configuration, created with the defaults on first
 * use. Unknown keys are kept untouched; known keys of the wrong type are an
 * error rather than silently ignored.
 */
export async function loadConfig(dataDir: string): Promise<NodeConfig> {
  const path = configFile(dataDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await writeFileAtomic(path, `${JSON.stringify(DEFAULT_CONFIG, null, 2)}\n`)
    return structuredClone(DEFAULT_CONFIG)
  }
  let stored: unknown
  try {
    stored = JSON.parse(text)
  } catch (err) {
    throw new DataDirectoryError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  try {
    return validateConfig({ ...DEFAULT_CONFIG, ...(stored as object) })
  } catch (err) {
    throw new DataDirectoryError(`${path}: ${(err as Error).message}`)
  }
}

/** Checks every field's type and range. */
export function validateConfig(config: Record<string, unknown>): NodeConfig {
  const strings = (key: string): string[] => {
    const value = config[key]
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new InvalidArgumentError(`${key} must be a list of multiaddr strings`)
    }
    return value
  }
  const positive = (key: string, integer = false): number => {
    const value = config[key]
    if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value))) {
      throw new InvalidArgumentError(`${key} must be a positive ${integer ? 'integer' : 'number'}`)
    }
    return value
  }
  const quota = config.quota
  if (quota !== null && (typeof quota !== 'number' || !Number.isSafeInteger(quota) || quota < 0)) {
    throw new InvalidArgumentError('quota must be a number of bytes or null')
  }
  const gateway = config.gateway as NodeConfig['gateway'] | undefined
  if (
    gateway !== null &&
    (typeof gateway !== 'object' ||
      typeof gateway?.host !== 'string' ||
      !Number.isInteger(gateway.port) ||
      gateway.port < 0 ||
      gateway.port > 65535)
  ) {
    throw new InvalidArgumentError('gateway must be {"host": string, "port": 0..65535} or null')
  }
  if (typeof config.mdns !== 'boolean') throw new InvalidArgumentError('mdns must be true or false')
  return {
    listen: strings('listen'),
    bootstrap: strings('bootstrap'),
    mdns: config.mdns,
    quota: quota as number | null,
    replicas: positive('replicas', true),
    gateway: gateway ?? null,
    repairInterval: positive('repairInterval'),
    holderGrace: positive('holderGrace'),
    fetchTimeout: positive('fetchTimeout'),
  }
}
