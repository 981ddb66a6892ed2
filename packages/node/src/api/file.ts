import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { isProcessAlive } from '../util/process.ts'

/**
 * What a running node leaves in its data directory so that other commands
 * on the same directory go through it (as Kubo's `api` file does). Only the
 * owner can read it: the token authorises the loopback API.
 */
export interface ApiEndpoint {
  url: string
  token: string
  peerId: string
  addresses: string[]
  pid: number
  gateway: string | null
}

export function apiFile(dataDir: string): string {
  return join(dataDir, 'api')
}

export function newApiToken(): string {
  return randomBytes(24).toString('base64url')
}

export async function writeApiFile(dataDir: string, endpoint: ApiEndpoint): Promise<void> {
  await writeFileAtomic(apiFile(dataDir), `${JSON.stringify(endpoint, null, 2)}\n`, 0o600)
}

export async function removeApiFile(dataDir: string): Promise<void> {
  await rm(apiFile(dataDir), { force: true })
}

/** The endpoint of the node running on `dataDir`, if its file is there and its process is alive. */
export async function readApiFile(dataDir: string): Promise<ApiEndpoint | undefined> {
  let endpoint: ApiEndpoint
  try {
    endpoint = JSON.parse(await readFile(apiFile(dataDir), 'utf8')) as ApiEndpoint
  } catch {
    return undefined
  }
  if (typeof endpoint?.url !== 'string' || typeof endpoint.token !== 'string' || !isLivePid(endpoint.pid)) {
    return undefined
  }
  return endpoint
}

function isLivePid(pid: unknown): boolean {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)
}
