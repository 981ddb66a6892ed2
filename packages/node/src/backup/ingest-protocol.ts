import type { BlockFileTarget } from '@libernet/blockstore'
import type { FastCdcParams } from '@libernet/core'

/**
 * Messages between the {@link IngestPool} and its workers. Encoded blocks do
 * not travel in messages: with a local block store each worker writes the
 * block files itself and the main thread records them; otherwise each worker
 * writes blocks into its own ring of shared memory and the main thread
 * stores them from there, so no buffer is allocated on one thread and freed
 * on another (the pattern that makes malloc arenas grow without bound) and
 * nothing is copied twice.
 */
export interface IngestWorkerData {
  /** Where the worker writes block files itself; absent: it uses the ring. */
  blockFiles: BlockFileTarget | undefined
  /** The ring the worker writes encoded blocks into (empty when it writes block files). */
  ring: SharedArrayBuffer
  /** One Int32: ring bytes in use (allocated by the worker, released by the main thread in allocation order). */
  control: SharedArrayBuffer
  params: FastCdcParams
  /** zlib level; undefined: core's default. */
  level: number | undefined
}

export const USED = 0

export type IngestRequest =
  /** Read, chunk and encode these files, in order. */
  | { op: 'files'; task: number; files: Array<{ file: number; path: string; known?: string[] }> }
  /** Encode these bytes as one convergent block (a bundle piece). */
  | { op: 'content'; task: number; file: number; bytes: Uint8Array }

export type IngestEvent =
  /** One encoded block of `file`, in order, at `ring[offset, offset + length)`; `cost` ring bytes to release once stored. */
  | { kind: 'block'; file: number; id: string; key: string; size: number; offset: number; length: number; cost: number }
  /** One encoded block of `file`, in order, whose file the worker wrote; `length` stored bytes. */
  | {
      kind: 'written'
      file: number
      id: string
      key: string
      size: number
      length: number
      crc: number
      newDirectory: boolean
    }
  /** A chunk of `file` whose key is one of its `known` keys: its block is stored already, nothing was encoded. */
  | { kind: 'known'; file: number; key: string; size: number }
  /** `file` was read to the end: all its blocks came before this event. */
  | { kind: 'file'; file: number; size: number; mode: bigint; mtimeNs: bigint; stable: boolean }
  /** `file` could not be read; `code`/`syscall` are set for file system errors. */
  | { kind: 'error'; file: number; name: string; message: string; code?: string; syscall?: string }
  /** Writing a block file failed (a full disk): the backup cannot go on. */
  | { kind: 'store-failed'; name: string; message: string; code?: string }
  /** Every file of `task` has its `file` or `error` event before this one. */
  | { kind: 'done'; task: number }

export interface IngestMessage {
  events: IngestEvent[]
}
