import type { BlockMode, EncodedBlock, EncodeOptions } from '../codec/index.ts'
import type { BlockId } from '../id.ts'

/** CPU-bound work the pool runs off the main thread. */
export type CodecTask =
  | { op: 'encode'; mode: BlockMode; plaintext: Uint8Array; passphrase?: string | Uint8Array; options?: EncodeOptions }
  | { op: 'decode'; mode: BlockMode; stored: Uint8Array; id: BlockId; key?: BlockId; mined?: boolean }
  | { op: 'verify'; id: BlockId; stored: Uint8Array }

export interface CodecResults {
  encode: EncodedBlock
  decode: Uint8Array
  verify: boolean
}

export type CodecResult = CodecResults[keyof CodecResults]

export interface TaskRequest {
  seq: number
  task: CodecTask
}

export type TaskResponse =
  | { seq: number; ok: true; result: CodecResult }
  | { seq: number; ok: false; error: { name: string; message: string } }

/** The buffer behind `bytes` when the view spans all of it, so it can be transferred instead of copied. */
export function ownedBuffer(bytes: Uint8Array): ArrayBuffer[] {
  const { buffer } = bytes
  if (!(buffer instanceof ArrayBuffer)) return []
  return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? [buffer] : []
}
