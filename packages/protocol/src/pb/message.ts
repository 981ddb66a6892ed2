// Generated from message.proto by scripts/generate-pb.ts (protons, namespaces rewritten as objects). Do not edit.
// biome-ignore-all lint: generated code

import type { Codec, DecodeOptions } from 'protons-runtime'
import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'

export interface Frame {
  want?: Want
  have?: Presence
  dontHave?: Presence
  block?: Block
  store?: Block
  stored?: StoreResult
  like?: Like
  liked?: LikeResult
}

export interface FrameWantIdsFieldEvent {
  field: '$.want.ids[]'
  index: number
  value: Uint8Array<ArrayBuffer>
}

export interface FrameWantHaveOnlyFieldEvent {
  field: '$.want.haveOnly'
  value: boolean
}

export interface FrameWantCancelFieldEvent {
  field: '$.want.cancel'
  value: boolean
}

export interface FrameHaveIdsFieldEvent {
  field: '$.have.ids[]'
  index: number
  value: Uint8Array<ArrayBuffer>
}

export interface FrameDontHaveIdsFieldEvent {
  field: '$.dontHave.ids[]'
  index: number
  value: Uint8Array<ArrayBuffer>
}

export interface FrameBlockIdFieldEvent {
  field: '$.block.id'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameBlockDataFieldEvent {
  field: '$.block.data'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameStoreIdFieldEvent {
  field: '$.store.id'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameStoreDataFieldEvent {
  field: '$.store.data'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameStoredIdFieldEvent {
  field: '$.stored.id'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameStoredAcceptedFieldEvent {
  field: '$.stored.accepted'
  value: boolean
}

export interface FrameStoredReasonFieldEvent {
  field: '$.stored.reason'
  value: string
}

export interface FrameStoredDetailFieldEvent {
  field: '$.stored.detail'
  value: string
}

export interface FrameLikeTargetFieldEvent {
  field: '$.like.target'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameLikeMinScoreFieldEvent {
  field: '$.like.minScore'
  value: number
}

export interface FrameLikeMaxResultsFieldEvent {
  field: '$.like.maxResults'
  value: number
}

export interface FrameLikedTargetFieldEvent {
  field: '$.liked.target'
  value: Uint8Array<ArrayBuffer>
}

export interface FrameLikedEntriesIdFieldEvent {
  field: '$.liked.entries[].id'
  value: Uint8Array<ArrayBuffer>
  index: number
}

export interface FrameLikedEntriesSizeFieldEvent {
  field: '$.liked.entries[].size'
  value: number
  index: number
}

export const Frame = (() => {
  let _codec: Codec<Frame>

  const codec = (): Codec<Frame> => {
    if (_codec == null) {
      _codec = message<Frame>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          obj = { ...obj }

          if (obj.liked != null) {
            obj.like = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.like != null) {
            obj.liked = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.stored != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.store = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.store != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.stored = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.block != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.dontHave = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.dontHave != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.block = undefined
            obj.have = undefined
            obj.want = undefined
          }

          if (obj.have != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.want = undefined
          }

          if (obj.want != null) {
            obj.liked = undefined
            obj.like = undefined
            obj.stored = undefined
            obj.store = undefined
            obj.block = undefined
            obj.dontHave = undefined
            obj.have = undefined
          }

          if (obj.want != null) {
            w.uint32(10)
            Want.codec().encode(obj.want, w)
          }

          if (obj.have != null) {
            w.uint32(18)
            Presence.codec().encode(obj.have, w)
          }

          if (obj.dontHave != null) {
            w.uint32(26)
            Presence.codec().encode(obj.dontHave, w)
          }

          if (obj.block != null) {
            w.uint32(34)
            Block.codec().encode(obj.block, w)
          }

          if (obj.store != null) {
            w.uint32(42)
            Block.codec().encode(obj.store, w)
          }

          if (obj.stored != null) {
            w.uint32(50)
            StoreResult.codec().encode(obj.stored, w)
          }

          if (obj.like != null) {
            w.uint32(58)
            Like.codec().encode(obj.like, w)
          }

          if (obj.liked != null) {
            w.uint32(66)
            LikeResult.codec().encode(obj.liked, w)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {}

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.want = Want.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.want,
                })
                break
              }
              case 2: {
                obj.have = Presence.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.have,
                })
                break
              }
              case 3: {
                obj.dontHave = Presence.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.dontHave,
                })
                break
              }
              case 4: {
                obj.block = Block.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.block,
                })
                break
              }
              case 5: {
                obj.store = Block.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.store,
                })
                break
              }
              case 6: {
                obj.stored = StoreResult.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.stored,
                })
                break
              }
              case 7: {
                obj.like = Like.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.like,
                })
                break
              }
              case 8: {
                obj.liked = LikeResult.codec().decode(reader, reader.uint32(), {
                  limits: opts.limits?.liked,
                })
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          if (obj.liked != null) {
            delete obj.like
            delete obj.stored
            delete obj.store
            delete obj.block
            delete obj.dontHave
            delete obj.have
            delete obj.want
          }

          if (obj.like != null) {
            delete obj.liked
            delete obj.stored
            delete obj.store
            delete obj.block
            delete obj.dontHave
            delete obj.have
            delete obj.want
          }

          if (obj.stored != null) {
            delete obj.liked
            delete obj.like
            delete obj.store
            delete obj.block
            delete obj.dontHave
            delete obj.have
            delete obj.want
          }

          if (obj.store != null) {
            delete obj.liked
            delete obj.like
            delete obj.stored
            delete obj.block
            delete obj.dontHave
            delete obj.have
            delete obj.want
          }

          if (obj.block != null) {
            delete obj.liked
            delete obj.like
            delete obj.stored
            delete obj.store
            delete obj.dontHave
            delete obj.have
            delete obj.want
          }

          if (obj.dontHave != null) {
            delete obj.liked
            delete obj.like
            delete obj.stored
            delete obj.store
            delete obj.block
            delete obj.have
            delete obj.want
          }

          if (obj.have != null) {
            delete obj.liked
            delete obj.like
            delete obj.stored
            delete obj.store
            delete obj.block
            delete obj.dontHave
            delete obj.want
          }

          if (obj.want != null) {
            delete obj.liked
            delete obj.like
            delete obj.stored
            delete obj.store
            delete obj.block
            delete obj.dontHave
            delete obj.have
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield* Want.codec().stream(reader, reader.uint32(), `${prefix}.want`, {
                  limits: opts.limits?.want,
                })

                break
              }
              case 2: {
                yield* Presence.codec().stream(reader, reader.uint32(), `${prefix}.have`, {
                  limits: opts.limits?.have,
                })

                break
              }
              case 3: {
                yield* Presence.codec().stream(reader, reader.uint32(), `${prefix}.dontHave`, {
                  limits: opts.limits?.dontHave,
                })

                break
              }
              case 4: {
                yield* Block.codec().stream(reader, reader.uint32(), `${prefix}.block`, {
                  limits: opts.limits?.block,
                })

                break
              }
              case 5: {
                yield* Block.codec().stream(reader, reader.uint32(), `${prefix}.store`, {
                  limits: opts.limits?.store,
                })

                break
              }
              case 6: {
                yield* StoreResult.codec().stream(reader, reader.uint32(), `${prefix}.stored`, {
                  limits: opts.limits?.stored,
                })

                break
              }
              case 7: {
                yield* Like.codec().stream(reader, reader.uint32(), `${prefix}.like`, {
                  limits: opts.limits?.like,
                })

                break
              }
              case 8: {
                yield* LikeResult.codec().stream(reader, reader.uint32(), `${prefix}.liked`, {
                  limits: opts.limits?.liked,
                })

                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<Frame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Frame.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Frame {
    return decodeMessage(buf, Frame.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<Frame>,
  ): Generator<
    | FrameWantIdsFieldEvent
    | FrameWantHaveOnlyFieldEvent
    | FrameWantCancelFieldEvent
    | FrameHaveIdsFieldEvent
    | FrameDontHaveIdsFieldEvent
    | FrameBlockIdFieldEvent
    | FrameBlockDataFieldEvent
    | FrameStoreIdFieldEvent
    | FrameStoreDataFieldEvent
    | FrameStoredIdFieldEvent
    | FrameStoredAcceptedFieldEvent
    | FrameStoredReasonFieldEvent
    | FrameStoredDetailFieldEvent
    | FrameLikeTargetFieldEvent
    | FrameLikeMinScoreFieldEvent
    | FrameLikeMaxResultsFieldEvent
    | FrameLikedTargetFieldEvent
    | FrameLikedEntriesIdFieldEvent
    | FrameLikedEntriesSizeFieldEvent
  > {
    return streamMessage(buf, Frame.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Want {
  ids: Uint8Array<ArrayBuffer>[]
  haveOnly: boolean
  cancel: boolean
}

export interface WantIdsFieldEvent {
  field: '$.ids[]'
  index: number
  value: Uint8Array<ArrayBuffer>
}

export interface WantHaveOnlyFieldEvent {
  field: '$.haveOnly'
  value: boolean
}

export interface WantCancelFieldEvent {
  field: '$.cancel'
  value: boolean
}

export const Want = (() => {
  let _codec: Codec<Want>

  const codec = (): Codec<Want> => {
    if (_codec == null) {
      _codec = message<Want>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.ids != null && obj.ids.length > 0) {
            for (const value of obj.ids) {
              w.uint32(10)
              w.bytes(value)
            }
          }

          if (obj.haveOnly != null && obj.haveOnly !== false) {
            w.uint32(16)
            w.bool(obj.haveOnly)
          }

          if (obj.cancel != null && obj.cancel !== false) {
            w.uint32(24)
            w.bool(obj.cancel)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            ids: [],
            haveOnly: false,
            cancel: false,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                  throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
                }

                obj.ids.push(reader.bytes())
                break
              }
              case 2: {
                obj.haveOnly = reader.bool()
                break
              }
              case 3: {
                obj.cancel = reader.bool()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const obj = {
            ids: 0,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                  throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
                }

                yield {
                  field: `${prefix}.ids[]`,
                  index: obj.ids,
                  value: reader.bytes(),
                }

                obj.ids++

                break
              }
              case 2: {
                yield {
                  field: `${prefix}.haveOnly`,
                  value: reader.bool(),
                }
                break
              }
              case 3: {
                yield {
                  field: `${prefix}.cancel`,
                  value: reader.bool(),
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<Want>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Want.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Want>): Want {
    return decodeMessage(buf, Want.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<Want>,
  ): Generator<WantIdsFieldEvent | WantHaveOnlyFieldEvent | WantCancelFieldEvent> {
    return streamMessage(buf, Want.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Presence {
  ids: Uint8Array<ArrayBuffer>[]
}

export interface PresenceIdsFieldEvent {
  field: '$.ids[]'
  index: number
  value: Uint8Array<ArrayBuffer>
}

export const Presence = (() => {
  let _codec: Codec<Presence>

  const codec = (): Codec<Presence> => {
    if (_codec == null) {
      _codec = message<Presence>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.ids != null && obj.ids.length > 0) {
            for (const value of obj.ids) {
              w.uint32(10)
              w.bytes(value)
            }
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            ids: [],
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                  throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
                }

                obj.ids.push(reader.bytes())
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const obj = {
            ids: 0,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                  throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
                }

                yield {
                  field: `${prefix}.ids[]`,
                  index: obj.ids,
                  value: reader.bytes(),
                }

                obj.ids++

                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<Presence>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Presence.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Presence>): Presence {
    return decodeMessage(buf, Presence.codec(), opts)
  }

  function stream(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Presence>): Generator<PresenceIdsFieldEvent> {
    return streamMessage(buf, Presence.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Block {
  id: Uint8Array<ArrayBuffer>
  data: Uint8Array<ArrayBuffer>
}

export interface BlockIdFieldEvent {
  field: '$.id'
  value: Uint8Array<ArrayBuffer>
}

export interface BlockDataFieldEvent {
  field: '$.data'
  value: Uint8Array<ArrayBuffer>
}

export const Block = (() => {
  let _codec: Codec<Block>

  const codec = (): Codec<Block> => {
    if (_codec == null) {
      _codec = message<Block>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.id != null && obj.id.byteLength > 0) {
            w.uint32(10)
            w.bytes(obj.id)
          }

          if (obj.data != null && obj.data.byteLength > 0) {
            w.uint32(18)
            w.bytes(obj.data)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            id: uint8ArrayAlloc(0),
            data: uint8ArrayAlloc(0),
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.id = reader.bytes()
                break
              }
              case 2: {
                obj.data = reader.bytes()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.id`,
                  value: reader.bytes(),
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.data`,
                  value: reader.bytes(),
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<Block>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Block.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Block>): Block {
    return decodeMessage(buf, Block.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<Block>,
  ): Generator<BlockIdFieldEvent | BlockDataFieldEvent> {
    return streamMessage(buf, Block.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface StoreResult {
  id: Uint8Array<ArrayBuffer>
  accepted: boolean
  reason: string
  detail: string
}

export interface StoreResultIdFieldEvent {
  field: '$.id'
  value: Uint8Array<ArrayBuffer>
}

export interface StoreResultAcceptedFieldEvent {
  field: '$.accepted'
  value: boolean
}

export interface StoreResultReasonFieldEvent {
  field: '$.reason'
  value: string
}

export interface StoreResultDetailFieldEvent {
  field: '$.detail'
  value: string
}

export const StoreResult = (() => {
  let _codec: Codec<StoreResult>

  const codec = (): Codec<StoreResult> => {
    if (_codec == null) {
      _codec = message<StoreResult>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.id != null && obj.id.byteLength > 0) {
            w.uint32(10)
            w.bytes(obj.id)
          }

          if (obj.accepted != null && obj.accepted !== false) {
            w.uint32(16)
            w.bool(obj.accepted)
          }

          if (obj.reason != null && obj.reason !== '') {
            w.uint32(26)
            w.string(obj.reason)
          }

          if (obj.detail != null && obj.detail !== '') {
            w.uint32(34)
            w.string(obj.detail)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            id: uint8ArrayAlloc(0),
            accepted: false,
            reason: '',
            detail: '',
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.id = reader.bytes()
                break
              }
              case 2: {
                obj.accepted = reader.bool()
                break
              }
              case 3: {
                obj.reason = reader.string()
                break
              }
              case 4: {
                obj.detail = reader.string()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.id`,
                  value: reader.bytes(),
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.accepted`,
                  value: reader.bool(),
                }
                break
              }
              case 3: {
                yield {
                  field: `${prefix}.reason`,
                  value: reader.string(),
                }
                break
              }
              case 4: {
                yield {
                  field: `${prefix}.detail`,
                  value: reader.string(),
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<StoreResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, StoreResult.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<StoreResult>): StoreResult {
    return decodeMessage(buf, StoreResult.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<StoreResult>,
  ): Generator<
    StoreResultIdFieldEvent | StoreResultAcceptedFieldEvent | StoreResultReasonFieldEvent | StoreResultDetailFieldEvent
  > {
    return streamMessage(buf, StoreResult.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface Like {
  target: Uint8Array<ArrayBuffer>
  minScore: number
  maxResults: number
}

export interface LikeTargetFieldEvent {
  field: '$.target'
  value: Uint8Array<ArrayBuffer>
}

export interface LikeMinScoreFieldEvent {
  field: '$.minScore'
  value: number
}

export interface LikeMaxResultsFieldEvent {
  field: '$.maxResults'
  value: number
}

export const Like = (() => {
  let _codec: Codec<Like>

  const codec = (): Codec<Like> => {
    if (_codec == null) {
      _codec = message<Like>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.target != null && obj.target.byteLength > 0) {
            w.uint32(10)
            w.bytes(obj.target)
          }

          if (obj.minScore != null && obj.minScore !== 0) {
            w.uint32(16)
            w.uint32(obj.minScore)
          }

          if (obj.maxResults != null && obj.maxResults !== 0) {
            w.uint32(24)
            w.uint32(obj.maxResults)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            target: uint8ArrayAlloc(0),
            minScore: 0,
            maxResults: 0,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.target = reader.bytes()
                break
              }
              case 2: {
                obj.minScore = reader.uint32()
                break
              }
              case 3: {
                obj.maxResults = reader.uint32()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.target`,
                  value: reader.bytes(),
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.minScore`,
                  value: reader.uint32(),
                }
                break
              }
              case 3: {
                yield {
                  field: `${prefix}.maxResults`,
                  value: reader.uint32(),
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<Like>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Like.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Like>): Like {
    return decodeMessage(buf, Like.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<Like>,
  ): Generator<LikeTargetFieldEvent | LikeMinScoreFieldEvent | LikeMaxResultsFieldEvent> {
    return streamMessage(buf, Like.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LikeResult {
  target: Uint8Array<ArrayBuffer>
  entries: LikeEntry[]
}

export interface LikeResultTargetFieldEvent {
  field: '$.target'
  value: Uint8Array<ArrayBuffer>
}

export interface LikeResultEntriesIdFieldEvent {
  field: '$.entries[].id'
  value: Uint8Array<ArrayBuffer>
  index: number
}

export interface LikeResultEntriesSizeFieldEvent {
  field: '$.entries[].size'
  value: number
  index: number
}

export const LikeResult = (() => {
  let _codec: Codec<LikeResult>

  const codec = (): Codec<LikeResult> => {
    if (_codec == null) {
      _codec = message<LikeResult>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.target != null && obj.target.byteLength > 0) {
            w.uint32(10)
            w.bytes(obj.target)
          }

          if (obj.entries != null && obj.entries.length > 0) {
            for (const value of obj.entries) {
              w.uint32(18)
              LikeEntry.codec().encode(value, w)
            }
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            target: uint8ArrayAlloc(0),
            entries: [],
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.target = reader.bytes()
                break
              }
              case 2: {
                if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                  throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
                }

                obj.entries.push(
                  LikeEntry.codec().decode(reader, reader.uint32(), {
                    limits: opts.limits?.entries$,
                  }),
                )
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const obj = {
            entries: 0,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.target`,
                  value: reader.bytes(),
                }
                break
              }
              case 2: {
                if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                  throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
                }

                for (const evt of LikeEntry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                  limits: opts.limits?.entries$,
                })) {
                  yield {
                    ...evt,
                    index: obj.entries,
                  }
                }

                obj.entries++

                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<LikeResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LikeResult.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LikeResult>): LikeResult {
    return decodeMessage(buf, LikeResult.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<LikeResult>,
  ): Generator<LikeResultTargetFieldEvent | LikeResultEntriesIdFieldEvent | LikeResultEntriesSizeFieldEvent> {
    return streamMessage(buf, LikeResult.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()

export interface LikeEntry {
  id: Uint8Array<ArrayBuffer>
  size: number
}

export interface LikeEntryIdFieldEvent {
  field: '$.id'
  value: Uint8Array<ArrayBuffer>
}

export interface LikeEntrySizeFieldEvent {
  field: '$.size'
  value: number
}

export const LikeEntry = (() => {
  let _codec: Codec<LikeEntry>

  const codec = (): Codec<LikeEntry> => {
    if (_codec == null) {
      _codec = message<LikeEntry>(
        (obj, w, opts = {}) => {
          if (opts.lengthDelimited !== false) {
            w.fork()
          }

          if (obj.id != null && obj.id.byteLength > 0) {
            w.uint32(10)
            w.bytes(obj.id)
          }

          if (obj.size != null && obj.size !== 0) {
            w.uint32(16)
            w.uint32(obj.size)
          }

          if (opts.lengthDelimited !== false) {
            w.ldelim()
          }
        },
        (reader, length, opts = {}) => {
          const obj: any = {
            id: uint8ArrayAlloc(0),
            size: 0,
          }

          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                obj.id = reader.bytes()
                break
              }
              case 2: {
                obj.size = reader.uint32()
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }

          return obj
        },
        function* (reader, length, prefix, opts = {}) {
          const end = length == null ? reader.len : reader.pos + length

          while (reader.pos < end) {
            const tag = reader.uint32()

            switch (tag >>> 3) {
              case 1: {
                yield {
                  field: `${prefix}.id`,
                  value: reader.bytes(),
                }
                break
              }
              case 2: {
                yield {
                  field: `${prefix}.size`,
                  value: reader.uint32(),
                }
                break
              }
              default: {
                reader.skipType(tag & 7)
                break
              }
            }
          }
        },
      )
    }

    return _codec
  }

  function encode(obj: Partial<LikeEntry>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LikeEntry.codec())
  }

  function decode(buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LikeEntry>): LikeEntry {
    return decodeMessage(buf, LikeEntry.codec(), opts)
  }

  function stream(
    buf: Uint8Array | Uint8ArrayList,
    opts?: DecodeOptions<LikeEntry>,
  ): Generator<LikeEntryIdFieldEvent | LikeEntrySizeFieldEvent> {
    return streamMessage(buf, LikeEntry.codec(), opts)
  }
  return { codec, encode, decode, stream }
})()
