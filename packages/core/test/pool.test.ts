import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import { decodeBlock, encodeConvergent, encodePlain } from '../src/codec/index.ts'
import { AbortError, BlockTooLargeError, BlockVerificationError, DecryptionError } from '../src/errors.ts'
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

  describe('decodeFile', () => {
    const directory = mkdtempSync(join(tmpdir(), 'libernet-pool-'))
    after(() => rmSync(directory, { recursive: true, force: true }))
    const storedFile = (name: string, bytes: Uint8Array) => {
      const path = join(directory, name)
      writeFileSync(path, bytes)
      return { path, size: bytes.byteLength }
    }

    it('reads and decodes a block file in the worker, convergent and plain', async () => {
      const plaintext = randomBytes(1_000_000)
      const convergent = encodeConvergent(plaintext)
      const decoded = await pool.decodeFile(
        'convergent',
        storedFile('convergent', convergent.bytes),
        convergent.id,
        convergent.key,
      )
      assert.deepEqual(Buffer.from(decoded), plaintext)
      const plain = encodePlain(Buffer.from('plain text '.repeat(1000)))
      const plainDecoded = await pool.decodeFile('plain', storedFile('plain', plain.bytes), plain.id)
      assert.equal(Buffer.from(plainDecoded).toString(), 'plain text '.repeat(1000))
    })

    it('returns results that later reads in the same worker do not overwrite', async () => {
      // Stored uncompressed, a plain block decodes to the very bytes read; large enough to be moved rather than copied to the main thread, it would take the read buffer along.
      const blocks = Array.from({ length: 6 }, (_, i) => encodePlain(randomBytes(700_000 + i)))
      const files = blocks.map((block, i) => storedFile(`plain-${i}`, block.bytes))
      const single = new CodecPool({ size: 1, tasksPerWorker: 4 })
      try {
        const decoded = await Promise.all(blocks.map((block, i) => single.decodeFile('plain', files[i]!, block.id)))
        assert.deepEqual(
          decoded.map((bytes) => sha256Hex(bytes)),
          blocks.map((block) => block.id),
        )
      } finally {
        await single.close()
      }
    })

    it('refuses a file of another size, a tampered or missing file, and an impossible size', async () => {
      const encoded = encodeConvergent(randomBytes(4096))
      const file = storedFile('sized', encoded.bytes)
      await assert.rejects(
        pool.decodeFile('convergent', { path: file.path, size: file.size - 16 }, encoded.id, encoded.key),
        (err: Error) => err.name === 'BlockVerificationError' && /more than/.test(err.message),
      )
      await assert.rejects(
        pool.decodeFile('convergent', { path: file.path, size: file.size + 16 }, encoded.id, encoded.key),
        BlockVerificationError,
      )
      const tampered = Uint8Array.from(encoded.bytes)
      tampered[100]! ^= 1
      await assert.rejects(
        pool.decodeFile('convergent', storedFile('tampered', tampered), encoded.id, encoded.key),
        BlockVerificationError,
      )
      await assert.rejects(
        pool.decodeFile('convergent', { path: join(directory, 'absent'), size: 4112 }, encoded.id, encoded.key),
        (err: Error) => /ENOENT/.test(err.message),
      )
      await assert.rejects(
        pool.decodeFile('convergent', { path: file.path, size: 2 ** 21 }, encoded.id, encoded.key),
        BlockTooLargeError,
      )
      const wrongKey = sha256Hex(Buffer.from('another key'))
      await assert.rejects(pool.decodeFile('convergent', file, encoded.id, wrongKey), DecryptionError)
    })
    it('checks a recorded CRC-32 instead of hashing a convergent block, and still never decodes wrongly', async () => {
      const plaintext = randomBytes(200_000)
      // Random bytes start like a zlib stream once in about 2,000 runs; a tampered block would then fail to inflate
      // (DecompressionError, just as safe) before it fails its key. The first byte here rules that out.
      plaintext[0] = 0
      const encoded = encodeConvergent(plaintext)
      const file = { ...storedFile('crc', encoded.bytes), crc: crc32(encoded.bytes) }
      assert.deepEqual(Buffer.from(await pool.decodeFile('convergent', file, encoded.id, encoded.key)), plaintext)
      await assert.rejects(
        pool.decodeFile('convergent', { ...file, crc: (file.crc + 1) >>> 0 }, encoded.id, encoded.key),
        (err: Error) => err.name === 'BlockVerificationError' && /CRC-32/.test(err.message),
      )
      // Bytes changed on disk together with a CRC that matches them: the plaintext no longer hashes to the key.
      const tampered = Uint8Array.from(encoded.bytes)
      tampered[1000]! ^= 0x10
      const forged = { ...storedFile('forged', tampered), crc: crc32(tampered) }
      await assert.rejects(pool.decodeFile('convergent', forged, encoded.id, encoded.key), DecryptionError)
      // Other modes are hashed against the id whatever the CRC says.
      const plain = encodePlain(randomBytes(3000))
      const wrongPlain = Uint8Array.from(plain.bytes)
      wrongPlain[wrongPlain.length - 1]! ^= 1
      const plainFile = { ...storedFile('plain-crc', wrongPlain), crc: crc32(wrongPlain) }
      await assert.rejects(pool.decodeFile('plain', plainFile, plain.id), BlockVerificationError)
    })

    it('fails on a FIFO where a block file belongs instead of blocking the worker', { timeout: 10_000 }, async () => {
      const encoded = encodeConvergent(randomBytes(4096))
      const path = join(directory, 'fifo')
      execFileSync('mkfifo', [path])
      // Whatever the error (a pipe cannot be read at an offset), the caller falls back to the store's read.
      await assert.rejects(
        pool.decodeFile('convergent', { path, size: encoded.bytes.byteLength }, encoded.id, encoded.key),
        /ESPIPE/,
      )
      // The worker is free again.
      const file = storedFile('after-fifo', encoded.bytes)
      assert.equal((await pool.decodeFile('convergent', file, encoded.id, encoded.key)).byteLength, 4096)
    })
  })

  it('refuses work after close', async () => {
    const closing = new CodecPool({ size: 1 })
    await closing.close()
    await assert.rejects(closing.encode('plain', new Uint8Array(1)), AbortError)
  })
})
