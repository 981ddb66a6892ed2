import { join } from 'node:path'
import { type BlockId, idToCid } from '@libernet/core'
import { NextToLast } from 'blockstore-fs/sharding'

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
  readonly sharding = new NextToLast()

  constructor(root: string) {
    this.root = root
    this.blocks = join(root, 'blocks')
    this.tmp = join(root, 'tmp')
    this.quarantine = join(root, 'quarantine')
    this.pinsFile = join(root, 'pins.json')
    this.database = join(root, 'meta.sqlite')
    this.lockFile = join(root, 'LOCK')
  }

  /** The shard directory and full path of a block's file. */
  locate(id: BlockId): { dir: string; file: string } {
    const { dir, file } = this.sharding.encode(idToCid(id))
    const shard = join(this.blocks, dir)
    return { dir: shard, file: join(shard, file) }
  }

  get extension(): string {
    return this.sharding.extension
  }
}
