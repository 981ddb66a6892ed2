/**
 * Worker thread body of {@link minePassphraseBlock}: mines with core's
 * `mineLike` (its suffixes come from the CSPRNG, so workers never repeat
 * each other's attempts) and reports progress until it wins or is terminated.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { MaxAttemptsExceededError, mineLike } from '@libernet/core'
import type { MineJob, MineMessage } from './mine-protocol.ts'

const port = parentPort
if (port === null) throw new Error('mine-worker.ts must run in a worker thread')
const job = workerData as MineJob

function send(message: MineMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer)
}

try {
  const block = await mineLike('passphrase', job.plaintext, job.target, {
    passphrase: job.key,
    minScore: job.minScore,
    ...(job.maxAttempts !== undefined ? { maxAttempts: job.maxAttempts } : {}),
    onProgress: (attempts) => send({ type: 'progress', attempts }),
  })
  const bytes = new Uint8Array(block.bytes)
  send({ type: 'done', id: block.id, bytes, score: block.score, attempts: block.attempts }, [bytes.buffer])
} catch (err) {
  const error = err instanceof Error ? err : new Error(String(err))
  const exceeded = err instanceof MaxAttemptsExceededError ? err : undefined
  send({
    type: 'error',
    name: error.name,
    message: error.message,
    attempts: exceeded?.attempts ?? 0,
    bestScore: exceeded?.bestScore ?? 0,
  })
}
