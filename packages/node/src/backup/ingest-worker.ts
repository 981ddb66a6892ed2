/**
 * Worker thread body of the {@link IngestPool}: reads files with synchronous
 * calls, cuts them with FastCDC in one reused window, encodes each chunk
 * (convergent) and writes its block file into the local store (or, for
 * another store, copies the block into the shared ring). The main thread
 * only records or stores blocks and writes the bundle.
 */

import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { BlockFileWriter, type WrittenBlock } from '@libernet/blockstore/block-files'
import { findCutPoint } from '@libernet/core/chunker'
import { encodeConvergent, releaseBuffer } from '@libernet/core/codec'
import {
  type IngestEvent,
  type IngestMessage,
  type IngestRequest,
  type IngestWorkerData,
  USED,
} from './ingest-protocol.ts'

const port = parentPort
if (port === null) throw new Error('ingest-worker.ts must run in a worker thread')

const { ring: ringBuffer, control, params, level, blockFiles } = workerData as IngestWorkerData
const ring = new Uint8Array(ringBuffer)
const writer = blockFiles === undefined ? undefined : new BlockFileWriter(blockFiles)
const used = new Int32Array(control)
const encodeOptions = level !== undefined ? { level } : {}
/** Twice the largest chunk: after moving the unconsumed tail to the front there is always room for a full chunk. */
const window = new Uint8Array(Math.max(2 * 1024 * 1024, 2 * params.max))
const probe = new Uint8Array(1)

/** Events are sent in batches: a message per block would cost more than the block on small files. */
const BATCH_EVENTS = 128
let events: IngestEvent[] = []
let head = 0

function send(): void {
  if (events.length === 0) return
  const message: IngestMessage = { events }
  port!.postMessage(message)
  events = []
}

function emit(event: IngestEvent): void {
  events.push(event)
  if (events.length >= BATCH_EVENTS) send()
}

/** Room for `length` bytes in the ring, waiting (after sending what is pending) until the main thread frees it. */
function allocate(length: number): { offset: number; cost: number } {
  for (;;) {
    const inUse = Atomics.load(used, USED)
    // An empty ring starts over at its beginning, so a block never waits on padding.
    if (inUse === 0) head = 0
    const wraps = head + length > ring.byteLength
    const cost = wraps ? ring.byteLength - head + length : length
    if (ring.byteLength - inUse >= cost) {
      const offset = wraps ? 0 : head
      head = offset + length
      Atomics.add(used, USED, cost)
      return { offset, cost }
    }
    send()
    Atomics.wait(used, USED, inUse, 1000)
  }
}

/** Writing a block file failed: not this file's problem, the store's (a full disk). */
class StoreFailure extends Error {}

function encodeChunk(file: number, chunk: Uint8Array): void {
  const block = encodeConvergent(chunk, encodeOptions)
  try {
    if (writer !== undefined) {
      let written: WrittenBlock
      try {
        // The encoder has just hashed these bytes to get the id.
        written = writer.write(block.id, block.bytes, { hashed: true })
      } catch (err) {
        throw new StoreFailure(undefined, { cause: err })
      }
      const { size: length, crc, newDirectory } = written
      emit({ kind: 'written', file, id: block.id, key: block.key!, size: chunk.byteLength, length, crc, newDirectory })
      return
    }
    const { offset, cost } = allocate(block.bytes.byteLength)
    ring.set(block.bytes, offset)
    emit({
      kind: 'block',
      file,
      id: block.id,
      key: block.key!,
      size: chunk.byteLength,
      offset,
      length: block.bytes.byteLength,
      cost,
    })
  } finally {
    // Written or copied, the block is done with: its memory is freed now, not at a garbage collection.
    releaseBuffer(block.bytes)
  }
}

/** Same size, modification and change time and inode: the content read is the content of that moment. */
function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino
}

/**
 * A chunk whose key (the SHA-256 of its plaintext) is known from the prior
 * snapshot has its block stored already: it is neither compressed nor
 * encrypted again. An edit in a large file costs a hash of the rest, not a
 * deflate.
 */
function ingestChunk(file: number, chunk: Uint8Array, known: Set<string> | undefined): void {
  if (known !== undefined) {
    const key = createHash('sha256').update(chunk).digest('hex')
    if (known.has(key)) {
      emit({ kind: 'known', file, key, size: chunk.byteLength })
      return
    }
  }
  encodeChunk(file, chunk)
}

function ingestFile(file: number, path: string, known: Set<string> | undefined): void {
  // Non-blocking, so a path swapped for a FIFO after the walk cannot hang the backup.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const before = fstatSync(fd, { bigint: true })
    // Read what fstat announced and no more: a file that grows faster than it is read would otherwise never end.
    const limit = Number(before.size)
    let total = 0
    let start = 0
    let end = 0
    let atEnd = false
    let chunks = 0
    for (;;) {
      if (!atEnd && end - start < params.max) {
        if (start > 0) {
          window.copyWithin(0, start, end)
          end -= start
          start = 0
        }
        while (end < window.byteLength && total < limit) {
          const count = readSync(fd, window, end, Math.min(window.byteLength - end, limit - total), null)
          if (count === 0) break
          end += count
          total += count
        }
        atEnd = total >= limit || end < window.byteLength
      }
      if (start === end) break
      const cut = findCutPoint(window, start, end, params)
      ingestChunk(file, window.subarray(start, cut), known)
      chunks++
      start = cut
    }
    // An empty file is one empty block, as the chunkers make it.
    if (chunks === 0) encodeChunk(file, window.subarray(0, 0))
    const more = readSync(fd, probe, 0, 1, null) > 0
    const after = fstatSync(fd, { bigint: true })
    const stable = sameFile(before, after) && !more && total === limit
    emit({ kind: 'file', file, size: total, mode: before.mode, mtimeNs: before.mtimeNs, stable })
  } finally {
    closeSync(fd)
  }
}

function fail(file: number, err: unknown): void {
  if (err instanceof StoreFailure) {
    const cause = err.cause as NodeJS.ErrnoException
    const event: IngestEvent = {
      kind: 'store-failed',
      name: cause?.name ?? 'Error',
      message: cause?.message ?? String(cause),
    }
    if (typeof cause?.code === 'string') event.code = cause.code
    emit(event)
    return
  }
  const error = err as NodeJS.ErrnoException
  const event: IngestEvent = {
    kind: 'error',
    file,
    name: error?.name ?? 'Error',
    message: error?.message ?? String(err),
  }
  if (typeof error?.code === 'string') event.code = error.code
  if (typeof error?.syscall === 'string') event.syscall = error.syscall
  emit(event)
}

port.on('message', (request: IngestRequest) => {
  if (request.op === 'files') {
    for (const { file, path, known } of request.files) {
      try {
        ingestFile(file, path, known !== undefined && known.length > 0 ? new Set(known) : undefined)
      } catch (err) {
        fail(file, err)
      }
    }
  } else {
    try {
      encodeChunk(request.file, request.bytes)
      emit({ kind: 'file', file: request.file, size: request.bytes.byteLength, mode: 0n, mtimeNs: 0n, stable: true })
    } catch (err) {
      fail(request.file, err)
    }
  }
  events.push({ kind: 'done', task: request.task })
  send()
})
