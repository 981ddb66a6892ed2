import type { BlockMode, EncodedBlock, EncodeOptions } from '../codec/index.ts'
import type { BlockId } from '../id.ts'

/** CPU-bound work the pool runs off the main thread. */
export type CodecTask =
  | { op: 'encode'; mode: BlockMode; plaintext: Uint8Array; passphrase?: string | Uint8Array; options?: EncodeOptions }
  | { op: 'decode'; mode: BlockMode; stored: Uint8Array; id: BlockId; key?: BlockId; mined?: boolean; size?: number }
  | { op: 'verify'; id: BlockId; stored: Uint8Array }
  | { op: 'decodeFile'; mode: BlockMode; file: StoredFile; id: BlockId; key?: BlockId; mined?: boolean; size?: number }

/** Where a block's stored bytes lie on this machine, how many there should be, and their checksum when known. */
export interface StoredFile {
  path: string
  size: number
  /**
   * The CRC-32 (zlib's) recorded when a put verified the bytes against the
   * id. When given, the bytes are checked against it instead of hashed
   * against the id where the content is checked anyway (convergent blocks:
   * the plaintext must hash to the key).
   */
  crc?: number
}

export interface CodecResults {
  encode: EncodedBlock
  decode: Uint8Array
  verify: boolean
  decodeFile: Uint8Array
}

export type CodecResult = CodecResults[keyof CodecResults]

export interface TaskRequest {
  seq: number
  task: CodecTask
}

export type TaskResponse =
  | { seq: number; ok: true; result: CodecResult }
  | { seq: number; ok: false; error: { name: string; message: string } }

/**
 * The buffer behind `bytes` when it can be moved to another thread instead of
 * copied: the view is sent with its offset and length over the moved buffer,
 * so it need not span all of it (a decrypted block without its padding, a
 * block read with one byte to spare). A view of less than half its buffer may
 * share it with unrelated data (Node's pool for small Buffers, a slice), so it
 * is copied: moving it would detach bytes that others still read.
 */
export function ownedBuffer(bytes: Uint8Array): ArrayBuffer[] {
  const { buffer } = bytes
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return []
  return 2 * bytes.byteLength >= buffer.byteLength ? [buffer] : []
}
