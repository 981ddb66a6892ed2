import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { decodeBlock, encodeConvergent } from '../src/codec/index.ts'
import { AbortError, BlockVerificationError, DecryptionError } from '../src/errors.ts'
import { sha256Hex } from '../src/id.ts'
import { CodecPool } from '../src/worker/index.ts'

describe('CodecPool', () => {
  const pool = new CodecPool({ size: 2 })
  after(() => pool.close())

  it('encodes in workers exactly as on the main thread', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0 ? randomBytes(100_000 + i) : Buffer.from('libernet '.repeat(20_000 + i)),
    )
    const results = await Promise.all(inputs.map((input) => pool.encode('convergent', input)))
    results.forEach((encoded, i) => {
      const local = encodeConvergent(inputs[i]!)
      assert.equal(encoded.id, local.id)
      assert.equal(encoded.key, local.key)
      assert.deepEqual(Buffer.from(encoded.bytes), Buffer.from(local.bytes))
    })
  })

  it('decodes and verifies, transferring buffers when asked', async () => {
    const plaintext = randomBytes(300_000)
    const expected = sha256Hex(plaintext)
    const encoded = encodeConvergent(plaintext)
    assert.equal(await pool.verify(encoded.id, encoded.bytes), true)
    const stored = Uint8Array.from(encoded.bytes)
    const decoded = await pool.decode('convergent', stored, encoded.id, encoded.key, { transfer: true })
    assert.equal(stored.byteLength, 0, 'the transferred input is detached')
    assert.equal(sha256Hex(decoded), expected)
    assert.deepEqual(Buffer.from(decodeBlock('convergent', encoded.bytes, encoded.id, encoded.key)), plaintext)
  })

  it('brings typed errors back across the thread boundary', async () => {
    const encoded = encodeConvergent(Buffer.from('some content'))
    const wrongKey = sha256Hex(Buffer.from('another key'))
    await assert.rejects(pool.decode('convergent', encoded.bytes, encoded.id, wrongKey), DecryptionError)
    const tampered = Uint8Array.from(encoded.bytes)
    tampered[0]! ^= 1
    await assert.rejects(pool.decode('convergent', tampered, encoded.id, encoded.key), BlockVerificationError)
    assert.equal(await pool.verify(encoded.id, tampered), false)
  })

  it('withdraws queued tasks on abort', async () => {
    const controller = new AbortController()
    const big = Array.from({ length: 8 }, () => randomBytes(1_000_000))
    const running = big.map((input) => pool.encode('convergent', input, { signal: controller.signal }))
    controller.abort()
    const settled = await Promise.allSettled(running)
    const aborted = settled.filter((s) => s.status === 'rejected' && s.reason instanceof AbortError)
    assert.ok(aborted.length >= 4, `most queued tasks are withdrawn (${aborted.length} of ${settled.length})`)
    await assert.rejects(pool.encode('convergent', big[0]!, { signal: controller.signal }), AbortError)
  })

  it('refuses work after close', async () => {
    const closing = new CodecPool({ size: 1 })
    await closing.close()
    await assert.rejects(closing.encode('plain', new Uint8Array(1)), AbortError)
  })
})
