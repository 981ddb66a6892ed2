import type { BlockId } from '@libernet/core'
import { bytesToId, idToBytes } from '@libernet/core'
import { Uint8ArrayList } from 'uint8arraylist'
import { ID_BYTES, MAX_BLOCK_DATA, MAX_FRAME_SIZE, MAX_IDS_PER_FRAME } from './constants.ts'
import { FrameTooLargeError, ProtocolError } from './errors.ts'
import { type Frame, Frame as FrameCodec } from './pb/message.ts'
import { type LikeMatch, REFUSAL_REASONS, type RefusalReason, type StoreOutcome } from './store.ts'

/** A decoded, validated frame: ids are block ids, sizes are in range, exactly one body is set. */
export type Message =
  | { type: 'want'; ids: BlockId[]; haveOnly: boolean; cancel: boolean }
  | { type: 'have'; ids: BlockId[] }
  | { type: 'dont-have'; ids: BlockId[] }
  | { type: 'block'; id: BlockId; data: Uint8Array }
  | { type: 'store'; id: BlockId; data: Uint8Array }
  | { type: 'stored'; id: BlockId; outcome: StoreOutcome }
  | { type: 'like'; target: BlockId; minScore: number; maxResults: number }
  | { type: 'liked'; target: BlockId; matches: LikeMatch[] }

export type MessageType = Message['type']

/** Requests travel client → server; everything else answers them. */
export const REQUEST_TYPES: ReadonlySet<MessageType> = new Set(['want', 'store', 'like'])

/** The protobuf body of a message, without its length prefix. */
export function encodeMessage(message: Message): Uint8Array {
  return FrameCodec.encode(toFrame(message))
}

/**
 * A message with its varint length prefix, ready for `stream.send`. BLOCK and
 * STORE frames are assembled around the caller's data instead of copying a
 * megabyte into a fresh buffer; the bytes are identical to what protons writes.
 */
export function encodeFrame(message: Message): Uint8ArrayList {
  if (message.type === 'block' || message.type === 'store') {
    return encodeBlockFrame(message.type === 'block' ? BLOCK_FIELD : STORE_FIELD, message.id, message.data)
  }
  const body = encodeMessage(message)
  return new Uint8ArrayList(encodeVarint(body.byteLength), body)
}

/** Decodes and validates one frame body; anything malformed is a {@link ProtocolError}. */
export function decodeMessage(body: Uint8Array | Uint8ArrayList): Message {
  if (body.byteLength > MAX_FRAME_SIZE) {
    throw new FrameTooLargeError(`frame of ${body.byteLength} bytes exceeds ${MAX_FRAME_SIZE}`)
  }
  let frame: Frame
  try {
    frame = FrameCodec.decode(body)
  } catch (err) {
    throw new ProtocolError(`undecodable frame: ${(err as Error).message}`, { cause: err })
  }
  return fromFrame(frame)
}

/**
 * Splits incoming bytes into frame bodies. Pull-based, so a reader that is
 * busy can leave complete frames buffered and stop reading the stream.
 */
export class FrameDecoder {
  readonly #buffer = new Uint8ArrayList()

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buffer.byteLength
  }

  push(chunk: Uint8Array | Uint8ArrayList): void {
    this.#buffer.append(chunk)
  }

  /** The next complete frame body, or undefined until more bytes arrive. Throws on a bad length prefix. */
  next(): Uint8ArrayList | undefined {
    const buffer = this.#buffer
    let length = 0
    let prefix = 0
    for (;;) {
      if (prefix === buffer.byteLength) return undefined
      const byte = buffer.get(prefix)
      length += (byte & 0x7f) * 2 ** (7 * prefix)
      prefix++
      if ((byte & 0x80) === 0) break
      // Four varint bytes already describe 256 MiB: anything longer is garbage.
      if (prefix === 4) throw new FrameTooLargeError('frame length prefix longer than 4 bytes')
    }
    if (length > MAX_FRAME_SIZE) {
      throw new FrameTooLargeError(`frame of ${length} bytes exceeds ${MAX_FRAME_SIZE}`)
    }
    if (length === 0) throw new ProtocolError('empty frame')
    if (buffer.byteLength < prefix + length) return undefined
    const body = buffer.sublist(prefix, prefix + length)
    buffer.consume(prefix + length)
    return body
  }
}

const BLOCK_FIELD = 4
const STORE_FIELD = 5

function encodeBlockFrame(field: number, id: BlockId, data: Uint8Array): Uint8ArrayList {
  const dataField = data.byteLength > 0 ? 1 + varintLength(data.byteLength) + data.byteLength : 0
  const inner = 2 + ID_BYTES + dataField
  const outer = 1 + varintLength(inner) + inner
  const prefix = encodeVarint(outer)
  const header = new Uint8Array(prefix.byteLength + outer - data.byteLength)
  let at = 0
  header.set(prefix, at)
  at += prefix.byteLength
  header[at++] = (field << 3) | 2
  at = writeVarint(header, at, inner)
  header[at++] = (1 << 3) | 2
  header[at++] = ID_BYTES
  header.set(idToBytes(id), at)
  at += ID_BYTES
  if (data.byteLength === 0) return new Uint8ArrayList(header)
  header[at++] = (2 << 3) | 2
  writeVarint(header, at, data.byteLength)
  return new Uint8ArrayList(header, data)
}

function varintLength(value: number): number {
  let length = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    length++
  }
  return length
}

function writeVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 0x80)
  }
  target[at++] = value
  return at
}

export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value))
  writeVarint(out, 0, value)
  return out
}

function toFrame(message: Message): Partial<Frame> {
  switch (message.type) {
    case 'want':
      return { want: { ids: message.ids.map(idToWire), haveOnly: message.haveOnly, cancel: message.cancel } }
    case 'have':
      return { have: { ids: message.ids.map(idToWire) } }
    case 'dont-have':
      return { dontHave: { ids: message.ids.map(idToWire) } }
    case 'block':
      return { block: { id: idToWire(message.id), data: message.data as Uint8Array<ArrayBuffer> } }
    case 'store':
      return { store: { id: idToWire(message.id), data: message.data as Uint8Array<ArrayBuffer> } }
    case 'stored': {
      const { outcome } = message
      return {
        stored: outcome.accepted
          ? { id: idToWire(message.id), accepted: true, reason: '', detail: '' }
          : { id: idToWire(message.id), accepted: false, reason: outcome.reason, detail: outcome.detail },
      }
    }
    case 'like':
      return {
        like: { target: idToWire(message.target), minScore: message.minScore, maxResults: message.maxResults },
      }
    case 'liked':
      return {
        liked: {
          target: idToWire(message.target),
          entries: message.matches.map((match) => ({ id: idToWire(match.id), size: match.size })),
        },
      }
  }
}

function fromFrame(frame: Frame): Message {
  const bodies = Object.values(frame).filter((value) => value !== undefined).length
  if (bodies !== 1) throw new ProtocolError(bodies === 0 ? 'frame without a body' : 'frame with several bodies')
  if (frame.want !== undefined) {
    return {
      type: 'want',
      ids: idsFromWire(frame.want.ids),
      haveOnly: frame.want.haveOnly,
      cancel: frame.want.cancel,
    }
  }
  if (frame.have !== undefined) return { type: 'have', ids: idsFromWire(frame.have.ids) }
  if (frame.dontHave !== undefined) return { type: 'dont-have', ids: idsFromWire(frame.dontHave.ids) }
  if (frame.block !== undefined) {
    return { type: 'block', id: idFromWire(frame.block.id), data: blockData(frame.block.data) }
  }
  if (frame.store !== undefined) {
    return { type: 'store', id: idFromWire(frame.store.id), data: blockData(frame.store.data) }
  }
  if (frame.stored !== undefined) {
    const { stored } = frame
    const outcome: StoreOutcome = stored.accepted
      ? { accepted: true }
      : { accepted: false, reason: refusalReason(stored.reason), detail: stored.detail.slice(0, 1024) }
    return { type: 'stored', id: idFromWire(stored.id), outcome }
  }
  if (frame.like !== undefined) {
    return {
      type: 'like',
      target: idFromWire(frame.like.target),
      minScore: frame.like.minScore,
      maxResults: frame.like.maxResults,
    }
  }
  if (frame.liked !== undefined) {
    return {
      type: 'liked',
      target: idFromWire(frame.liked.target),
      matches: frame.liked.entries.map((entry) => ({ id: idFromWire(entry.id), size: entry.size })),
    }
  }
  throw new ProtocolError('frame without a known body')
}

function idToWire(id: BlockId): Uint8Array<ArrayBuffer> {
  return idToBytes(id) as Uint8Array<ArrayBuffer>
}

function idFromWire(bytes: Uint8Array): BlockId {
  if (bytes.byteLength !== ID_BYTES) {
    throw new ProtocolError(`block id of ${bytes.byteLength} bytes, expected ${ID_BYTES}`)
  }
  return bytesToId(bytes)
}

function idsFromWire(list: Uint8Array[]): BlockId[] {
  if (list.length > MAX_IDS_PER_FRAME) {
    throw new ProtocolError(`${list.length} ids in one frame, at most ${MAX_IDS_PER_FRAME}`)
  }
  return list.map(idFromWire)
}

function blockData(data: Uint8Array): Uint8Array {
  if (data.byteLength > MAX_BLOCK_DATA) {
    throw new ProtocolError(`block data of ${data.byteLength} bytes exceeds ${MAX_BLOCK_DATA}`)
  }
  // Transports may hand over Buffers; callers get a plain Uint8Array view of the same memory.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

function refusalReason(reason: string): RefusalReason {
  return (REFUSAL_REASONS as readonly string[]).includes(reason) ? (reason as RefusalReason) : 'error'
}
