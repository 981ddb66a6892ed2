/**
 * Worker thread body of the {@link CodecPool}: runs codec tasks and sends the
 * results back, transferring buffers instead of copying them.
 */
import { parentPort } from 'node:worker_threads'
import { decodeBlock, encodeConvergent, encodePassphrase, encodePlain, isValidStoredBlock } from '../codec/index.ts'
import { decodeStoredFile, sharesReadBuffer } from './read-stored-file.ts'
import { type CodecResult, type CodecTask, ownedBuffer, type TaskRequest, type TaskResponse } from './tasks.ts'

function run(task: CodecTask): CodecResult {
  switch (task.op) {
    case 'encode':
      if (task.mode === 'convergent') return encodeConvergent(task.plaintext, task.options)
      if (task.mode === 'plain') return encodePlain(task.plaintext, task.options)
      if (task.passphrase === undefined) throw new TypeError('a passphrase block needs a passphrase or key')
      return encodePassphrase(task.plaintext, task.passphrase)
    case 'decode':
      return decodeBlock(task.mode, task.stored, task.id, task.key, decodeOptions(task))
    case 'verify':
      return isValidStoredBlock(task.id, task.stored)
    case 'decodeFile': {
      const plaintext = decodeStoredFile(task.mode, task.file, task.id, task.key, decodeOptions(task))
      // A plain block may decode to the very bytes read, which the next task overwrites.
      return sharesReadBuffer(plaintext) ? plaintext.slice() : plaintext
    }
  }
}

function decodeOptions(task: { mined?: boolean; size?: number }): { mined: boolean; size?: number } {
  return task.size !== undefined ? { mined: task.mined === true, size: task.size } : { mined: task.mined === true }
}

function transferables(result: CodecResult): ArrayBuffer[] {
  if (typeof result === 'boolean') return []
  return ownedBuffer(result instanceof Uint8Array ? result : result.bytes)
}

const port = parentPort
if (port === null) throw new Error('codec-worker.ts must run in a worker thread')

port.on('message', ({ seq, task }: TaskRequest) => {
  let response: TaskResponse
  let transfer: ArrayBuffer[] = []
  try {
    const result = run(task)
    response = { seq, ok: true, result }
    transfer = transferables(result)
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    response = { seq, ok: false, error: { name: error.name, message: error.message } }
  }
  port.postMessage(response, transfer)
})
