/**
 * Worker thread body of the {@link FileSink}: decodes blocks and writes
 * restored files with synchronous calls (a few microseconds each, against a
 * round trip through libuv's pool for every open, write, chmod, utimes,
 * close and rename on the main thread).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { decodeBlock, releaseBuffer } from '@libernet/core/codec'
import { decodeStoredFile } from '@libernet/core/stored-file'
import { isAllZero } from './holes.ts'
import { modeFor } from './mode.ts'
import {
  RING_USED,
  type SinkOp,
  type SinkReply,
  type SinkRequest,
  type SinkResult,
  type SinkWorkerData,
} from './sink-protocol.ts'

const port = parentPort
if (port === null) throw new Error('sink-worker.ts must run in a worker thread')

const { ring: ringBuffer, control } = workerData as SinkWorkerData
const ring = new Uint8Array(ringBuffer)
const used = new Int32Array(control)

interface OpenFile {
  fd: number
  begin: Extract<SinkOp, { op: 'begin' }>
  /** End of the last byte written; holes (all-zero parts) at the end need the size set. */
  end: number
  bytes: number
}

const files = new Map<number, OpenFile>()
/** The mode new files get here (0666 less the umask), learnt from the first one. */
let createdMode: number | undefined
const CREATE = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL

function create(temporary: string): number {
  try {
    return openSync(temporary, CREATE, 0o666)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // A killed run left it behind, possibly read-only.
    rmSync(temporary, { force: true })
    return openSync(temporary, CREATE, 0o666)
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0
  while (written < bytes.byteLength) {
    written += writeSync(fd, bytes, written, bytes.byteLength - written, position + written)
  }
}

function run(op: SinkOp): SinkResult | undefined {
  if (op.op === 'begin') {
    const fd = create(op.temporary)
    files.set(op.file, { fd, begin: op, end: 0, bytes: 0 })
    return undefined
  }
  // A file that failed has no entry: its remaining ops are ignored.
  const open = files.get(op.file)
  if (open === undefined) return undefined
  const { fd, begin } = open
  switch (op.op) {
    case 'part': {
      let plaintext: Uint8Array
      try {
        // A file that is gone, resized or corrupt fails here like a bad block: the main thread's
        // verified reads then decide (report it missing, quarantine it, or use a replaced file).
        // Each plaintext is written before the next block is decoded: it may lie in a buffer this thread reuses.
        const decodeOptions = { size: op.size, reuse: true }
        plaintext =
          op.source !== undefined
            ? decodeStoredFile(op.mode, op.source, op.id, op.key, decodeOptions)
            : decodeBlock(op.mode, op.stored ?? ring.subarray(op.at, op.at! + op.length!), op.id, op.key, decodeOptions)
      } catch (err) {
        drop(op.file)
        const error = err as Error
        return { file: op.file, ok: false, decode: true, name: error.name, message: error.message }
      }
      open.bytes += plaintext.byteLength
      if (!isAllZero(plaintext)) {
        writeAll(fd, plaintext, op.offset)
        open.end = Math.max(open.end, op.offset + plaintext.byteLength)
      }
      // Written, the plaintext is done with, unless it is the bytes the message carried (a block kept as it was),
      // which another part may reuse. The buffers this thread keeps (read, inflate) and the ring stay as they are.
      if (plaintext.buffer !== op.stored?.buffer) releaseBuffer(plaintext)
      return undefined
    }
    case 'end': {
      files.delete(op.file)
      try {
        try {
          if (open.end !== begin.size) ftruncateSync(fd, begin.size)
          createdMode ??= fstatSync(fd).mode
          // Most files keep the mode they were created with (0666 less the umask): no call for those.
          const mode = modeFor(createdMode, begin)
          if (mode !== (createdMode & 0o7777)) fchmodSync(fd, mode)
          futimesSync(fd, begin.mtime, begin.mtime)
          if (begin.fsync) fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
        renameSync(begin.temporary, begin.target)
      } catch (err) {
        rmSync(begin.temporary, { force: true })
        throw err
      }
      return { file: op.file, ok: true, bytes: open.bytes }
    }
    case 'abort':
      drop(op.file)
      return undefined
  }
}

/** Closes and removes a file's temporary; later ops for it are ignored. */
function drop(file: number): void {
  const open = files.get(file)
  if (open === undefined) return
  files.delete(file)
  try {
    closeSync(open.fd)
  } finally {
    rmSync(open.begin.temporary, { force: true })
  }
}

port.on('message', (request: SinkRequest) => {
  const results: SinkResult[] = []
  for (const op of request.ops) {
    try {
      const result = run(op)
      if (result !== undefined) results.push(result)
    } catch (err) {
      const error = err as NodeJS.ErrnoException
      try {
        drop(op.file)
      } catch {
        // The original error is the one to report.
      }
      const result: SinkResult = { file: op.file, ok: false, decode: false, name: error.name, message: error.message }
      if (typeof error.code === 'string') result.code = error.code
      results.push(result)
    } finally {
      // Parts are taken in the order they were copied in, so ring space is freed in order too.
      if (op.op === 'part' && op.cost !== undefined) Atomics.sub(used, RING_USED, op.cost)
    }
  }
  const reply: SinkReply = { results, units: request.units }
  port.postMessage(reply)
})
