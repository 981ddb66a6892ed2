import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LEGACY_MAX_BLOCK_SIZE } from '@libernet/core'
import fc from 'fast-check'
import type { Uint8ArrayList } from 'uint8arraylist'
import { decodeMessage, encodeFrame, encodeMessage, encodeVarint, FrameDecoder, type Message } from '../src/codec.ts'
import { MAX_BLOCK_DATA, MAX_FRAME_SIZE, MAX_IDS_PER_FRAME } from '../src/constants.ts'
import { FrameTooLargeError, ProtocolError } from '../src/errors.ts'
import { Frame } from '../src/pb/message.ts'
import { REFUSAL_REASONS } from '../src/store.ts'

/** Plain-prototype records, so they compare equal to decoded messages. */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true })
}

const id = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'))
const ids = fc.array(id, { maxLength: 20 })
const data = fc.uint8Array({ maxLength: 4096 })

const message: fc.Arbitrary<Message> = fc.oneof(
  record({ type: fc.constant('want' as const), ids, haveOnly: fc.boolean(), cancel: fc.boolean() }),
  record({ type: fc.constant('have' as const), ids }),
  record({ type: fc.constant('dont-have' as const), ids }),
  record({ type: fc.constant('block' as const), id, data }),
  record({ type: fc.constant('store' as const), id, data }),
  record({
    type: fc.constant('stored' as const),
    id,
    outcome: fc.oneof(
      fc.constant({ accepted: true as const }),
      record({
        accepted: fc.constant(false as const),
        reason: fc.constantFrom(...REFUSAL_REASONS),
        detail: fc.string({ maxLength: 100 }),
      }),
    ),
  }),
  record({
    type: fc.constant('like' as const),
    target: id,
    minScore: fc.integer({ min: 0, max: 256 }),
    maxResults: fc.integer({ min: 0, max: 100 }),
  }),
  record({
    type: fc.constant('liked' as const),
    target: id,
    matches: fc.array(record({ id, size: fc.integer({ min: 0, max: LEGACY_MAX_BLOCK_SIZE }) }), { maxLength: 10 }),
  }),
)

function frameBytes(list: Uint8ArrayList): Uint8Array {
  return list.subarray()
}

function decodeAll(chunks: Uint8Array[]): Message[] {
  const decoder = new FrameDecoder()
  const out: Message[] = []
  for (const chunk of chunks) {
    decoder.push(chunk)
    for (let body = decoder.next(); body !== undefined; body = decoder.next()) out.push(decodeMessage(body))
  }
  assert.equal(decoder.bufferedBytes, 0)
  return out
}

/** Cuts bytes at the given offsets. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const point of points) {
    out.push(bytes.subarray(from, point))
    from = point
  }
  out.push(bytes.subarray(from))
  return out.filter((chunk) => chunk.byteLength > 0)
}

describe('codec', () => {
  it('round-trips every message type through frames cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (list, cuts) => {
          const stream = new Uint8Array(Buffer.concat(list.map((item) => frameBytes(encodeFrame(item)))))
          assert.deepEqual(decodeAll(split(stream, cuts)), list)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('writes BLOCK and STORE frames byte-identical to the protons encoding, without copying the data', () => {
    fc.assert(
      fc.property(fc.constantFrom('block' as const, 'store' as const), id, data, (type, blockId, bytes) => {
        const frame = encodeFrame({ type, id: blockId, data: bytes })
        const body = encodeMessage({ type, id: blockId, data: bytes })
        assert.deepEqual(Buffer.from(frameBytes(frame)), Buffer.concat([encodeVarint(body.byteLength), body]))
      }),
      { numRuns: 200 },
    )
    const big = new Uint8Array(1000)
    const frame = encodeFrame({ type: 'block', id: '00'.repeat(32), data: big })
    assert.equal([...frame].at(-1), big, 'the caller’s data is the last chunk of the frame, not a copy')
  })

  it('carries the largest legacy block in a frame within the limit', () => {
    const bytes = new Uint8Array(LEGACY_MAX_BLOCK_SIZE).fill(7)
    const frame = frameBytes(encodeFrame({ type: 'block', id: 'ab'.repeat(32), data: bytes }))
    assert.ok(frame.byteLength < MAX_FRAME_SIZE)
    const [decoded] = decodeAll([frame])
    assert.equal(decoded?.type, 'block')
    assert.equal(decoded.type === 'block' && decoded.data.byteLength, LEGACY_MAX_BLOCK_SIZE)
  })

  it('refuses block data beyond the largest legacy block', () => {
    const body = encodeMessage({ type: 'block', id: 'ab'.repeat(32), data: new Uint8Array(MAX_BLOCK_DATA + 1) })
    assert.throws(() => decodeMessage(body), { name: 'ProtocolError' })
  })

  it('refuses a length prefix beyond the frame limit as soon as it is read', () => {
    const decoder = new FrameDecoder()
    decoder.push(encodeVarint(MAX_FRAME_SIZE + 1))
    assert.throws(
      () => decoder.next(),
      (err: Error) => err instanceof FrameTooLargeError && err.name === 'FrameTooLargeError',
    )
    const endless = new FrameDecoder()
    endless.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))
    assert.throws(() => endless.next(), { name: 'FrameTooLargeError' })
    assert.throws(() => decodeMessage(new Uint8Array(MAX_FRAME_SIZE + 1)), { name: 'FrameTooLargeError' })
  })

  it('refuses empty frames, frames without a body and undecodable frames', () => {
    const empty = new FrameDecoder()
    empty.push(new Uint8Array([0]))
    assert.throws(() => empty.next(), { name: 'ProtocolError' })
    assert.throws(() => decodeMessage(Frame.encode({})), { name: 'ProtocolError' })
    assert.throws(
      () => decodeMessage(new Uint8Array([0x22, 0x05, 0x0a])),
      (err: Error) => err instanceof ProtocolError,
    )
    assert.throws(() => decodeMessage(new Uint8Array([0xff, 0xff, 0xff])), { name: 'ProtocolError' })
  })

  it('refuses ids that are not 32 bytes and frames listing too many ids', () => {
    const short = Frame.encode({ want: { ids: [new Uint8Array(31)], haveOnly: false, cancel: false } })
    assert.throws(() => decodeMessage(short), { name: 'ProtocolError' })
    const long = Frame.encode({ block: { id: new Uint8Array(33), data: new Uint8Array(1) } })
    assert.throws(() => decodeMessage(long), { name: 'ProtocolError' })
    const many = Frame.encode({
      want: {
        ids: Array.from({ length: MAX_IDS_PER_FRAME + 1 }, () => new Uint8Array(32)),
        haveOnly: false,
        cancel: false,
      },
    })
    assert.throws(() => decodeMessage(many), { name: 'ProtocolError' })
  })

  it('reads an unknown refusal reason as "error" and skips unknown fields', () => {
    const stored = Frame.encode({
      stored: { id: new Uint8Array(32), accepted: false, reason: 'full-moon', detail: 'x' },
    })
    assert.deepEqual(decodeMessage(stored), {
      type: 'stored',
      id: '00'.repeat(32),
      outcome: { accepted: false, reason: 'error', detail: 'x' },
    })
    // Field 15 (varint 1) appended: a later version's addition.
    const body = Buffer.concat([Frame.encode({ have: { ids: [new Uint8Array(32)] } }), new Uint8Array([0x78, 0x01])])
    assert.deepEqual(decodeMessage(body), { type: 'have', ids: ['00'.repeat(32)] })
  })

  it('never throws anything but a ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeMessage(bytes)
        } catch (err) {
          assert.ok(err instanceof ProtocolError, String(err))
        }
      }),
      { numRuns: 2000 },
    )
  })
})
