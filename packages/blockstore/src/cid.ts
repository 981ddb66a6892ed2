import { type BlockId, bytesToId, InvalidIdError, SHA2_256_CODE } from '@libernet/core'
import type { CID } from 'multiformats/cid'

/**
 * The block id behind any CID whose multihash is sha2-256, whatever its
 * version or codec: the store is keyed by multihash (as blockstore-fs is), and
 * a dag-pb or dag-cbor block is verified by the same stored-bytes hash as a raw one.
 */
export function idOfCid(cid: CID): BlockId {
  if (cid?.multihash?.code !== SHA2_256_CODE) {
    throw new InvalidIdError(`only sha2-256 CIDs can be stored: ${String(cid)}`)
  }
  return bytesToId(cid.multihash.digest)
}
