import { join, sep } from 'node:path'
import type { BlockId } from '@libernet/core'

/** blockstore-fs's `NextToLast` default: a block's directory is the last two characters of its name. */
const SHARD_CHARS = 2
/** blockstore-fs's default extension of a block's file name. */
const EXTENSION = '.data'

/**
 * Where everything lives under the store's directory:
 *
 *   blocks/        blockstore-fs layout (NextToLast sharding, base32 multihash, `.data`),
 *                  so a plain `FsBlockstore` opened on this folder reads the same blocks
 *   tmp/           blocks being written; emptied on open
 *   quarantine/    files that failed verification, kept for inspection
 *   pins.json      the pinned backup roots, the durable source the pin index is rebuilt from
 *   meta.sqlite    per-block metadata (size, pins, request heat, replicas); rebuildable
 *   LOCK           pid of the process that has the store open
 */
export class StoreLayout {
  readonly root: string
  readonly blocks: string
  readonly tmp: string
  readonly quarantine: string
  readonly pinsFile: string
  readonly database: string
  readonly lockFile: string

  constructor(root: string) {
    this.root = root
    this.blocks = join(root, 'blocks')
    this.tmp = join(root, 'tmp')
    this.quarantine = join(root, 'quarantine')
    this.pinsFile = join(root, 'pins.json')
    this.database = join(root, 'meta.sqlite')
    this.lockFile = join(root, 'LOCK')
  }

  /**
   * The shard directory and full path of a block's file: what `NextToLast`
   * gives for the block's CID, computed from the hex id directly (a restore
   * or backup locates every block, and building a CID to base32-encode its
   * multihash was a few microseconds each).
   */
  locate(id: BlockId): { dir: string; file: string } {
    const name = multihashBase32(id)
    const shard = `${this.blocks}${sep}${name.slice(-SHARD_CHARS)}`
    return { dir: shard, file: `${shard}${sep}${name}${EXTENSION}` }
  }
}

const BASE32_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
/** Multihash header of a SHA-256 digest: code 0x12, length 32. */
const SHA256_MULTIHASH_HEADER = [0x12, 0x20]

/**
 * The multibase base32upper form (`B` + RFC 4648 base32, no padding) of a
 * SHA-256 multihash given as its 64 hex digits: the file name blockstore-fs
 * gives a block.
 */
export function multihashBase32(id: BlockId): string {
  let out = 'B'
  let buffer = 0
  let bits = 0
  for (let index = -2; index < 32; index++) {
    const byte =
      index < 0
        ? SHA256_MULTIHASH_HEADER[index + 2]!
        : (hexDigit(id.charCodeAt(2 * index)) << 4) | hexDigit(id.charCodeAt(2 * index + 1))
    buffer = ((buffer << 8) | byte) & 0x1fff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32_UPPER[(buffer >>> bits) & 31]
    }
  }
  if (bits > 0) out += BASE32_UPPER[(buffer << (5 - bits)) & 31]
  return out
}

/** The value of a lowercase hex digit's character code (ids are checked to be lowercase hex before this). */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : code - 0x57
}
