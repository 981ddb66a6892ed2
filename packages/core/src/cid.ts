/**
 * Block ids as CIDs: the key in the blockstore, the DHT and on the wire. Kept
 * apart from id.ts so that code handling only hex ids (the codec, the worker
 * threads) does not load multiformats.
 */
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { excerpt, InvalidIdError } from './errors.ts'
import { type BlockId, bytesToId, idToBytes } from './id.ts'

/** Multicodec code of raw binary content. */
export const RAW_CODEC = 0x55
/** Multihash code of sha2-256. */
export const SHA2_256_CODE = 0x12

/** The CIDv1 (codec raw, multihash sha2-256) naming the same digest: the key in the blockstore, the DHT and on the wire. */
export function idToCid(id: BlockId): CID {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, idToBytes(id)))
}

/** The block id inside a CID; anything but a raw sha2-256 CIDv1 is an {@link InvalidIdError}. */
export function cidToId(cid: CID): BlockId {
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256_CODE) {
    throw new InvalidIdError(`not a raw sha2-256 CIDv1: ${cid.toString()}`)
  }
  return bytesToId(cid.multihash.digest)
}

/** Parses a CID string (any multibase) and returns its block id. */
export function parseCidString(text: string): BlockId {
  let cid: CID
  try {
    cid = CID.parse(text)
  } catch (err) {
    throw new InvalidIdError(`not a CID: ${JSON.stringify(excerpt(text))}`, { cause: err })
  }
  return cidToId(cid)
}
