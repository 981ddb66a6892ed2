import type { BlockId } from '@libernet/core'
import { isValidStoredBlock } from '@libernet/core'

/**
 * Decides whether `bytes` may be stored or served as block `id`. A node can
 * swap in one that runs on worker threads; it must be at least as strict.
 */
export type BlockVerifier = (id: BlockId, bytes: Uint8Array) => boolean | Promise<boolean>

/** Core's stored-block check: sha256(stored) == id, or for a plain block stored compressed, sha256(inflate(stored)) == id. */
export const verifyBlock: BlockVerifier = isValidStoredBlock
