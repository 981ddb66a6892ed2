import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { InvalidIdError } from './errors.ts'

/** A block address: 64 lowercase hex digits of a SHA-256 digest. */
export type BlockId = string

/** Multicodec code of raw binary content. */
export const RAW_CODEC = 0x55
/** Multihash code of sha2-256. */
export const SHA2_256_CODE = 0x12

const ID_PATTERN = /^[0-9a-f]{64}$/

export function isBlockId(value: unknown): value is BlockId {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

/** Returns `value` as a block id, or throws {@link InvalidIdError}. Uppercase hex is refused: ids are canonical. */
export function parseBlockId(value: string): BlockId {
  if (!isBlockId(value)) {
    throw new InvalidIdError(`not a block id (64 lowercase hex digits): ${JSON.stringify(truncate(value))}`)
  }
  return value
}

export function sha256(bytes: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(bytes).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

export function sha256Hex(bytes: Uint8Array): BlockId {
  return createHash('sha256').update(bytes).digest('hex')
}

export function idToBytes(id: BlockId): Uint8Array {
  return Uint8Array.from(Buffer.from(parseBlockId(id), 'hex'))
}

export function bytesToId(digest: Uint8Array): BlockId {
  if (digest.byteLength !== 32) {
    throw new InvalidIdError(`a SHA-256 digest has 32 bytes, not ${digest.byteLength}`)
  }
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex')
}

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
    throw new InvalidIdError(`not a CID: ${JSON.stringify(truncate(text))}`, { cause: err })
  }
  return cidToId(cid)
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value
}
