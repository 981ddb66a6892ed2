import type { BigIntStats } from 'node:fs'
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { type BundlePart, chunkFastCdc, type FastCdcOptions, fastCdcParams, findCutPoint } from '@libernet/core'
import type { BlockWriter } from './block-writer.ts'

/** Files up to this size are read in one synchronous call: far cheaper than async I/O for thousands of small files. */
const SMALL_FILE = 1024 * 1024
const READ_SIZE = 1024 * 1024

export interface FileContents {
  /** The parts, in order, each resolving once its block is stored. */
  parts: Array<Promise<BundlePart>>
  /** Bytes read. */
  size: number
  /** fstat before reading: the metadata recorded for this content. */
  stats: BigIntStats
  /** The file did not change while it was read (size, mtime and ctime the same before and after). */
  stable: boolean
}

export interface ReadFileOptions {
  writer: BlockWriter
  chunker?: Omit<FastCdcOptions, 'signal' | 'emptyChunk'>
  signal?: AbortSignal
  /** Called with each piece's size as it is read. */
  onRead?: (bytes: number) => void
}

/**
 * Reads a file, cuts it with FastCDC and submits every chunk to the block
 * writer. Resolves when the whole file has been read (its parts may still be
 * encoding), telling whether the file changed meanwhile.
 */
export async function readFileContents(path: string, options: ReadFileOptions): Promise<FileContents> {
  // Non-blocking, so a path swapped for a FIFO after the walk cannot hang the backup.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  let handedOver = false
  try {
    const before = fstatSync(fd, { bigint: true })
    if (before.size >= BigInt(SMALL_FILE)) {
      handedOver = true
      const handle = await open(path, 'r')
      closeSync(fd)
      try {
        return await readLarge(handle, before, options)
      } finally {
        await handle.close()
      }
    }
    const bytes = readSmall(fd, Number(before.size))
    const after = fstatSync(fd, { bigint: true })
    // Chunks move to the workers (their buffers detach): take the size first.
    const size = bytes.byteLength
    options.onRead?.(size)
    const parts: Array<Promise<BundlePart>> = []
    for (const chunk of cutSmall(bytes, options.chunker)) parts.push((await options.writer.submit(chunk)).part)
    const stable = sameFile(before, after) && after.size === BigInt(size)
    return { parts, size, stats: before, stable }
  } finally {
    if (!handedOver) closeSync(fd)
  }
}

async function readLarge(
  handle: Awaited<ReturnType<typeof open>>,
  before: BigIntStats,
  options: ReadFileOptions,
): Promise<FileContents> {
  const parts: Array<Promise<BundlePart>> = []
  // Read what fstat announced and no more: a file that grows faster than it is read would otherwise never end.
  const pieces = readPieces(handle, Number(before.size), options.onRead)
  for await (const chunk of chunkFastCdc(pieces, { ...options.chunker, signal: options.signal })) {
    parts.push((await options.writer.submit(chunk)).part)
  }
  const after = await handle.stat({ bigint: true })
  const stable = sameFile(before, after) && !pieces.more && after.size === BigInt(pieces.size)
  return { parts, size: pieces.size, stats: before, stable }
}

/**
 * FastCDC over a file held whole, synchronously: the same cut points as the
 * streaming chunker. A file of one chunk is handed over as is (its buffer is
 * exactly its size, so it moves to a worker without a copy).
 */
function cutSmall(bytes: Uint8Array, chunker: ReadFileOptions['chunker']): Uint8Array[] {
  const params = fastCdcParams(chunker)
  if (bytes.byteLength <= params.min) return [bytes]
  const chunks: Uint8Array[] = []
  for (let start = 0; start < bytes.byteLength; ) {
    const end = findCutPoint(bytes, start, bytes.byteLength, params)
    chunks.push(start === 0 && end === bytes.byteLength ? bytes : bytes.slice(start, end))
    start = end
  }
  return chunks
}

const probe = new Uint8Array(1)

/** Reads exactly what fstat said, into a buffer of that size, then checks for more (a file that grew). */
function readSmall(fd: number, expected: number): Uint8Array {
  const buffer = new Uint8Array(expected)
  let length = 0
  while (length < expected) {
    const count = readSync(fd, buffer, length, expected - length, null)
    if (count === 0) return buffer.slice(0, length)
    length += count
  }
  if (readSync(fd, probe, 0, 1, null) === 0) return buffer
  // It grew while read: take everything there is now; the caller sees the change in fstat.
  const rest: Uint8Array[] = [buffer, probe.slice()]
  const more = new Uint8Array(64 * 1024)
  for (;;) {
    const count = readSync(fd, more, 0, more.byteLength, null)
    if (count === 0) break
    rest.push(more.slice(0, count))
  }
  return new Uint8Array(Buffer.concat(rest))
}

interface Pieces extends AsyncIterable<Uint8Array> {
  size: number
  /** Bytes were left after the announced size: the file grew while read. */
  more: boolean
}

/** Up to `limit` bytes of the file in 1 MiB pieces through one reused buffer (the chunker copies what it keeps). */
function readPieces(handle: Awaited<ReturnType<typeof open>>, limit: number, onRead?: (bytes: number) => void): Pieces {
  const result: Pieces = {
    size: 0,
    more: false,
    async *[Symbol.asyncIterator]() {
      const buffer = new Uint8Array(READ_SIZE)
      while (result.size < limit) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_SIZE, limit - result.size), result.size)
        if (bytesRead === 0) return
        result.size += bytesRead
        onRead?.(bytesRead)
        yield buffer.subarray(0, bytesRead)
      }
      const { bytesRead } = await handle.read(probe, 0, 1, result.size)
      result.more = bytesRead > 0
    },
  }
  return result
}

/** Same size, modification and change time: the content read is the content of that moment. */
export function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino
}
