import { Worker } from 'node:worker_threads'
import { AbortError, type BundleFile } from '@libernet/core'
import { partTarget } from '../content.ts'
import { MissingBlocksError, RestoreConflictError } from '../errors.ts'
import { BLOCK_WORKER_LIMITS } from '../util/worker-limits.ts'
import {
  RING_USED,
  type SinkOp,
  type SinkReply,
  type SinkRequest,
  type SinkResult,
  type SinkWorkerData,
} from './sink-protocol.ts'
import {
  contentMatches,
  type FileWriterOptions,
  looksUpToDate,
  lstatOrUndefined,
  partialPath,
  type WriteOutcome,
  writeRegularFile,
} from './writer.ts'

export interface FileSinkOptions {
  /** How files are written: the store, the memory budget, fsync, verify. */
  writer: FileWriterOptions
  /** Worker threads (default 1). */
  size?: number
  /** The workers' module (default sink-worker.ts; tests give one that fails). */
  workerUrl?: URL
}

interface Slot {
  worker: Worker
  ring: Uint8Array
  used: Int32Array
  /** Where the next block goes in the ring. */
  head: number
  ops: SinkOp[]
  /** Budget units of the ops not sent yet. */
  units: number
  /** Messages sent and not answered yet. */
  outstanding: number
  /** Budget units of those messages. */
  unitsOut: number
}

interface Job {
  resolve: (result: SinkResult) => void
  reject: (error: Error) => void
}

/**
 * Messages a worker may hold unanswered: with one, it idled from each reply
 * until the next message came, and the ops queued meanwhile (for the budget
 * its reply freed) waited for the one after that.
 */
const MESSAGES_AHEAD = 2
/**
 * A message goes out once it holds this many ops or budget units, or as soon
 * as its worker holds fewer than {@link MESSAGES_AHEAD}: a message per block
 * would cost more than the block.
 */
const MESSAGE_OPS = 256
const MESSAGE_UNITS = 4 * 1024 * 1024

/**
 * Each worker's ring of stored blocks holds the whole budget (a stored block
 * is at most its plaintext plus 16 bytes of padding) and the largest block
 * twice over, for the bytes skipped where the ring wraps. Blocks are copied
 * in (the store's buffers may be its own: they are never moved away) and
 * decoded in place; a block that finds the ring full travels in the message
 * instead, at the price of an allocation.
 */
function ringBytes(budget: number): number {
  return Math.ceil(budget * 1.05) + 2 * 1024 * 1024 + 64
}

const WORKER_URL = new URL('./sink-worker.ts', import.meta.url)

/**
 * Restore's writing stage: the main thread fetches stored blocks, worker
 * threads decode them and write the files (temporary, then renamed into
 * place), many files to a message. A file whose blocks do not decode is
 * written again by {@link writeRegularFile}, whose verified reads quarantine
 * and report a corrupt block.
 */
export class FileSink {
  readonly #slots: Slot[] = []
  readonly #jobs = new Map<number, Job>()
  readonly #signal: AbortSignal | undefined
  #nextFile = 0
  #flushScheduled = false
  #failure: Error | undefined
  #closed = false
  readonly #options: FileWriterOptions
  readonly #onAbort = (): void => this.#fail(new AbortError(undefined, { cause: this.#signal?.reason }))

  constructor(options: FileSinkOptions) {
    this.#options = options.writer
    this.#signal = options.writer.context.signal
    const size = Math.max(1, options.size ?? 1)
    for (let index = 0; index < size; index++) {
      const data: SinkWorkerData = {
        ring: new SharedArrayBuffer(ringBytes(options.writer.budget.capacity)),
        control: new SharedArrayBuffer(4),
      }
      const worker = new Worker(options.workerUrl ?? WORKER_URL, {
        workerData: data,
        resourceLimits: BLOCK_WORKER_LIMITS,
      })
      const slot: Slot = {
        worker,
        ring: new Uint8Array(data.ring),
        used: new Int32Array(data.control),
        head: 0,
        ops: [],
        units: 0,
        outstanding: 0,
        unitsOut: 0,
      }
      worker.on('message', (reply: SinkReply) => this.#receive(slot, reply))
      worker.on('error', (err) => this.#fail(err))
      worker.on('exit', (code) => {
        if (!this.#closed) this.#fail(new Error(`restore worker exited with code ${code}`))
      })
      this.#slots.push(slot)
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  /**
   * Restores one regular file, as {@link writeRegularFile} does: kept when
   * it is already there (size, mtime, mode; content too with `verify`),
   * else its blocks are fetched within the budget, decoded and written
   * in a worker, and the file renamed into place. `isNew`: nothing is there
   * yet (its directory was created by the restore), so nothing is looked up.
   */
  async write(absolute: string, file: BundleFile, isNew = false): Promise<WriteOutcome> {
    const options = this.#options
    const existing = isNew ? undefined : lstatOrUndefined(absolute)
    if (existing?.isDirectory() === true) {
      throw new RestoreConflictError(`${absolute} is a directory; the snapshot has a file there`)
    }
    if (existing?.isFile() === true && looksUpToDate(existing, file)) {
      if (!options.verify || (await contentMatches(absolute, file, options))) return 'up-to-date'
    }
    if (this.#failure !== undefined) throw this.#failure
    const id = this.#nextFile++
    const slot = this.#slots[id % this.#slots.length]!
    const { promise, resolve, reject } = Promise.withResolvers<SinkResult>()
    promise.catch(() => {})
    this.#jobs.set(id, { resolve, reject })
    this.#queue(slot, {
      op: 'begin',
      file: id,
      target: absolute,
      temporary: partialPath(absolute),
      size: file.size,
      mtime: file.mtime,
      executable: file.executable === true,
      readonly: file.readonly === true,
      fsync: options.fsync,
    })
    const { context, budget } = options
    const missing: string[] = []
    const fetches: Array<Promise<void>> = []
    let offset = 0
    let failure: unknown
    for (const part of file.parts) {
      const at = offset
      offset += part.size
      if (part.size === 0 || options.zeroParts.has(part.url)) continue
      await budget.acquire(part.size, context.signal)
      let fetching = false
      try {
        const target = partTarget(part.url)
        const op: SinkOp = { op: 'part', file: id, offset: at, size: part.size, mode: target.mode, id: target.id }
        if (target.key !== undefined) op.key = target.key
        // A local block file is read by the worker itself: its bytes never pass through this thread.
        const source = context.store.localFile?.(target.id)
        if (source !== undefined) {
          op.source = source
          this.#queue(slot, op, part.size)
        } else {
          fetching = true
          fetches.push(
            this.#fetchPart(slot, op).then(
              (found) => {
                if (!found) missing.push(op.id)
              },
              (err: unknown) => {
                failure ??= err
              },
            ),
          )
        }
      } catch (err) {
        failure ??= err
        // A fetch releases its own budget.
        if (!fetching) budget.release(part.size)
      }
    }
    await Promise.all(fetches)
    if (failure !== undefined || missing.length > 0) {
      this.#queue(slot, { op: 'abort', file: id })
      this.#jobs.delete(id)
      if (failure !== undefined) throw failure
      throw new MissingBlocksError(missing)
    }
    this.#queue(slot, { op: 'end', file: id })
    const result = await promise
    if (result.ok) {
      options.onWritten?.(result.bytes)
      return 'written'
    }
    // Unchecked bytes that failed to decode are never used: verified reads quarantine a corrupt block.
    if (result.decode) return await writeRegularFile(absolute, file, options)
    const error = new Error(result.message) as NodeJS.ErrnoException
    error.name = result.name
    if (result.code !== undefined) error.code = result.code
    throw error
  }

  /**
   * Fetches a block from the store (another node's, say) and queues it with
   * `op`; resolves to false when the store lacks it. Its budget is released
   * unless it was queued (the worker's reply releases it then).
   */
  async #fetchPart(slot: Slot, op: Extract<SinkOp, { op: 'part' }>): Promise<boolean> {
    const { context, budget } = this.#options
    let queued = false
    try {
      // Decoding checks the stored bytes against the id, so the store need not hash them first.
      const stored = await context.store.get(op.id, { signal: context.signal, verify: false })
      if (stored === undefined) return false
      this.#place(slot, op, stored)
      this.#queue(slot, op, op.size)
      queued = true
      return true
    } finally {
      if (!queued) budget.release(op.size)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#fail(new AbortError('restore sink closed'))
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()))
  }

  #queue(slot: Slot, op: SinkOp, units = 0): void {
    if (this.#failure !== undefined) {
      // Nothing more is sent: the budget goes back at once, or writes still waiting for it would wait forever.
      if (units > 0) this.#options.budget.release(units)
      return
    }
    slot.ops.push(op)
    slot.units += units
    if (slot.ops.length >= MESSAGE_OPS || slot.units >= MESSAGE_UNITS) this.#send(slot)
    else if (slot.outstanding < MESSAGES_AHEAD && !this.#flushScheduled) {
      // What the rest of this event loop turn queues goes in the same message.
      this.#flushScheduled = true
      setImmediate(() => {
        this.#flushScheduled = false
        for (const each of this.#slots) if (each.outstanding < MESSAGES_AHEAD) this.#send(each)
      })
    }
  }

  /** Copies a stored block into the slot's ring, or (the ring being full) into the op itself. */
  #place(slot: Slot, op: Extract<SinkOp, { op: 'part' }>, stored: Uint8Array): void {
    const length = stored.byteLength
    const size = slot.ring.byteLength
    const inUse = Atomics.load(slot.used, RING_USED)
    // An empty ring starts over at its beginning.
    if (inUse === 0) slot.head = 0
    const wraps = slot.head + length > size
    const cost = wraps ? size - slot.head + length : length
    if (length === 0 || size - inUse < cost) {
      op.stored = stored.slice()
      return
    }
    const at = wraps ? 0 : slot.head
    slot.ring.set(stored, at)
    slot.head = at + length
    Atomics.add(slot.used, RING_USED, cost)
    op.at = at
    op.length = length
    op.cost = cost
  }

  #send(slot: Slot): void {
    if (slot.ops.length === 0 || this.#failure !== undefined) return
    const request: SinkRequest = { ops: slot.ops, units: slot.units }
    const transfer: ArrayBuffer[] = []
    for (const op of slot.ops) {
      if (op.op === 'part' && op.stored !== undefined) transfer.push(op.stored.buffer as ArrayBuffer)
    }
    slot.ops = []
    slot.units = 0
    slot.outstanding++
    slot.unitsOut += request.units
    slot.worker.postMessage(request, transfer)
  }

  #receive(slot: Slot, reply: SinkReply): void {
    slot.outstanding--
    // After a failure every unit still out was returned at once (see #fail).
    if (reply.units > 0 && this.#failure === undefined) {
      slot.unitsOut -= reply.units
      this.#options.budget.release(reply.units)
    }
    for (const result of reply.results) {
      const job = this.#jobs.get(result.file)
      if (job === undefined) continue
      this.#jobs.delete(result.file)
      job.resolve(result)
    }
    if (slot.outstanding < MESSAGES_AHEAD) this.#send(slot)
  }

  #fail(error: Error): void {
    if (this.#failure === undefined) {
      this.#failure = error
      // A worker that died answers nothing: the budget its messages held must come back, or the writes
      // waiting for it would never see the failure.
      for (const slot of this.#slots) {
        const units = slot.units + slot.unitsOut
        slot.ops = []
        slot.units = 0
        slot.unitsOut = 0
        if (units > 0) this.#options.budget.release(units)
      }
    }
    for (const job of this.#jobs.values()) job.reject(this.#failure)
    this.#jobs.clear()
  }
}
