/**
 * Frees a large buffer's memory at once. Node keeps a Buffer's bytes outside
 * V8's heap and frees them only when a garbage collection finds the Buffer
 * dead; a thread that encodes or decodes a block every few milliseconds
 * (cipher, inflate output) thus holds tens of MiB of dead output between
 * collections, each MiB fresh memory and page faults, or pays a collection
 * every few MiB to avoid it. Transferring the ArrayBuffer away detaches it,
 * and its bytes are freed there and then (test/release.test.ts: a worker
 * encoding 64 blocks of 1 MiB holds under 16 MiB of buffers; 68 MB without).
 *
 * Call it only on a buffer that nothing will read again: every view of the
 * same memory is emptied too. Small buffers may share Node's Buffer pool with
 * others and are left to the garbage collector, as are shared memory and
 * buffers that cannot be detached; buffers a thread keeps to reuse are left
 * as they are.
 */

/** Smallest ArrayBuffer released: well above Node's Buffer pool (8 KiB by default), so never the pool. */
const RELEASE_MIN_BYTES = 64 * 1024

/** Buffers a thread keeps for its life and reuses (see {@link keepBuffer}). */
const kept = new WeakSet<ArrayBufferLike>()

export function releaseBuffer(bytes: Uint8Array): void {
  const buffer = bytes.buffer
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < Math.max(RELEASE_MIN_BYTES, Buffer.poolSize)) return
  if (kept.has(buffer)) return
  try {
    buffer.transfer(0)
  } catch {
    // Not detachable (Node pins some of its buffers): the garbage collector will free it.
  }
}

/**
 * Marks a buffer that its thread keeps and reuses (a read buffer, an inflate
 * output): {@link releaseBuffer} leaves it alone, so a caller can release
 * whatever a decode returned without knowing where it lies.
 */
export function keepBuffer(bytes: Uint8Array): void {
  kept.add(bytes.buffer)
}
