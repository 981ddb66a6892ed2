import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { BlockMode, EncodedBlock, EncodeOptions } from '../codec/index.ts'
import * as errors from '../errors.ts'
import { AbortError, type LibernetError } from '../errors.ts'
import type { BlockId } from '../id.ts'
import {
  type CodecResult,
  type CodecResults,
  type CodecTask,
  ownedBuffer,
  type StoredFile,
  type TaskRequest,
  type TaskResponse,
} from './tasks.ts'

export interface CodecPoolOptions {
  /** Worker threads; default: one per core. */
  size?: number
  /**
   * Tasks handed to one worker before it answers. Two keeps a worker busy
   * while its previous result travels back to the main thread.
   */
  tasksPerWorker?: number
}

export interface TaskOptions {
  signal?: AbortSignal
  /**
   * Move the input's buffer to the worker instead of copying it. The whole
   * buffer behind the view moves and every view of it is detached; only for
   * buffers nobody else reads.
   */
  transfer?: boolean
}

/** What a decoder may be told about a block: like-mined, and the plaintext length to expect (a hint). */
export interface DecodeHints {
  mined?: boolean
  size?: number
}

/** A decode task with its key and hints, each set only when given (absent reads as not mined, size unknown). */
function withHints<T extends Extract<CodecTask, { op: 'decode' | 'decodeFile' }>>(
  task: T,
  key: BlockId | undefined,
  hints: DecodeHints,
): T {
  if (key !== undefined) task.key = key
  if (hints.mined === true) task.mined = true
  if (hints.size !== undefined) task.size = hints.size
  return task
}

interface Pending {
  seq: number
  task: CodecTask
  transfer: ArrayBuffer[]
  resolve: (result: CodecResult) => void
  reject: (error: Error) => void
  signal?: AbortSignal
  onAbort?: () => void
}

interface Slot {
  worker: Worker
  inFlight: Map<number, Pending>
}

const WORKER_URL = new URL('./codec-worker.ts', import.meta.url)

/** Rebuilds typed errors by name, so `.name`/`instanceof` survive the thread boundary. */
const ERROR_CLASSES = new Map<string, new (message: string) => Error>(
  Object.values(errors)
    .filter((value): value is typeof LibernetError => typeof value === 'function' && value.prototype instanceof Error)
    .map((ErrorClass) => [ErrorClass.name, ErrorClass]),
)

function reviveError(error: { name: string; message: string }): Error {
  const ErrorClass = ERROR_CLASSES.get(error.name)
  if (ErrorClass !== undefined) return new ErrorClass(error.message)
  const revived = new Error(error.message)
  revived.name = error.name
  return revived
}

/**
 * A pool of worker threads for the codec's CPU work (SHA-256, AES, zlib), so
 * a backup or restore uses every core while the main thread does I/O.
 * Workers are only referenced while they have work: an idle pool never keeps
 * the process alive.
 */
export class CodecPool {
  readonly size: number
  private readonly tasksPerWorker: number
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextSeq = 0
  private closed = false

  constructor(options: CodecPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism())
    this.tasksPerWorker = Math.max(1, options.tasksPerWorker ?? 2)
  }

  encode(
    mode: BlockMode,
    plaintext: Uint8Array,
    options: TaskOptions & EncodeOptions & { passphrase?: string | Uint8Array } = {},
  ): Promise<EncodedBlock> {
    const { signal, transfer, passphrase, ...encodeOptions } = options
    const task: CodecTask = { op: 'encode', mode, plaintext, options: encodeOptions }
    if (passphrase !== undefined) task.passphrase = passphrase
    return this.submit<'encode'>(task, transfer === true ? [plaintext] : [], signal)
  }

  decode(
    mode: BlockMode,
    stored: Uint8Array,
    id: BlockId,
    key?: BlockId,
    options: TaskOptions & DecodeHints = {},
  ): Promise<Uint8Array> {
    const task = withHints({ op: 'decode', mode, stored, id }, key, options)
    return this.submit<'decode'>(task, options.transfer === true ? [stored] : [], options.signal)
  }

  /**
   * Reads a block's file in a worker and decodes it there: the stored bytes
   * never cross threads, and the worker reads into a buffer it keeps, so a
   * stream of blocks costs no fresh memory for them. The bytes are checked
   * against the file's CRC-32 when given (then a convergent block is not
   * hashed against its id again: its plaintext must hash to the key), and
   * against the id as {@link decode} checks them otherwise; a file that is
   * missing, of another size or not the block fails, and the caller falls
   * back to its store (which reports, repairs or quarantines).
   */
  decodeFile(
    mode: BlockMode,
    file: StoredFile,
    id: BlockId,
    key?: BlockId,
    options: Omit<TaskOptions, 'transfer'> & DecodeHints = {},
  ): Promise<Uint8Array> {
    const stored: StoredFile = { path: file.path, size: file.size }
    if (file.crc !== undefined) stored.crc = file.crc
    return this.submit<'decodeFile'>(
      withHints({ op: 'decodeFile', mode, file: stored, id }, key, options),
      [],
      options.signal,
    )
  }

  verify(id: BlockId, stored: Uint8Array, options: TaskOptions = {}): Promise<boolean> {
    return this.submit<'verify'>(
      { op: 'verify', id, stored },
      options.transfer === true ? [stored] : [],
      options.signal,
    )
  }

  /** Tasks waiting for a worker (back-pressure signal for producers). */
  get queued(): number {
    return this.queue.length
  }

  /** Stops every worker; queued and running tasks reject with AbortError. */
  async close(): Promise<void> {
    this.closed = true
    const error = new AbortError('codec pool closed')
    for (const pending of this.queue.splice(0)) this.settle(pending, undefined, error)
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        for (const pending of slot.inFlight.values()) this.settle(pending, undefined, error)
        slot.inFlight.clear()
        await slot.worker.terminate()
      }),
    )
  }

  private submit<K extends keyof CodecResults>(
    task: CodecTask,
    inputs: Uint8Array[],
    signal?: AbortSignal,
  ): Promise<CodecResults[K]> {
    if (this.closed) return Promise.reject(new AbortError('codec pool closed'))
    if (signal?.aborted === true) return Promise.reject(new AbortError(undefined, { cause: signal.reason }))
    const { promise, resolve, reject } = Promise.withResolvers<CodecResults[K]>()
    const pending: Pending = {
      seq: this.nextSeq++,
      task,
      transfer: inputs.flatMap((bytes) => ownedBuffer(bytes)),
      resolve: resolve as (result: CodecResult) => void,
      reject,
    }
    if (signal !== undefined) {
      pending.signal = signal
      pending.onAbort = () => {
        // Only a task still waiting can be withdrawn; a running one finishes and is discarded.
        const index = this.queue.indexOf(pending)
        if (index !== -1) this.queue.splice(index, 1)
        this.settle(pending, undefined, new AbortError(undefined, { cause: signal.reason }))
      }
      signal.addEventListener('abort', pending.onAbort, { once: true })
    }
    this.queue.push(pending)
    this.dispatch()
    return promise
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.freeSlot()
      if (slot === undefined) return
      const pending = this.queue.shift()!
      slot.inFlight.set(pending.seq, pending)
      slot.worker.ref()
      const request: TaskRequest = { seq: pending.seq, task: pending.task }
      slot.worker.postMessage(request, pending.transfer)
    }
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined
    for (const slot of this.slots) {
      if (slot.inFlight.size < this.tasksPerWorker && (best === undefined || slot.inFlight.size < best.inFlight.size)) {
        best = slot
      }
    }
    if (best !== undefined && best.inFlight.size === 0) return best
    if (this.slots.length < this.size) return this.spawn()
    return best
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL)
    const slot: Slot = { worker, inFlight: new Map() }
    worker.unref()
    worker.on('message', (response: TaskResponse) => {
      const pending = slot.inFlight.get(response.seq)
      if (pending === undefined) return
      slot.inFlight.delete(response.seq)
      if (slot.inFlight.size === 0) worker.unref()
      if (response.ok) this.settle(pending, response.result)
      else this.settle(pending, undefined, reviveError(response.error))
      this.dispatch()
    })
    worker.on('error', (err) => this.retire(slot, err))
    worker.on('exit', (code) => this.retire(slot, new Error(`codec worker exited with code ${code}`)))
    this.slots.push(slot)
    return slot
  }

  /** A worker died: fail what it was running (the input may be gone) and carry on with a new one. */
  private retire(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot)
    if (index === -1) return
    this.slots.splice(index, 1)
    for (const pending of slot.inFlight.values()) this.settle(pending, undefined, error)
    slot.inFlight.clear()
    if (!this.closed) this.dispatch()
  }

  private settle(pending: Pending, result?: CodecResult, error?: Error): void {
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort)
    pending.onAbort = undefined
    if (error !== undefined) pending.reject(error)
    else pending.resolve(result as CodecResult)
  }
}
