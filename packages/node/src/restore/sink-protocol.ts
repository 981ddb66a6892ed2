import type { BlockMode, StoredFile } from '@libernet/core'

/** What the {@link FileSink} asks a worker to do, in order, one file at a time or many interleaved. */
export type SinkOp =
  /** Create `temporary` for a file that will be renamed to `target` once complete. */
  | {
      op: 'begin'
      file: number
      target: string
      temporary: string
      size: number
      mtime: number
      executable: boolean
      readonly: boolean
      fsync: boolean
    }
  /**
   * Decode (verified against `id`, or its recorded CRC-32) and write one part at `offset`. The
   * stored bytes are in the block file `source` (read by the worker), in the
   * worker's ring at `at` (then `cost` ring bytes are freed once decoded),
   * or, when the ring was full, in `stored`.
   */
  | {
      op: 'part'
      file: number
      offset: number
      /** The part's plaintext length, from the bundle: a hint for decoding. */
      size: number
      at?: number
      length?: number
      cost?: number
      stored?: Uint8Array
      source?: StoredFile
      mode: BlockMode
      id: string
      key?: string
    }
  /** Every part was sent: set size, mode and mtime, and rename into place. */
  | { op: 'end'; file: number }
  /** Give up on the file: remove its temporary. */
  | { op: 'abort'; file: number }

export interface SinkWorkerData {
  /** Stored blocks copied in by the main thread, decoded by the worker in the order they were copied. */
  ring: SharedArrayBuffer
  /** One Int32: ring bytes in use. */
  control: SharedArrayBuffer
}

export const RING_USED = 0

export interface SinkRequest {
  ops: SinkOp[]
  /** Budget units carried by this message, returned in the reply once its parts are written. */
  units: number
}

export type SinkResult =
  | { file: number; ok: true; bytes: number }
  /** `decode`: a block did not decode (corrupt or wrong key); otherwise the disk refused. */
  | { file: number; ok: false; decode: boolean; name: string; message: string; code?: string }

export interface SinkReply {
  results: SinkResult[]
  units: number
}
