import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DataDirectoryError } from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'

/** The node's private key, protobuf-encoded as libp2p writes it. */
export function identityFile(dataDir: string): string {
  return join(dataDir, 'identity.key')
}

/**
 * The node's persistent identity: the Ed25519 key in the data directory,
 * created on first start. A node keeps its peer id across restarts so peers
 * that hold its replicas still recognise it.
 */
export async function loadIdentity(dataDir: string): Promise<PrivateKey> {
  const path = identityFile(dataDir)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const key = await generateKeyPair('Ed25519')
    await writeFileAtomic(path, privateKeyToProtobuf(key), 0o600)
    return key
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new DataDirectoryError(`${path} is not a libp2p private key (${(err as Error).message})`)
  }
}
