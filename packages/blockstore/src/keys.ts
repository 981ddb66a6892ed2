import type { BlockId } from '@libernet/core'

/** A block id as the 32-byte key the metadata is indexed by (memcmp order = leading-bit order). */
export function toKey(id: BlockId): Uint8Array {
  return Buffer.from(id, 'hex')
}

export function toId(key: Uint8Array): BlockId {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')
}
