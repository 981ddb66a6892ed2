import { createHash } from 'node:crypto'
import { type BlockId, isBlockId } from '../id.ts'

export function digest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

export function digestEquals(bytes: Uint8Array, expected: Uint8Array): boolean {
  return digest(bytes).equals(expected)
}

export function digestHexEquals(bytes: Uint8Array, id: BlockId): boolean {
  return isBlockId(id) && createHash('sha256').update(bytes).digest('hex') === id
}
