import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  chunkFastCdc,
  chunkFixed,
  DEFAULT_FASTCDC_PARAMS,
  type FastCdcParams,
  fastCdcParams,
  findCutPoint,
  gearTable,
} from '../src/chunker/index.ts'
import { LEGACY_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../src/constants.ts'

/** xorshift32, top byte of each step: a fixed pseudo-random input for a seed. */
function seededBytes(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x >>> 24
  }
  return bytes
}

/** Yields `data` cut at the given offsets (unsorted, duplicates allowed: they make empty pieces). */
async function* piecesOf(data: Uint8Array, splits: readonly number[] = []): AsyncGenerator<Uint8Array> {
  const offsets = [...splits.map((split) => Math.min(split, data.length)), data.length].sort((a, b) => a - b)
  let start = 0
  for (const offset of offsets) {
    yield data.subarray(start, offset)
    start = offset
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const chunk of chunks) out.push(chunk)
  return out
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** Compares bytes without assert's element-wise diff, which takes minutes on a failure over megabytes. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return
  let index = 0
  while (index < actual.length && index < expected.length && actual[index] === expected[index]) index++
  assert.fail(`${what} differ at byte ${index} (lengths ${actual.length} and ${expected.length})`)
}

function assertSameChunks(actual: readonly Uint8Array[], expected: readonly Uint8Array[]): void {
  assert.deepEqual(
    actual.map((chunk) => chunk.length),
    expected.map((chunk) => chunk.length),
  )
  for (const [index, chunk] of actual.entries()) assertSameBytes(chunk, expected[index]!, `chunk ${index}`)
}

function lengthsByFindCutPoint(data: Uint8Array, params: FastCdcParams): number[] {
  const lengths: number[] = []
  for (let start = 0; start < data.length; ) {
    const cut = findCutPoint(data, start, data.length, params)
    lengths.push(cut - start)
    start = cut
  }
  return lengths
}

/** Chunks present at the end of both lists, compared by content. */
function commonSuffix(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  let count = 0
  while (count < a.length && count < b.length) {
    const x = a[a.length - 1 - count]!
    const y = b[b.length - 1 - count]!
    if (!Buffer.from(x).equals(y)) break
    count++
  }
  return count
}

/**
 * FastCDC written as plainly as the paper does it: one byte per step, 64-bit
 * table entries reduced to their high halves, arithmetic on ordinary numbers.
 */
const GEAR_HIGH = Array.from(gearTable(), (entry) => Number(entry >> 32n))
function referenceCutPoint(data: Uint8Array, start: number, end: number, params: FastCdcParams): number {
  const length = end - start
  if (length <= params.min) return end
  const limit = Math.min(length, params.max)
  const normal = Math.min(limit, params.avg)
  const bits = Math.log2(params.avg)
  const maskEndingAtBit30 = (width: number) => (2 ** width - 1) * 2 ** (31 - width)
  const maskSmall = maskEndingAtBit30(bits + 2)
  const maskLarge = maskEndingAtBit30(bits - 2)
  let hash = 0
  for (let i = params.min; i < limit; i++) {
    hash = (hash * 2 + GEAR_HIGH[data[start + i]!]!) % 2 ** 32
    if ((hash & (i < normal ? maskSmall : maskLarge)) === 0) return start + i
  }
  return start + limit
}

const smallParams = fc.oneof(
  fc.constant({ min: 64, avg: 256, max: 1024 }),
  fc.constant({ min: 1, avg: 16, max: 17 }),
  fc.constant({ min: 100, avg: 128, max: 129 }),
  fc.constant({ min: 255, avg: 512, max: 4000 }),
  fc.constant({ min: 1000, avg: 1024, max: 1025 }),
)

describe('gear table', () => {
  function splitMix64(seed: bigint, count: number): bigint[] {
    const u64 = 2n ** 64n - 1n
    const out: bigint[] = []
    let state = seed
    for (let i = 0; i < count; i++) {
      state = (state + 0x9e3779b97f4a7c15n) & u64
      let z = state
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & u64
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & u64
      out.push(z ^ (z >> 31n))
    }
    return out
  }

  it('is SplitMix64 seeded with the ASCII bytes of "Libernet", as documented', () => {
    // The published test vector of SplitMix64 for seed 1234567 keeps this generator honest.
    assert.deepEqual(splitMix64(1234567n, 3), [6457827717110365317n, 3203168211198807973n, 9817491932198370423n])
    const seed = BigInt(`0x${Buffer.from('Libernet').toString('hex')}`)
    assert.deepEqual([...gearTable()], splitMix64(seed, 256))
  })

  it('never changes (chunk boundaries depend on it)', () => {
    const table = gearTable()
    assert.equal(table.length, 256)
    assert.equal(table[0], 0x7187622440511f14n)
    assert.equal(table[1], 0xcf1236da7cfa9509n)
    assert.equal(table[255], 0xa2062bf7adb39c1an)
    assert.equal(new Set(GEAR_HIGH).size, 256)
  })

  it('hands out a copy', () => {
    const data = seededBytes(5, 1 << 20)
    const before = lengthsByFindCutPoint(data, DEFAULT_FASTCDC_PARAMS)
    gearTable().fill(0n)
    assert.deepEqual(lengthsByFindCutPoint(data, DEFAULT_FASTCDC_PARAMS), before)
  })
})

describe('findCutPoint', () => {
  it('agrees with a byte-at-a-time reference implementation of FastCDC', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(20_000), fc.nat(300), smallParams, (seed, length, start0, params) => {
        const data = seededBytes(seed, length)
        const start = Math.min(start0, length)
        for (let position = start; position < length; ) {
          const cut = findCutPoint(data, position, length, params)
          assert.equal(cut, referenceCutPoint(data, position, length, params))
          position = cut
        }
      }),
    )
  })

  it('agrees with the reference on the default parameters over a few MiB', () => {
    const data = seededBytes(99, 3 << 20)
    for (let position = 0; position < data.length; ) {
      const cut = findCutPoint(data, position, data.length, DEFAULT_FASTCDC_PARAMS)
      assert.equal(cut, referenceCutPoint(data, position, data.length, DEFAULT_FASTCDC_PARAMS))
      position = cut
    }
  })

  it('works on a region of a larger array and on Buffers', () => {
    const data = seededBytes(3, 10_000)
    const params = { min: 64, avg: 256, max: 1024 }
    const inner = findCutPoint(data, 500, 9000, params)
    assert.equal(inner, referenceCutPoint(data, 500, 9000, params))
    assert.equal(findCutPoint(Buffer.from(data), 500, 9000, params), inner)
    assert.equal(findCutPoint(data, 700, 700, params), 700)
    assert.equal(findCutPoint(data, 700, 760, params), 760)
  })

  it('refuses bad params and bad indices', () => {
    const data = new Uint8Array(100)
    assert.throws(() => findCutPoint(data, 0, 100, { min: 10, avg: 24, max: 64 }), {
      name: 'InvalidChunkerOptionsError',
    })
    for (const [start, end] of [
      [-1, 10],
      [20, 10],
      [0, 101],
      [0.5, 10],
      [0, Number.NaN],
    ] as const) {
      assert.throws(() => findCutPoint(data, start, end, DEFAULT_FASTCDC_PARAMS), RangeError)
    }
  })
})

describe('chunkFastCdc', () => {
  it('reassembles the input, keeps sizes within [min, max] and ignores how the input is split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.nat(16_000),
        smallParams,
        fc.array(fc.nat(16_000), { maxLength: 40 }),
        async (seed, length, params, splits) => {
          const data = seededBytes(seed, length)
          const whole = await collect(chunkFastCdc([data], params))
          const split = await collect(chunkFastCdc(piecesOf(data, splits), params))
          assertSameBytes(concat(split), data)
          assertSameChunks(split, whole)
          if (length === 0) {
            assertSameChunks(split, [new Uint8Array(0)])
            return
          }
          assert.deepEqual(
            split.map((chunk) => chunk.length),
            lengthsByFindCutPoint(data, params),
          )
          for (const [index, chunk] of split.entries()) {
            assert.ok(chunk.length <= params.max)
            if (index < split.length - 1) assert.ok(chunk.length >= params.min)
            else assert.ok(chunk.length >= 1)
          }
        },
      ),
    )
  })

  it('gives the same chunks for one-byte pieces and one big piece', async () => {
    const params = { min: 64, avg: 256, max: 1024 }
    const data = seededBytes(11, 20_000)
    function* oneByteAtATime(): Generator<Uint8Array> {
      for (const byte of data) yield Uint8Array.of(byte)
    }
    const bytewise = await collect(chunkFastCdc(oneByteAtATime(), params))
    assertSameChunks(bytewise, await collect(chunkFastCdc([data], params)))
    assert.ok(bytewise.length > 20)
  })

  it('cuts a fixed input at fixed places (regression guard)', async () => {
    const defaults = await collect(chunkFastCdc(piecesOf(seededBytes(2024, 3 << 20), [100_000, 1_500_000])))
    assert.deepEqual(
      defaults.map((chunk) => chunk.length),
      [295604, 283220, 438701, 293102, 541255, 286830, 345525, 292973, 326335, 42183],
    )
    const small = await collect(chunkFastCdc([seededBytes(7, 6000)], { min: 64, avg: 256, max: 1024 }))
    assert.deepEqual(
      small.map((chunk) => chunk.length),
      [414, 405, 290, 297, 74, 317, 299, 256, 105, 305, 315, 368, 271, 325, 370, 260, 319, 327, 258, 261, 164],
    )
  })

  it('keeps the chunks after an insertion or a deletion near the start', async () => {
    const original = seededBytes(77, 6 << 20)
    const inserted = concat([original.subarray(0, 1000), Uint8Array.of(1, 2, 3, 4, 5, 6, 7), original.subarray(1000)])
    const deleted = concat([original.subarray(0, 3000), original.subarray(3005)])
    const before = await collect(chunkFastCdc([original]))
    assert.ok(before.length >= 15)
    for (const edited of [inserted, deleted]) {
      const after = await collect(chunkFastCdc(piecesOf(edited, [65_536, 131_072])))
      const kept = commonSuffix(before, after)
      assert.ok(kept >= before.length - 2, `only ${kept} of ${before.length} chunks kept`)
      assert.ok(kept >= after.length - 2)
    }

    const fixedBefore = await collect(chunkFixed([original], { size: 256 * 1024 }))
    const fixedAfter = await collect(chunkFixed([inserted], { size: 256 * 1024 }))
    const unchanged = fixedBefore.filter((chunk, index) =>
      Buffer.from(chunk).equals(fixedAfter[index] ?? new Uint8Array()),
    )
    assert.equal(unchanged.length, 0, 'every fixed-size chunk shifts')
  })

  it('yields one empty chunk for an empty input, or none when asked', async () => {
    assertSameChunks(await collect(chunkFastCdc([])), [new Uint8Array(0)])
    assertSameChunks(await collect(chunkFastCdc([new Uint8Array(0), new Uint8Array(0)])), [new Uint8Array(0)])
    assertSameChunks(await collect(chunkFastCdc([], { emptyChunk: false })), [])
  })

  it('yields an input shorter than min as one chunk', async () => {
    const data = seededBytes(1, 1000)
    assertSameChunks(await collect(chunkFastCdc(piecesOf(data, [10, 500]))), [data])
  })

  it('cuts at exactly max when the content offers no cut point', async () => {
    const max = DEFAULT_FASTCDC_PARAMS.max
    const zeros = new Uint8Array(max + 1)
    const exact = await collect(chunkFastCdc([zeros.subarray(0, max)]))
    assert.deepEqual(
      exact.map((chunk) => chunk.length),
      [max],
    )
    const over = await collect(chunkFastCdc(piecesOf(zeros, [max - 1])))
    assert.deepEqual(
      over.map((chunk) => chunk.length),
      [max, 1],
    )
  })

  it('yields chunks that own their memory, even when the source reuses its buffer', async () => {
    const params = { min: 64, avg: 256, max: 1024 }
    const data = seededBytes(21, 50_000)
    const reused = Buffer.alloc(777)
    async function* overwritingSource(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < data.length; offset += reused.length) {
        const piece = data.subarray(offset, offset + reused.length)
        reused.set(piece)
        yield reused.subarray(0, piece.length)
        reused.fill(0xee)
      }
    }
    const chunks = await collect(chunkFastCdc(overwritingSource(), params))
    assertSameBytes(concat(chunks), data)
    assertSameChunks(chunks, await collect(chunkFastCdc([data], params)))
    for (const chunk of chunks) {
      assert.equal(chunk.constructor, Uint8Array)
      assert.equal(chunk.byteOffset, 0)
      assert.equal(chunk.buffer.byteLength, chunk.length)
    }
  })

  it('refuses bad options when called', () => {
    const bad = [
      { min: 0 },
      { min: -1 },
      { min: 1.5 },
      { min: Number.NaN },
      { avg: Number.POSITIVE_INFINITY },
      { min: 256 * 1024 },
      { min: 512 * 1024 },
      { avg: 300 * 1024 },
      { avg: 8, min: 1, max: 64 },
      { avg: 1 << 20 },
      { max: 256 * 1024 },
      { max: MAX_CHUNK_SIZE + 1 },
      { max: LEGACY_CHUNK_SIZE },
    ]
    for (const options of bad) {
      assert.throws(() => chunkFastCdc([], options), { name: 'InvalidChunkerOptionsError' }, JSON.stringify(options))
      assert.throws(() => fastCdcParams(options), {
        name: 'InvalidChunkerOptionsError',
        code: 'ERR_INVALID_CHUNKER_OPTIONS',
      })
    }
    assert.deepEqual(fastCdcParams(), DEFAULT_FASTCDC_PARAMS)
    assert.deepEqual(fastCdcParams({ min: 1, avg: 16, max: 17 }), { min: 1, avg: 16, max: 17 })
    assert.deepEqual(fastCdcParams({ avg: 512 * 1024 }), { ...DEFAULT_FASTCDC_PARAMS, avg: 512 * 1024 })
  })

  it('refuses pieces that are not bytes', async () => {
    const source = ['text'] as unknown as Uint8Array[]
    await assert.rejects(collect(chunkFastCdc(source)), TypeError)
  })

  it('stops with AbortError when aborted before or during chunking', async () => {
    const aborted = AbortSignal.abort(new Error('stop'))
    await assert.rejects(collect(chunkFastCdc([new Uint8Array(10)], { signal: aborted })), { name: 'AbortError' })

    const controller = new AbortController()
    const params = { min: 64, avg: 256, max: 1024, signal: controller.signal }
    const chunks = chunkFastCdc([seededBytes(4, 10_000)], params)
    const first = await chunks.next()
    assert.equal(first.done, false)
    controller.abort()
    await assert.rejects(chunks.next(), (error: Error) => {
      assert.equal(error.name, 'AbortError')
      assert.equal((error.cause as Error).name, 'AbortError')
      return true
    })
  })
})

describe('chunkFixed', () => {
  it('cuts exact sizes, reassembles the input and ignores how the input is split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.nat(10_000),
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.nat(10_000), { maxLength: 40 }),
        async (seed, length, size, splits) => {
          const data = seededBytes(seed, length)
          const chunks = await collect(chunkFixed(piecesOf(data, splits), { size }))
          assertSameBytes(concat(chunks), data)
          assertSameChunks(chunks, await collect(chunkFixed([data], { size })))
          assert.equal(chunks.length, Math.max(1, Math.ceil(length / size)))
          for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.length, size)
          if (length > 0) assert.ok(chunks.at(-1)!.length >= 1)
        },
      ),
    )
  })

  it('defaults to the current chunk size and accepts the 2022 one', async () => {
    const data = seededBytes(8, 2 * LEGACY_CHUNK_SIZE + 5)
    const current = await collect(chunkFixed(piecesOf(data, [1, 65_536, 1_048_570])))
    assert.deepEqual(
      current.map((chunk) => chunk.length),
      [MAX_CHUNK_SIZE, MAX_CHUNK_SIZE, data.length - 2 * MAX_CHUNK_SIZE],
    )
    const legacy = await collect(chunkFixed([data], { size: LEGACY_CHUNK_SIZE }))
    assert.deepEqual(
      legacy.map((chunk) => chunk.length),
      [LEGACY_CHUNK_SIZE, LEGACY_CHUNK_SIZE, 5],
    )
  })

  it('yields exactly size bytes as one chunk, size + 1 as two', async () => {
    const data = seededBytes(9, 101)
    assertSameChunks(await collect(chunkFixed([data.subarray(0, 100)], { size: 100 })), [data.subarray(0, 100)])
    assertSameChunks(await collect(chunkFixed(piecesOf(data, [99]), { size: 100 })), [
      data.subarray(0, 100),
      data.subarray(100),
    ])
  })

  it('yields one empty chunk for an empty input by default, none when asked', async () => {
    assertSameChunks(await collect(chunkFixed([])), [new Uint8Array(0)])
    assertSameChunks(await collect(chunkFixed([new Uint8Array(0)], { emptyChunk: true })), [new Uint8Array(0)])
    assertSameChunks(await collect(chunkFixed([new Uint8Array(0)], { emptyChunk: false })), [])
  })

  it('yields chunks that own their memory, even when the source reuses its buffer', async () => {
    const data = seededBytes(22, 10_000)
    const reused = new Uint8Array(333)
    async function* overwritingSource(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < data.length; offset += reused.length) {
        const piece = data.subarray(offset, offset + reused.length)
        reused.set(piece)
        yield reused.subarray(0, piece.length)
        reused.fill(0xee)
      }
    }
    const chunks = await collect(chunkFixed(overwritingSource(), { size: 1000 }))
    assertSameBytes(concat(chunks), data)
    for (const chunk of chunks) assert.equal(chunk.buffer.byteLength, chunk.length)
  })

  it('refuses bad sizes when called', () => {
    for (const size of [0, -1, 1.5, Number.NaN, LEGACY_CHUNK_SIZE + 1, Number.POSITIVE_INFINITY]) {
      assert.throws(() => chunkFixed([], { size }), { name: 'InvalidChunkerOptionsError' }, String(size))
    }
  })

  it('stops with AbortError when aborted before or during chunking', async () => {
    await assert.rejects(collect(chunkFixed([], { signal: AbortSignal.abort() })), { name: 'AbortError' })
    const controller = new AbortController()
    const chunks = chunkFixed([new Uint8Array(300)], { size: 100, signal: controller.signal })
    assert.equal((await chunks.next()).done, false)
    controller.abort()
    await assert.rejects(chunks.next(), { name: 'AbortError' })
  })
})
