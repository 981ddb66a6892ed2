import { BlockTooLargeError, LEGACY_MAX_BLOCK_SIZE, throwIfAborted } from '@libernet/core'

/** Gathers a block given as bytes or as a stream of chunks, refusing anything over the block limit early. */
export async function collectBlockBytes(
  value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of value) {
    throwIfAborted(signal)
    length += chunk.byteLength
    if (length > LEGACY_MAX_BLOCK_SIZE) {
      throw new BlockTooLargeError(`block of more than ${LEGACY_MAX_BLOCK_SIZE} bytes`)
    }
    chunks.push(chunk)
  }
  if (chunks.length === 1) return chunks[0]!
  const bytes = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
