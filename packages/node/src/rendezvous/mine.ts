/**
 * Like-mining a passphrase block on every core. Each worker runs core's
 * `mineLike` on the same ciphertext with its own random suffixes; the first
 * to reach the score wins and the others are terminated, so the expected
 * wall time is 2^minScore / (threads × per-thread rate).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import * as coreErrors from '@libernet/core'
import {
  AbortError,
  type BlockId,
  BlockTooLargeError,
  contentUrl,
  DEFAULT_LIKE_SCORE,
  encodePassphrase,
  likeSuffixLength,
  MAX_BLOCK_SIZE,
  MaxAttemptsExceededError,
  parseBlockId,
  throwIfAborted,
} from '@libernet/core'
import type { MineJob, MineMessage } from './mine-protocol.ts'

const WORKER_URL = new URL('./mine-worker.ts', import.meta.url)

/** Entries a like answer holds at most (DESIGN §2): past that, a new block must beat the weakest. */
export const LIKE_LIST_SIZE = 100

export interface MiningProgress {
  /** Ids hashed so far, all threads together. */
  attempts: number
  elapsedMs: number
  /** Attempts per second since the start. */
  rate: number
}

export interface MineBlockOptions {
  /** Leading bits the id must share with the target; default 12. */
  minScore?: number
  /** Worker threads; default one per core (`os.availableParallelism()`). */
  threads?: number
  signal?: AbortSignal
  /** Called at most every `progressInterval` ms while mining, and once when a block is found. */
  onProgress?: (progress: MiningProgress) => void
  /** Milliseconds between progress reports; default 100. */
  progressInterval?: number
  /** Give up (MaxAttemptsExceededError) after about this many attempts in all. */
  maxAttempts?: number
}

export interface MinedPassphraseBlock {
  id: BlockId
  /** Hex key, sha256 of the passphrase. */
  key: BlockId
  /** The stored bytes: ciphertext + like suffix. */
  bytes: Uint8Array
  /** Plaintext length. */
  size: number
  score: number
  /** Attempts of all threads until the winner's. */
  attempts: number
  /** `/sha256/{id}/passphrase/{key}` */
  url: string
}

/**
 * The score a new block must reach to be listed for `target`, given the
 * current like answer for it: {@link DEFAULT_LIKE_SCORE}, or one more than
 * the weakest entry once the answer is full.
 */
export function requiredScore(likeAnswer: readonly { score: number }[], listSize = LIKE_LIST_SIZE): number {
  if (likeAnswer.length < listSize) return DEFAULT_LIKE_SCORE
  const weakest = Math.min(...likeAnswer.map((match) => match.score))
  return Math.min(256, Math.max(DEFAULT_LIKE_SCORE, weakest + 1))
}

const ERROR_CLASSES = new Map<string, new (message: string) => Error>(
  Object.values(coreErrors as Record<string, unknown>)
    .filter(
      (value): value is new (message: string) => Error =>
        typeof value === 'function' && value.prototype instanceof Error,
    )
    .map((ErrorClass) => [ErrorClass.name, ErrorClass]),
)

function reviveError(name: string, message: string): Error {
  const ErrorClass = ERROR_CLASSES.get(name)
  if (ErrorClass !== undefined && name !== 'MaxAttemptsExceededError') return new ErrorClass(message)
  const error = new Error(message)
  error.name = name
  return error
}

/**
 * Encodes `plaintext` as a passphrase block whose id shares at least
 * `minScore` leading bits with `target`, mining on `threads` workers.
 * Aborting terminates every worker before the AbortError is thrown.
 */
export async function minePassphraseBlock(
  plaintext: Uint8Array,
  passphrase: string,
  target: BlockId,
  options: MineBlockOptions = {},
): Promise<MinedPassphraseBlock> {
  parseBlockId(target)
  const minScore = options.minScore ?? DEFAULT_LIKE_SCORE
  if (!Number.isInteger(minScore) || minScore < 0 || minScore > 256) {
    throw new RangeError(`minScore must be an integer from 0 to 256, got ${minScore}`)
  }
  const threads = options.threads ?? availableParallelism()
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new RangeError(`threads must be an integer from 1 to 1024, got ${threads}`)
  }
  const { maxAttempts, signal, onProgress } = options
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`)
  }
  const progressInterval = options.progressInterval ?? 100
  throwIfAborted(signal)
  // Encoding here checks the size (and the passphrase) before any thread starts.
  const base = encodePassphrase(plaintext, passphrase)
  const minedLength = base.bytes.byteLength + likeSuffixLength(minScore)
  if (minedLength > MAX_BLOCK_SIZE) {
    throw new BlockTooLargeError(`a mined passphrase block of ${minedLength} bytes exceeds ${MAX_BLOCK_SIZE}`)
  }
  const key = Buffer.from(base.key!, 'hex')

  const started = performance.now()
  const perWorker = maxAttempts === undefined ? undefined : Math.ceil(maxAttempts / threads)
  const attemptsOf = new Array<number>(threads).fill(0)
  const total = () => attemptsOf.reduce((sum, attempts) => sum + attempts, 0)
  const progress = (): MiningProgress => {
    const elapsedMs = performance.now() - started
    const attempts = total()
    return { attempts, elapsedMs, rate: elapsedMs > 0 ? (attempts * 1000) / elapsedMs : 0 }
  }
  let lastReport = started

  const workers: Worker[] = []
  let settled = false
  const stopAll = () => Promise.all(workers.map((worker) => worker.terminate())).then(() => undefined)

  return new Promise<MinedPassphraseBlock>((resolve, reject) => {
    let failures = 0
    let bestScore = 0
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      stopAll().then(outcome, outcome)
    }
    const onAbort = () => settle(() => reject(new AbortError(undefined, { cause: signal?.reason })))
    // A throwing progress callback stops the mining instead of escaping as an uncaught exception.
    const report = (value: MiningProgress): boolean => {
      try {
        onProgress?.(value)
        return true
      } catch (err) {
        settle(() => reject(err))
        return false
      }
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    for (let index = 0; index < threads; index++) {
      const job: MineJob = { plaintext, key, target, minScore }
      if (perWorker !== undefined) job.maxAttempts = perWorker
      const worker = new Worker(WORKER_URL, { workerData: job })
      workers.push(worker)
      worker.on('message', (message: MineMessage) => {
        if (settled) return
        switch (message.type) {
          case 'progress': {
            attemptsOf[index] = message.attempts
            const now = performance.now()
            if (onProgress !== undefined && now - lastReport >= progressInterval) {
              lastReport = now
              report(progress())
            }
            return
          }
          case 'done': {
            attemptsOf[index] = message.attempts
            const final = progress()
            if (!report(final)) return
            const id = message.id
            settle(() =>
              resolve({
                id,
                key: base.key!,
                bytes: message.bytes,
                size: base.size,
                score: message.score,
                attempts: final.attempts,
                url: contentUrl('passphrase', id, base.key!),
              }),
            )
            return
          }
          case 'error': {
            if (message.name !== 'MaxAttemptsExceededError') {
              settle(() => reject(reviveError(message.name, message.message)))
              return
            }
            attemptsOf[index] = message.attempts
            bestScore = Math.max(bestScore, message.bestScore)
            failures++
            if (failures === threads) {
              const attempts = total()
              settle(() =>
                reject(
                  new MaxAttemptsExceededError(
                    `no id with ${minScore} leading bits in common with the target after ${attempts} attempts (best ${bestScore})`,
                    attempts,
                    bestScore,
                  ),
                ),
              )
            }
            return
          }
        }
      })
      worker.on('error', (err) => settle(() => reject(err)))
      worker.on('exit', (code) => {
        // A worker only exits on its own after it has answered; exiting before that is a crash.
        if (!settled && code !== 0) settle(() => reject(new Error(`mining worker exited with code ${code}`)))
      })
    }
  })
}
