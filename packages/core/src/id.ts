import { createHash } from 'node:crypto'
import { excerpt, InvalidIdError } from './errors.ts'

/** A block address: 64 lowercase hex digits of a SHA-256 digest. */
export type BlockId = string

const ID_PATTERN = /^[0-9a-f]{64}$/

export function isBlockId(value: unknown): value is BlockId {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

/** Returns `value` as a block id, or throws {@link InvalidIdError}. Uppercase hex is refused: ids are canonical. */
export function parseBlockId(value: string): BlockId {
  if (!isBlockId(value)) {
    throw new InvalidIdError(`not a block id (64 lowercase hex digits): ${JSON.stringify(excerpt(value))}`)
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
