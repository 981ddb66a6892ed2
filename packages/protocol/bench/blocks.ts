import { createCipheriv, createHash } from 'node:crypto'
import type { BlockId } from '@libernet/core'
import { sha256Hex } from '@libernet/core'

/** `count` incompressible blocks of `size` bytes, the same for the same seed (AES-CTR keystream). */
export function makeBlocks(count: number, size: number, seed: string): Array<{ id: BlockId; bytes: Uint8Array }> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(size)
  const blocks: Array<{ id: BlockId; bytes: Uint8Array }> = []
  for (let at = 0; at < count; at++) {
    const bytes = new Uint8Array(cipher.update(zeros))
    blocks.push({ id: sha256Hex(bytes), bytes })
  }
  return blocks
}

/** The child tells its parent where it listens with one line of JSON on stdout. */
export interface ServerReady {
  ready: true
  addresses: string[]
  ids: BlockId[]
}

export const RAW_PROTOCOL = '/libernet-bench/raw/1.0.0'
