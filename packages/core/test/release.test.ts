import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { decodeConvergent, encodeConvergent, releaseBuffer } from '../src/codec/index.ts'

describe('releaseBuffer', () => {
  it("frees a large buffer's memory at once, emptying every view of it", () => {
    const bytes = new Uint8Array(1024 * 1024).fill(7)
    const view = bytes.subarray(10, 20)
    releaseBuffer(bytes)
    assert.equal(bytes.buffer.byteLength, 0)
    assert.equal(bytes.byteLength, 0)
    assert.equal(view.byteLength, 0)
  })

  it("leaves small buffers alone: they may share Node's Buffer pool with others", () => {
    const pooled = Buffer.from('pooled bytes')
    const neighbour = Buffer.from('a neighbour in the same pool')
    assert.equal(pooled.buffer, neighbour.buffer, 'the test needs two Buffers from one pool')
    releaseBuffer(pooled)
    releaseBuffer(new Uint8Array(16 * 1024))
    assert.equal(pooled.toString(), 'pooled bytes')
    assert.equal(neighbour.toString(), 'a neighbour in the same pool')
  })

  it('leaves shared memory alone', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(1024 * 1024))
    releaseBuffer(shared)
    assert.equal(shared.byteLength, 1024 * 1024)
  })

  it('keeps the plaintext of a compressed block intact when it frees the decrypted bytes', () => {
    const plaintext = new TextEncoder().encode('compressible text, '.repeat(20_000))
    const block = encodeConvergent(plaintext)
    assert.ok(block.bytes.byteLength < plaintext.byteLength / 2, 'the block must be compressed for this test')
    assert.deepEqual(decodeConvergent(block.bytes, block.key!, { id: block.id }), plaintext)
  })

  it('lets a thread encode block after block without holding their output until a collection', async () => {
    // In a fresh worker nothing collects 64 MiB of dead cipher output for a while (68 MB were held without
    // releaseBuffer): only releasing it keeps it small.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       import(workerData.codec).then(({ encodeConvergent, releaseBuffer }) => {
         const chunk = new Uint8Array(workerData.random)
         let most = 0
         for (let i = 0; i < 64; i++) {
           chunk[0] = i
           const block = encodeConvergent(chunk)
           releaseBuffer(block.bytes)
           most = Math.max(most, process.memoryUsage().arrayBuffers)
         }
         parentPort.postMessage(most)
       })`,
      {
        eval: true,
        workerData: {
          codec: new URL('../src/codec/index.ts', import.meta.url).href,
          random: randomBytes(1024 * 1024 - 16).buffer,
        },
      },
    )
    try {
      const most = (await new Promise((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })) as number
      assert.ok(most < 16 * 1024 * 1024, `${most} bytes of buffers at most`)
    } finally {
      await worker.terminate()
    }
  })
})
