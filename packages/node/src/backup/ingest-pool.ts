import { Worker } from 'node:worker_threads'
import { DiskFullError, type WrittenBlock } from '@libernet/blockstore'
import { AbortError, type BundlePart, contentUrl, type FastCdcParams } from '@libernet/core'
import type { EngineStore } from '../store.ts'
import { BLOCK_WORKER_LIMITS } from '../util/worker-limits.ts'
import type { BlockWriterStats } from './block-writer.ts'
import {
  type IngestEvent,
  type IngestMessage,
  type IngestRequest,
  type IngestWorkerData,
  USED,
} from './ingest-protocol.ts'

export interface IngestPoolOptions {
  store: EngineStore
  /** Worker threads (default 2). With a store that takes block files (`store.blockFiles`) they write them too. */
  size?: number
  params: FastCdcParams
  level?: number
  /** Encoded bytes waiting to be stored, over all workers (default 8 MiB): bounds memory. */
  inFlightBytes?: number
  signal?: AbortSignal
}

/** A file read, chunked, encoded and stored. */
export interface IngestedFile {
  parts: BundlePart[]
  /** Bytes read. */
  size: number
  /** From fstat before reading: what the bundle records. */
  mode: bigint
  mtimeNs: bigint
  /** The file did not change while it was read. */
  stable: boolean
}

/** A file that could not be read: `code` and `syscall` as Node's file system errors have them. */
export class IngestFileError extends Error {
  readonly code: string | undefined
  readonly syscall: string | undefined

  constructor(event: Extract<IngestEvent, { kind: 'error' }>) {
    super(event.message)
    this.name = event.name
    this.code = event.code
    this.syscall = event.syscall
  }
}

interface FileJob {
  parts: Array<Promise<BundlePart>>
  /** URLs of blocks already stored, by key. */
  known?: ReadonlyMap<string, string>
  resolve: (file: IngestedFile) => void
  reject: (error: Error) => void
  /** A bundle piece (not a file): its part waits for the record, to learn whether it was new. */
  content?: boolean
  /** For bundle pieces: whether the block was new, and its stored size. */
  added?: boolean
  stored?: number
}

/** A block file waiting to be recorded; `recorded` learns whether it was new to the store. */
interface Unrecorded {
  block: WrittenBlock
  recorded?: (added: boolean) => void
}

interface Release {
  cost: number
  done: boolean
}

interface Slot {
  worker: Worker
  used: Int32Array
  ring: Uint8Array
  /** Ring space in allocation order; freed from the front as the blocks in it are stored. */
  releases: Release[]
  tasks: number
}

/** Files per task at most, and bytes (by their size in the walk) per task at least before it is sent. */
const TASK_FILES = 32
const TASK_BYTES = 512 * 1024
/** Tasks a worker holds at once: the second keeps it busy while the first one's results are handled. */
const TASKS_PER_WORKER = 2

/**
 * Block files written by the workers are recorded in the store in batches of
 * this many (or {@link RECORD_BYTES}, or after {@link RECORD_DELAY_MS}), not
 * one transaction per task: with 6,000 small files that was 200 SQLite
 * transactions dirtying ~35 random pages each, 14,000 writes to the WAL.
 * Files do not wait for their records (the blocks are in place, and an
 * unclean shutdown's scan records whatever was left out); {@link settle}
 * waits for them before a pin.
 */
const RECORD_BLOCKS = 1024
const RECORD_BYTES = 64 * 1024 * 1024
const RECORD_DELAY_MS = 250

/** A ring holds at least two of the largest blocks, so a worker can encode one while the other is stored. */
const MIN_RING = 2 * 1024 * 1024 + 64

const WORKER_URL = new URL('./ingest-worker.ts', import.meta.url)

/**
 * Backup's reading and encoding stage: worker threads read, chunk and
 * encode whole files (small ones many to a message). With a local store
 * they write the block files too and the main thread records them, a batch
 * at a time; otherwise the main thread stores the blocks from shared
 * memory, which bounds memory: a worker waits when its ring is full until
 * blocks are stored.
 */
export class IngestPool {
  readonly stats: BlockWriterStats = { blocks: 0, newBlocks: 0, newBytes: 0 }
  readonly #store: EngineStore
  readonly #blockFiles: EngineStore['blockFiles']
  readonly #slots: Slot[] = []
  readonly #jobs = new Map<number, FileJob>()
  readonly #queue: IngestRequest[] = []
  readonly #signal: AbortSignal | undefined
  #batch: Array<{ file: number; path: string }> = []
  #batchBytes = 0
  #nextFile = 0
  #nextTask = 0
  #failure: Error | undefined
  #closed = false
  #closing: Promise<void> | undefined
  #unrecorded: Unrecorded[] = []
  #unrecordedBytes = 0
  /** The batches recorded so far, one after another. */
  #recording: Promise<void> = Promise.resolve()
  #recordTimer: NodeJS.Timeout | undefined
  readonly #onAbort = (): void => this.#fail(new AbortError(undefined, { cause: this.#signal?.reason }))

  constructor(options: IngestPoolOptions) {
    this.#store = options.store
    this.#blockFiles = options.store.blockFiles
    this.#signal = options.signal
    const size = Math.max(1, options.size ?? 2)
    const ringBytes =
      this.#blockFiles === undefined
        ? Math.max(MIN_RING, Math.floor((options.inFlightBytes ?? 8 * 1024 * 1024) / size))
        : 0
    for (let index = 0; index < size; index++) {
      const data: IngestWorkerData = {
        blockFiles: this.#blockFiles?.target,
        ring: new SharedArrayBuffer(ringBytes),
        control: new SharedArrayBuffer(4),
        params: { min: options.params.min, avg: options.params.avg, max: options.params.max },
        level: options.level,
      }
      const worker = new Worker(WORKER_URL, { workerData: data, resourceLimits: BLOCK_WORKER_LIMITS })
      const slot: Slot = {
        worker,
        used: new Int32Array(data.control),
        ring: new Uint8Array(data.ring),
        releases: [],
        tasks: 0,
      }
      worker.on('message', (message: IngestMessage) => this.#receive(slot, message))
      worker.on('error', (err) => this.#fail(err))
      worker.on('exit', (code) => {
        if (!this.#closed) this.#fail(new Error(`ingest worker exited with code ${code}`))
      })
      this.#slots.push(slot)
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  /**
   * Queues a file; resolves once every block of it is stored. `sizeHint`
   * (from the walk) decides how files are grouped into tasks; chunks whose
   * key is in `known` (convergent URLs of blocks the store holds, by key)
   * take that URL and are not encoded again.
   */
  readFile(path: string, sizeHint: number, known?: ReadonlyMap<string, string>): Promise<IngestedFile> {
    const { file, promise, job } = this.#job()
    const entry: { file: number; path: string; known?: string[] } = { file, path }
    if (known !== undefined && known.size > 0) {
      job.known = known
      entry.known = [...known.keys()]
    }
    if (sizeHint >= TASK_BYTES) {
      this.#queue.push({ op: 'files', task: this.#nextTask++, files: [entry] })
    } else {
      this.#batch.push(entry)
      this.#batchBytes += sizeHint
      if (this.#batch.length >= TASK_FILES || this.#batchBytes >= TASK_BYTES) this.#endBatch()
    }
    this.#dispatch()
    return promise
  }

  /** Encodes and stores one block of bytes outside the file stream (bundle pieces); resolves to its URL. */
  async storeContent(bytes: Uint8Array): Promise<{ url: string; added: boolean; stored: number }> {
    const { file, promise, job } = this.#job()
    job.content = true
    this.#queue.push({ op: 'content', task: this.#nextTask++, file, bytes })
    this.#dispatch()
    const { parts } = await promise
    return { url: parts[0]!.url, added: job.added === true, stored: job.stored ?? 0 }
  }

  /**
   * Records in the store every block file written so far, and waits for
   * that (and rejects if recording failed): before pinning what was stored,
   * and before reading {@link stats}.
   */
  async settle(): Promise<void> {
    this.#record()
    await this.#recording
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Tasks made so far: a message to a worker and a store transaction each, however many files it holds. */
  get tasks(): number {
    return this.#nextTask
  }

  /** Sends the files queued so far without waiting for a full task or an idle worker (after the last file). */
  flush(): void {
    this.#endBatch()
    this.#dispatch()
  }

  /**
   * Gives up after a failure elsewhere (a block the store refused): files not
   * finished reject with `error` at once, those still waiting in a batch too,
   * and nothing more is dispatched. Blocks already handed to the store settle
   * on their own.
   */
  abort(error: Error): void {
    this.#fail(error)
  }

  /** Stops the workers and records what they wrote; every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#fail(new AbortError('ingest pool closed'))
    // A worker stopped with a task in hand (a failure or an abort elsewhere) may be halfway through a block file.
    if (this.#slots.some((slot) => slot.tasks > 0)) this.#blockFiles?.abandon()
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()))
    // Blocks written are recorded even when the backup failed: they are in the store either way.
    this.#record()
    await this.#recording
  }

  #job(): { file: number; promise: Promise<IngestedFile>; job: FileJob } {
    if (this.#failure !== undefined) {
      const promise = Promise.reject(this.#failure)
      promise.catch(() => {})
      return { file: -1, promise, job: { parts: [], resolve: () => {}, reject: () => {} } }
    }
    const file = this.#nextFile++
    const { promise, resolve, reject } = Promise.withResolvers<IngestedFile>()
    // The caller may await it only later; a rejection meanwhile is not unhandled.
    promise.catch(() => {})
    const job: FileJob = { parts: [], resolve, reject }
    this.#jobs.set(file, job)
    return { file, promise, job }
  }

  #endBatch(): void {
    if (this.#batch.length === 0) return
    this.#queue.push({ op: 'files', task: this.#nextTask++, files: this.#batch })
    this.#batch = []
    this.#batchBytes = 0
  }

  #dispatch(): void {
    // A partial task only for a worker that would otherwise idle: a message per file costs more than the file
    // (a wake-up each way, a store transaction), and a full task is usually a few files away.
    if (this.#queue.length === 0 && this.#slots.some((slot) => slot.tasks === 0)) this.#endBatch()
    while (this.#queue.length > 0 && this.#failure === undefined) {
      let best: Slot | undefined
      for (const slot of this.#slots) {
        if (slot.tasks < TASKS_PER_WORKER && (best === undefined || slot.tasks < best.tasks)) best = slot
      }
      if (best === undefined) return
      const request = this.#queue.shift()!
      best.tasks++
      best.worker.postMessage(request)
    }
  }

  #receive(slot: Slot, message: IngestMessage): void {
    let recordNow = false
    for (const event of message.events) {
      switch (event.kind) {
        case 'block':
          this.#storeBlock(slot, event)
          break
        case 'written': {
          const { id, length, crc, newDirectory } = event
          const unrecorded: Unrecorded = { block: { id, size: length, crc, newDirectory } }
          const job = this.#jobs.get(event.file)
          const url = { url: contentUrl('convergent', id, event.key), size: event.size }
          if (job?.content === true) {
            // A bundle piece reports whether its block was new: it waits for its record, which is made at once.
            const { promise, resolve } = Promise.withResolvers<BundlePart>()
            unrecorded.recorded = (added) => {
              job.added = added
              job.stored = length
              resolve(url)
            }
            job.parts.push(promise)
            recordNow = true
          } else {
            job?.parts.push(Promise.resolve(url))
          }
          this.#unrecorded.push(unrecorded)
          this.#unrecordedBytes += length
          break
        }
        case 'store-failed':
          this.#fail(storeError(event))
          break
        case 'known': {
          const job = this.#jobs.get(event.file)
          const url = job?.known?.get(event.key)
          if (url !== undefined) job!.parts.push(Promise.resolve({ url, size: event.size }))
          break
        }
        case 'file': {
          const job = this.#jobs.get(event.file)
          if (job === undefined) break
          this.#jobs.delete(event.file)
          const { size, mode, mtimeNs, stable } = event
          Promise.all(job.parts).then(
            (parts) => job.resolve({ parts, size, mode, mtimeNs, stable }),
            (err: Error) => job.reject(err),
          )
          break
        }
        case 'error': {
          const job = this.#jobs.get(event.file)
          if (job === undefined) break
          this.#jobs.delete(event.file)
          const error = new IngestFileError(event)
          // Blocks already sent are stored (or fail) on their own; the file fails now.
          Promise.allSettled(job.parts).then(() => job.reject(error))
          break
        }
        case 'done':
          slot.tasks--
          break
      }
    }
    if (recordNow || this.#unrecorded.length >= RECORD_BLOCKS || this.#unrecordedBytes >= RECORD_BYTES) {
      this.#record()
    } else if (this.#unrecorded.length > 0) {
      this.#recordTimer ??= setTimeout(() => this.#record(), RECORD_DELAY_MS)
    }
    this.#dispatch()
  }

  /** Records the block files written since the last batch in the store, in one transaction, after that batch. */
  #record(): void {
    clearTimeout(this.#recordTimer)
    this.#recordTimer = undefined
    if (this.#unrecorded.length === 0) return
    const batch = this.#unrecorded
    this.#unrecorded = []
    this.#unrecordedBytes = 0
    const blocks = batch.map((entry) => entry.block)
    this.#recording = this.#recording
      .then(() => this.#blockFiles!.adopt(blocks))
      .then(
        (added) => {
          this.stats.blocks += blocks.length
          for (const [index, entry] of batch.entries()) {
            if (added[index]) {
              this.stats.newBlocks++
              this.stats.newBytes += entry.block.size
            }
            entry.recorded?.(added[index] === true)
          }
        },
        (err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))),
      )
  }

  #storeBlock(slot: Slot, event: Extract<IngestEvent, { kind: 'block' }>): void {
    const release: Release = { cost: event.cost, done: false }
    slot.releases.push(release)
    const job = this.#jobs.get(event.file)
    const bytes = slot.ring.subarray(event.offset, event.offset + event.length)
    const stored = this.#store.put(event.id, bytes, { signal: this.#signal }).then(
      (added) => {
        this.#free(slot, release)
        this.stats.blocks++
        if (added) {
          this.stats.newBlocks++
          this.stats.newBytes += event.length
        }
        if (job !== undefined) {
          job.added = added
          job.stored = event.length
        }
        return { url: contentUrl('convergent', event.id, event.key), size: event.size }
      },
      (err: unknown) => {
        this.#free(slot, release)
        throw err
      },
    )
    stored.catch(() => {})
    job?.parts.push(stored)
  }

  #free(slot: Slot, release: Release): void {
    release.done = true
    let freed = 0
    let count = 0
    for (const entry of slot.releases) {
      if (!entry.done) break
      freed += entry.cost
      count++
    }
    if (count === 0) return
    slot.releases.splice(0, count)
    Atomics.sub(slot.used, USED, freed)
    Atomics.notify(slot.used, USED)
  }

  #fail(error: Error): void {
    this.#failure ??= error
    this.#queue.length = 0
    this.#batch = []
    for (const job of this.#jobs.values()) job.reject(this.#failure)
    this.#jobs.clear()
  }
}

/** A worker's failure to write a block file, as the error it was there (typed when it is a full disk). */
function storeError(event: Extract<IngestEvent, { kind: 'store-failed' }>): Error {
  if (event.name === 'DiskFullError') return new DiskFullError(event.message)
  const error: NodeJS.ErrnoException = new Error(event.message)
  error.name = event.name
  if (event.code !== undefined) error.code = event.code
  return error
}
