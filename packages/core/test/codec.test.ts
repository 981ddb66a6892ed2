import assert from 'node:assert/strict'
import { createCipheriv, createHash, randomFillSync } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import { deflateSync, inflateSync } from 'node:zlib'
import fc from 'fast-check'
import { encrypt } from '../src/codec/aes.ts'
import { compressIfSmaller, inflate } from '../src/codec/compress.ts'
import { deflateWithin } from '../src/codec/deflater.ts'
import {
  type BlockMode,
  DEFAULT_ZLIB_LEVEL,
  decodeBlock,
  decodeConvergent,
  decodePassphrase,
  decodePlain,
  type EncodedBlock,
  encodeConvergent,
  encodePassphrase,
  encodePlain,
  isValidStoredBlock,
  looksIncompressible,
  passphraseKey,
  releaseBuffer,
  verifyStoredBlock,
} from '../src/codec/index.ts'
import { LEGACY_MAX_BLOCK_SIZE, MAX_BLOCK_SIZE, MAX_CHUNK_SIZE, MAX_PLAIN_SIZE } from '../src/constants.ts'
import { likeScore } from '../src/like.ts'
import { blocksDir, ERAS, type Era, loadManifest, readVectorBlock } from './fixtures/vectors.ts'

const PASSPHRASE = 'correct horse battery staple'

function storedBlock(era: Era, id: string): Uint8Array {
  return Uint8Array.from(readVectorBlock(era, id))
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** `/sha256/{id}[/aes256|passphrase/{key}]` → its parts. */
function parsePartUrl(url: string): { id: string; key?: string } {
  const match = /^\/sha256\/([0-9a-f]{64})(?:\/(?:aes256|passphrase)\/([0-9a-f]{64}))?$/.exec(url)
  assert.ok(match, `unexpected part URL ${url}`)
  return match[2] === undefined ? { id: match[1]! } : { id: match[1]!, key: match[2] }
}

function assertError(fn: () => unknown, name: string): void {
  assert.throws(fn, (err: Error) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
    return true
  })
}

/** Deterministic random-looking bytes: an AES-CTR keystream keyed by the seed. */
function randomish(size: number, seed: number): Uint8Array {
  const key = createHash('sha256').update(`seed ${seed}`).digest().subarray(0, 16)
  const keystream = createCipheriv('aes-128-ctr', key, new Uint8Array(16)).update(new Uint8Array(size))
  return new Uint8Array(keystream.buffer, keystream.byteOffset, keystream.byteLength)
}

function random(size: number): Uint8Array {
  return randomFillSync(new Uint8Array(size))
}

const WORDS =
  'the of and backup block bundle cipher digest file folder hash key node peer store alpha bravo river'.split(' ')

function textLike(size: number, seed: number): Uint8Array {
  const noise = randomish(Math.ceil(size / 3) + 1, seed)
  const words: string[] = []
  let length = 0
  for (let index = 0; length <= size; index++) {
    const word = WORDS[noise[index % noise.length]! % WORDS.length]!
    words.push(word)
    length += word.length + 1
  }
  return Uint8Array.from(Buffer.from(words.join(' ').slice(0, size), 'ascii'))
}

function mixed(size: number, seed: number): Uint8Array {
  const out = textLike(size, seed)
  // a quarter random, in 32 KiB runs, like the vectors' mixed files
  for (let start = 96 * 1024; start < size; start += 128 * 1024) {
    out.set(randomish(Math.min(32 * 1024, size - start), seed + start), start)
  }
  return out
}

const DATA_KINDS = {
  random: randomish,
  text: textLike,
  mixed,
  zeros: (size: number) => new Uint8Array(size),
} as const

function encode(mode: BlockMode, plaintext: Uint8Array, level?: number): EncodedBlock {
  const options = level === undefined ? {} : { level }
  if (mode === 'convergent') return encodeConvergent(plaintext, options)
  if (mode === 'plain') return encodePlain(plaintext, options)
  return encodePassphrase(plaintext, PASSPHRASE)
}

function roundTrip(mode: BlockMode, plaintext: Uint8Array, level?: number): EncodedBlock {
  const block = encode(mode, plaintext, level)
  assert.equal(block.mode, mode)
  assert.equal(block.size, plaintext.byteLength)
  assert.ok(block.bytes.byteLength <= MAX_BLOCK_SIZE)
  assert.ok(isValidStoredBlock(block.id, block.bytes), 'an encoded block verifies under its id')
  assert.deepEqual(decodeBlock(mode, block.bytes, block.id, block.key), plaintext)
  if (mode === 'plain') {
    assert.equal(block.id, sha256Hex(plaintext))
    assert.equal(block.key, undefined)
  } else {
    assert.equal(block.id, sha256Hex(block.bytes))
    assert.equal(block.bytes.byteLength % 16, 0)
  }
  if (mode === 'convergent') assert.equal(block.key, sha256Hex(plaintext))
  if (mode === 'passphrase') assert.equal(block.key, passphraseKey(PASSPHRASE))
  return block
}

const MODES: BlockMode[] = ['convergent', 'passphrase', 'plain']

describe('interop vectors', () => {
  for (const format of ERAS) {
    for (const vector of loadManifest(format).cases.filter((entry) => entry.kind === 'block')) {
      it(`decodes ${format} ${vector.name}`, () => {
        const mode = vector.mode!.replace(/^like-/, '') as BlockMode
        const mined = vector.mode!.startsWith('like-')
        const pieces: Uint8Array[] = []
        for (const part of vector.parts!) {
          const { id, key } = parsePartUrl(part.url)
          const stored = storedBlock(format, id)
          assert.equal(stored.byteLength, part.stored_size)
          const plaintext = decodeBlock(mode, stored, id, key, { mined })
          assert.equal(plaintext.byteLength, part.size)
          assert.equal(sha256Hex(plaintext), part.sha256)
          if (mined && mode !== 'plain') {
            assert.deepEqual(decodeBlock(mode, stored, id, key), plaintext, 'a mined block decodes without the flag')
          }
          if (mode === 'passphrase') {
            assert.equal(key, passphraseKey(vector.passphrase!))
            assert.deepEqual(decodePassphrase(stored, Buffer.from(key!, 'hex'), { id, mined }), plaintext)
          }
          pieces.push(plaintext)
        }
        const whole = Buffer.concat(pieces)
        assert.equal(whole.byteLength, vector.size)
        assert.equal(sha256Hex(whole), vector.sha256)
        if (vector.input_hex !== undefined) assert.equal(whole.toString('hex'), vector.input_hex)
        if (vector.like !== undefined) {
          const score = likeScore(parsePartUrl(vector.parts![0]!.url).id, vector.like.similar)
          assert.equal(score, vector.like.score)
          assert.ok(score >= vector.like.min_score)
        }
      })
    }

    it(`verifies every stored block of ${format}`, () => {
      const ids = readdirSync(blocksDir(format))
      assert.ok(ids.length > 0)
      for (const id of ids) {
        const stored = storedBlock(format, id)
        assert.ok(isValidStoredBlock(id, stored), `${format}/blocks/${id} verifies`)
        verifyStoredBlock(id, stored)
        if (stored.byteLength > 0) {
          stored[stored.byteLength >> 1]! ^= 0x01
          assert.equal(isValidStoredBlock(id, stored), false, `${format}/blocks/${id} with a flipped bit`)
        }
      }
    })
  }

  it('encodes uncompressed blocks byte for byte as the original did', () => {
    // Incompressible content and passphrase blocks involve no zlib, whose output differs between builds.
    const cases = loadManifest('head').cases.filter(
      (entry) => entry.kind === 'block' && (entry.mode === 'passphrase' || entry.mode === 'convergent'),
    )
    let compared = 0
    for (const vector of cases) {
      for (const part of vector.parts!) {
        const { id, key } = parsePartUrl(part.url)
        const stored = storedBlock('head', id)
        const mode = vector.mode as BlockMode
        const plaintext = decodeBlock(mode, stored, id, key)
        const storedUncompressed = stored.byteLength === (Math.floor(part.size / 16) + 1) * 16
        if (mode === 'convergent' && !storedUncompressed) continue
        const block =
          mode === 'convergent' ? encodeConvergent(plaintext) : encodePassphrase(plaintext, vector.passphrase!)
        assert.equal(block.id, id, `${vector.name}: same id`)
        assert.equal(block.key, key)
        compared++
      }
    }
    assert.ok(compared >= 8, `compared ${compared} blocks`)
  })

  it('refuses what the original refuses (head "reject" cases)', () => {
    const rejects = loadManifest('head').cases.filter((entry) => entry.kind === 'reject')
    assert.deepEqual(rejects.map((entry) => entry.mode).sort(), ['convergent', 'passphrase', 'plain'])
    for (const vector of rejects) {
      // The inputs are not shipped; equivalents: 1 MiB of random bytes, 1 MiB + 1 for plain.
      assert.equal(vector.size, vector.mode === 'plain' ? MAX_PLAIN_SIZE + 1 : MAX_BLOCK_SIZE)
      const input = random(vector.size)
      const encodeIt = () =>
        vector.mode === 'convergent'
          ? encodeConvergent(input)
          : vector.mode === 'passphrase'
            ? encodePassphrase(input, vector.passphrase!)
            : encodePlain(input)
      assertError(encodeIt, 'BlockTooLargeError')
    }
  })
})

describe('round trips', () => {
  it('carries the largest chunks in every mode', () => {
    for (const kind of ['random', 'text', 'mixed', 'zeros'] as const) {
      const plaintext = DATA_KINDS[kind](MAX_CHUNK_SIZE, 7)
      for (const mode of MODES) {
        const block = roundTrip(mode, plaintext)
        if (mode !== 'passphrase' && kind !== 'random') assert.ok(block.bytes.byteLength < MAX_CHUNK_SIZE * 0.75)
      }
    }
    // exactly 1 MiB - 16 of random bytes fills a block to the last byte
    assert.equal(roundTrip('convergent', random(MAX_CHUNK_SIZE)).bytes.byteLength, MAX_BLOCK_SIZE)
    // so does anything up to 1 MiB - 1: padding then takes 1..15 bytes
    assert.equal(roundTrip('passphrase', random(MAX_BLOCK_SIZE - 1)).bytes.byteLength, MAX_BLOCK_SIZE)
    // 1 MiB fits when it compresses, and always as a plain block
    roundTrip('convergent', textLike(MAX_BLOCK_SIZE, 3))
    assert.equal(roundTrip('plain', random(MAX_PLAIN_SIZE)).bytes.byteLength, MAX_PLAIN_SIZE)
  })

  it('decodes the same with a size hint, right, wrong or nonsense', () => {
    for (const mode of MODES) {
      for (const size of [0, 1, 100, 8192, 70_000, MAX_CHUNK_SIZE]) {
        const plaintext = DATA_KINDS.text(size, size)
        const block = encode(mode, plaintext)
        const key = block.key
        for (const hint of [size, 0, size + 1, Math.max(0, size - 1), 2 * size + 7, MAX_BLOCK_SIZE, -1, 1.5]) {
          const decoded = decodeBlock(mode, block.bytes, block.id, key, { size: hint })
          assert.deepEqual(Buffer.from(decoded), Buffer.from(plaintext), `${mode} ${size} hint ${hint}`)
        }
      }
    }
  })

  it('skips hashing stored bytes the caller checked only where the content is checked anyway', () => {
    const plaintext = DATA_KINDS.text(50_000, 3)
    const otherId = sha256Hex(Buffer.from('some other block'))
    for (const mode of MODES) {
      const block = encode(mode, plaintext)
      const decode = () => decodeBlock(mode, block.bytes, otherId, block.key, { storedChecked: true })
      if (mode === 'convergent') assert.deepEqual(Buffer.from(decode()), Buffer.from(plaintext))
      else assertError(decode, 'BlockVerificationError')
      assertError(() => decodeBlock(mode, block.bytes, otherId, block.key), 'BlockVerificationError')
    }
  })

  it('carries small and empty inputs', () => {
    for (const mode of MODES) {
      for (const size of [0, 1, 15, 16, 17, 31, 32, 33]) {
        roundTrip(mode, randomish(size, size))
        roundTrip(mode, new Uint8Array(size))
      }
    }
  })

  it('round-trips arbitrary content (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MODES),
        fc.constantFrom('random', 'text', 'mixed', 'zeros'),
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer(),
        (mode, kind, size, seed) => {
          roundTrip(mode, DATA_KINDS[kind as keyof typeof DATA_KINDS](size, seed))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('round-trips arbitrary small byte arrays (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODES), fc.uint8Array({ maxLength: 2048 }), (mode, plaintext) => {
        roundTrip(mode, plaintext)
      }),
      { numRuns: 150 },
    )
  })

  it('decodes every zlib level alike, and level 0 never compresses', () => {
    const text = textLike(200_000, 1)
    const noise = randomish(200_000, 1)
    const sizes: number[] = []
    for (let level = 0; level <= 9; level++) {
      for (const mode of ['convergent', 'plain'] as const) {
        const block = roundTrip(mode, text, level)
        if (level === 0) assert.ok(block.bytes.byteLength >= text.byteLength)
        else assert.ok(block.bytes.byteLength < text.byteLength / 2)
        if (mode === 'plain') sizes.push(block.bytes.byteLength)
        const incompressible = roundTrip(mode, noise, level)
        assert.ok(incompressible.bytes.byteLength >= noise.byteLength)
      }
    }
    assert.ok(sizes[9]! <= sizes[1]!, 'level 9 is at least as small as level 1')
    assert.deepEqual(encodeConvergent(text), encodeConvergent(text, { level: DEFAULT_ZLIB_LEVEL }))
  })

  it('is deterministic: the same content gives the same convergent and plain block', () => {
    const text = textLike(100_000, 9)
    assert.deepEqual(encodeConvergent(text), encodeConvergent(Uint8Array.from(text)))
    assert.deepEqual(encodePlain(text), encodePlain(Uint8Array.from(text)))
  })

  it('accepts a passphrase key as bytes or hex in place of the passphrase', () => {
    const plaintext = textLike(1000, 2)
    const key = passphraseKey(PASSPHRASE)
    const block = encodePassphrase(plaintext, Buffer.from(key, 'hex'))
    assert.deepEqual(block, encodePassphrase(plaintext, PASSPHRASE))
    assert.deepEqual(decodePassphrase(block.bytes, key.toUpperCase(), { id: block.id }), plaintext)
    assert.equal(passphraseKey(''), sha256Hex(new Uint8Array()))
    assert.equal(passphraseKey('é'), sha256Hex(Buffer.from('é', 'utf8')))
  })
})

describe('incompressibility detection', () => {
  it('skips random data and keeps anything with text in it', () => {
    for (let seed = 0; seed < 5; seed++) assert.equal(looksIncompressible(random(MAX_CHUNK_SIZE)), true)
    assert.equal(looksIncompressible(textLike(MAX_CHUNK_SIZE, 1)), false)
    assert.equal(looksIncompressible(mixed(MAX_CHUNK_SIZE, 1)), false)
    assert.equal(looksIncompressible(new Uint8Array(MAX_CHUNK_SIZE)), false)
    const base64 = Uint8Array.from(Buffer.from(Buffer.from(random(100_000)).toString('base64')))
    assert.equal(looksIncompressible(base64), false)
    // down to 2 KiB, samples overlap and still tell noise from text
    for (const size of [2048, 3000, 10_000]) {
      assert.equal(looksIncompressible(randomish(size, size)), true)
      assert.equal(looksIncompressible(textLike(size, 1)), false)
    }
    // smaller inputs are simply compressed
    assert.equal(looksIncompressible(random(2047)), false)
  })

  it('stores incompressible content as is', () => {
    const noise = random(500_000)
    assert.deepEqual(encodePlain(noise).bytes, noise)
    assert.equal(encodeConvergent(noise).bytes.byteLength, 500_000 + 16)
  })
})

describe('reused deflate stream', () => {
  it('gives one complete zlib stream per input, whatever came before, at every level', () => {
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(7),
      textLike(8192, 2),
      mixed(MAX_CHUNK_SIZE, 3),
      textLike(100, 4),
      new Uint8Array(MAX_CHUNK_SIZE),
    ]
    for (const level of [1, 6, 9, 1]) {
      for (const input of inputs) {
        const compressed = deflateWithin(input, level, input.byteLength + 64)
        assert.ok(compressed !== undefined)
        assert.deepEqual(new Uint8Array(inflateSync(compressed)), input, `level ${level}, ${input.byteLength} bytes`)
      }
    }
  })

  it('stops at the limit: undefined for output that would not fit, exact fits accepted', () => {
    const noise = random(100_000)
    assert.equal(deflateWithin(noise, 1, noise.byteLength), undefined)
    const text = textLike(50_000, 5)
    const size = deflateWithin(text, 1, text.byteLength)!.byteLength
    assert.equal(deflateWithin(text, 1, size)?.byteLength, size)
    assert.equal(deflateWithin(text, 1, size - 1), undefined)
    // After a stream that ran out of room, the next input is whole again.
    assert.deepEqual(new Uint8Array(inflateSync(deflateWithin(text, 1, size)!)), text)
  })

  it('kept output survives later compressions; output to encrypt at once is a view the next one reuses', () => {
    const first = textLike(20_000, 6)
    const kept = compressIfSmaller(first, 1, { allowEqual: false, keep: true })!
    const view = compressIfSmaller(first, 1, { allowEqual: true, keep: false })!
    assert.deepEqual(kept, view)
    compressIfSmaller(textLike(30_000, 7), 1, { allowEqual: true, keep: false })
    assert.deepEqual(new Uint8Array(inflateSync(kept)), first)
    assert.notDeepEqual(view, kept, 'the view was overwritten, so callers must not hold it')
  })

  it('properties: after any earlier inputs, the same bytes as a fresh stream (convergent blocks depend on it)', () => {
    // Compressible inputs of every length around the window, in any order: a stream that kept an earlier,
    // longer input in its window found other matches near the end of a shorter one.
    const input = fc
      .tuple(fc.integer({ min: 0, max: 140_000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 40 }))
      .map(([length, seed, alphabet]) => Uint8Array.from(textLike(length, seed), (byte) => 97 + (byte % alphabet)))
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 6 }), fc.constantFrom(1, 6), (inputs, level) =>
        inputs.every((data) => {
          const compressed = deflateWithin(data, level, data.byteLength + 64)
          return compressed !== undefined && Buffer.from(compressed).equals(deflateSync(data, { level }))
        }),
      ),
      { numRuns: 60 },
    )
  })

  it('properties: the same bytes as a fresh zlib stream, or undefined exactly when those would not fit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 1, max: 9 }), (input, level) => {
        const compressed = deflateWithin(input, level, input.byteLength)
        const reference = deflateSync(input, { level })
        if (compressed === undefined) return reference.byteLength > input.byteLength
        return Buffer.from(compressed).equals(reference)
      }),
      { numRuns: 500 },
    )
  })
})

describe('bad input', () => {
  const text = textLike(50_000, 5)
  const convergent = encodeConvergent(text)
  const passphrase = encodePassphrase(text, PASSPHRASE)
  const plain = encodePlain(text)
  const wrongKey = sha256Hex(Buffer.from('not the key'))

  function flipped(bytes: Uint8Array, index: number): Uint8Array {
    const copy = Uint8Array.from(bytes)
    copy[index]! ^= 0x40
    return copy
  }

  it('a wrong key is a DecryptionError, never a result', () => {
    assertError(() => decodeConvergent(convergent.bytes, wrongKey), 'DecryptionError')
    assertError(() => decodeConvergent(convergent.bytes, wrongKey, { id: convergent.id }), 'DecryptionError')
    assertError(
      () => decodePassphrase(passphrase.bytes, passphraseKey('Correct horse battery staple')),
      'DecryptionError',
    )
    // a wrong key that pads correctly still fails the content hash
    const key = Buffer.from(sha256Hex(Buffer.from('a key')), 'hex')
    const garbage = encrypt(key, Buffer.from('decrypts fine under this key but hashes to something else'))
    assertError(() => decodeConvergent(garbage, key), 'DecryptionError')
  })

  it('a changed byte fails the id, or the decryption when there is no id', () => {
    for (const block of [convergent, passphrase]) {
      for (const index of [0, 100, block.bytes.byteLength - 1]) {
        const bad = flipped(block.bytes, index)
        assertError(() => decodeBlock(block.mode, bad, block.id, block.key), 'BlockVerificationError')
        assert.equal(isValidStoredBlock(block.id, bad), false)
        assertError(() => verifyStoredBlock(block.id, bad), 'BlockVerificationError')
      }
    }
    // without an id, a changed last block spoils the padding
    assertError(
      () => decodeConvergent(flipped(convergent.bytes, convergent.bytes.byteLength - 1), convergent.key!),
      'DecryptionError',
    )
    assertError(
      () => decodePassphrase(flipped(passphrase.bytes, passphrase.bytes.byteLength - 1), passphrase.key!),
      'DecryptionError',
    )
    // an earlier change spoils the content, which must match the key
    assert.throws(
      () => decodeConvergent(flipped(convergent.bytes, 20), convergent.key!),
      /DecryptionError|DecompressionError/,
    )
    assert.throws(() => decodePlain(flipped(plain.bytes, 100), plain.id), /DecompressionError|BlockVerificationError/)
    assertError(() => decodePlain(flipped(plain.bytes, 1), plain.id), 'BlockVerificationError')
  })

  it('a truncated block is a DecryptionError or fails its id', () => {
    for (const block of [convergent, passphrase]) {
      for (const cut of [1, 5, 16]) {
        const short = block.bytes.subarray(0, block.bytes.byteLength - cut)
        assertError(() => decodeBlock(block.mode, short, block.id, block.key), 'BlockVerificationError')
      }
      assertError(() => decodeConvergent(block.bytes.subarray(0, 17), block.key!), 'DecryptionError')
      assertError(
        () => decodePassphrase(block.bytes.subarray(0, block.bytes.byteLength - 3), block.key!),
        'DecryptionError',
      )
    }
    assertError(() => decodePlain(plain.bytes.subarray(0, plain.bytes.byteLength - 10), plain.id), 'DecompressionError')
  })

  it('an empty stored block', () => {
    const empty = new Uint8Array()
    assertError(() => decodeConvergent(empty, convergent.key!), 'DecryptionError')
    assertError(() => decodePassphrase(empty, passphrase.key!), 'DecryptionError')
    assertError(() => decodeConvergent(empty, convergent.key!, { id: convergent.id }), 'BlockVerificationError')
    assertError(() => decodePlain(empty, plain.id), 'BlockVerificationError')
    assert.deepEqual(decodePlain(empty, sha256Hex(empty)), empty)
    assert.equal(isValidStoredBlock(plain.id, empty), false)
  })

  it('an oversized block is a BlockTooLargeError', () => {
    const huge = new Uint8Array(LEGACY_MAX_BLOCK_SIZE + 1)
    const id = sha256Hex(huge)
    assertError(() => decodeConvergent(huge, convergent.key!), 'BlockTooLargeError')
    assertError(() => decodePassphrase(huge, passphrase.key!, { mined: true }), 'BlockTooLargeError')
    assertError(() => decodePlain(huge, id), 'BlockTooLargeError')
    assertError(() => verifyStoredBlock(id, huge), 'BlockTooLargeError')
    assert.equal(isValidStoredBlock(id, huge), false)
    // 1 MiB + 16 is the largest readable block (2022 era)
    const legacy = random(MAX_BLOCK_SIZE)
    const legacyBlock = encrypt(createHash('sha256').update(legacy).digest(), legacy)
    assert.equal(legacyBlock.byteLength, LEGACY_MAX_BLOCK_SIZE)
    assert.deepEqual(decodeConvergent(legacyBlock, sha256Hex(legacy), { id: sha256Hex(legacyBlock) }), legacy)
    assert.ok(isValidStoredBlock(sha256Hex(legacyBlock), legacyBlock))
  })

  it('refuses to write blocks over 1 MiB', () => {
    // 1 MiB of incompressible content needs a whole block of padding: 1 MiB + 16
    assertError(() => encodeConvergent(random(MAX_BLOCK_SIZE)), 'BlockTooLargeError')
    assertError(() => encodePassphrase(new Uint8Array(MAX_BLOCK_SIZE), PASSPHRASE), 'BlockTooLargeError')
    // more than 1 MiB could not be inflated by a reader, however well it compresses
    assertError(() => encodeConvergent(new Uint8Array(MAX_BLOCK_SIZE + 1)), 'BlockTooLargeError')
    assertError(() => encodePlain(new Uint8Array(MAX_PLAIN_SIZE + 1)), 'BlockTooLargeError')
  })

  it('bad zlib inside a correctly encrypted block is a DecompressionError', () => {
    const key = Buffer.from(wrongKey, 'hex')
    const notZlib = Buffer.concat([Buffer.from([0x78, 0x9c]), randomish(1000, 1)])
    assertError(() => decodeConvergent(encrypt(key, notZlib), key), 'DecompressionError')
    // valid zlib of something whose hash is not the key
    assertError(() => decodeConvergent(encrypt(key, deflateSync(Buffer.from('other content'))), key), 'DecryptionError')
    // truncated zlib, and zlib followed by junk
    const content = textLike(5000, 3)
    const contentKey = createHash('sha256').update(content).digest()
    const compressed = deflateSync(content)
    assertError(
      () => decodeConvergent(encrypt(contentKey, compressed.subarray(0, 100)), contentKey),
      'DecompressionError',
    )
    const trailing = Buffer.concat([compressed, Buffer.from('junk')])
    assertError(() => decodeConvergent(encrypt(contentKey, trailing), contentKey), 'DecompressionError')
    const contentId = sha256Hex(content)
    assertError(() => decodePlain(trailing, contentId), 'DecompressionError')
    assert.equal(isValidStoredBlock(contentId, trailing), false)
    assert.ok(isValidStoredBlock(contentId, compressed))
  })

  it('inflation stops at the block limit (zlib bombs)', () => {
    const bomb = new Uint8Array(LEGACY_MAX_BLOCK_SIZE + 1)
    const bombKey = createHash('sha256').update(bomb).digest()
    const compressed = deflateSync(bomb, { level: 9 })
    assert.ok(compressed.byteLength < 2000)
    assertError(() => decodeConvergent(encrypt(bombKey, compressed), bombKey), 'DecompressionError')
    assertError(() => decodePlain(compressed, sha256Hex(bomb)), 'DecompressionError')
    assert.equal(isValidStoredBlock(sha256Hex(bomb), compressed), false)
  })

  it('an id that does not match is a BlockVerificationError', () => {
    const otherId = sha256Hex(Buffer.from('other'))
    assertError(() => decodeConvergent(convergent.bytes, convergent.key!, { id: otherId }), 'BlockVerificationError')
    assertError(() => decodePassphrase(passphrase.bytes, passphrase.key!, { id: otherId }), 'BlockVerificationError')
    assertError(() => decodePlain(plain.bytes, otherId), 'BlockVerificationError')
    assertError(() => decodeBlock('convergent', convergent.bytes, otherId, convergent.key), 'BlockVerificationError')
    assertError(() => verifyStoredBlock(otherId, plain.bytes), 'BlockVerificationError')
    assert.equal(isValidStoredBlock(otherId, plain.bytes), false)
  })

  it('a malformed id is refused', () => {
    assertError(() => decodePlain(plain.bytes, 'not an id'), 'InvalidIdError')
    assertError(
      () => decodeConvergent(convergent.bytes, convergent.key!, { id: convergent.id.toUpperCase() }),
      'InvalidIdError',
    )
    assert.equal(isValidStoredBlock('not an id', plain.bytes), false)
    assertError(() => verifyStoredBlock('not an id', plain.bytes), 'BlockVerificationError')
  })

  it('a key that is not 32 bytes or 64 hex digits is an InvalidKeyError', () => {
    for (const key of ['', 'abc', convergent.key!.slice(1), `${convergent.key}0`, `${convergent.key!.slice(2)}zz`]) {
      assertError(() => decodeConvergent(convergent.bytes, key), 'InvalidKeyError')
      assertError(() => decodePassphrase(passphrase.bytes, key), 'InvalidKeyError')
    }
    for (const size of [0, 16, 31, 33, 64]) {
      assertError(() => decodeConvergent(convergent.bytes, new Uint8Array(size)), 'InvalidKeyError')
      assertError(() => encodePassphrase(text, new Uint8Array(size)), 'InvalidKeyError')
    }
    assertError(() => decodeBlock('convergent', convergent.bytes, convergent.id), 'InvalidKeyError')
    assertError(() => decodeBlock('passphrase', passphrase.bytes, passphrase.id), 'InvalidKeyError')
  })

  it('a mined flag on a block without a like suffix is refused', () => {
    const noZero = encodePlain(Buffer.from('no separator here'))
    assertError(() => decodePlain(noZero.bytes, noZero.id, { mined: true }), 'BlockVerificationError')
    const candidates = Array.from({ length: 20 }, (_, index) => encodePassphrase(Buffer.from(`x${index}`), PASSPHRASE))
    const stored = candidates.find((block) => !block.bytes.includes(0))
    assert.ok(stored !== undefined)
    assertError(() => decodePassphrase(stored.bytes, stored.key!, { mined: true }), 'DecryptionError')
  })

  it('rejects zlib levels outside 0..9', () => {
    for (const level of [-1, 10, 1.5, Number.NaN]) {
      assert.throws(() => encodeConvergent(text, { level }), RangeError)
      assert.throws(() => encodePlain(text, { level }), RangeError)
    }
  })

  it('never crashes on garbage (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.constantFrom(...MODES),
        fc.boolean(),
        (garbage, mode, mined) => {
          const key = mode === 'plain' ? undefined : mode === 'convergent' ? convergent.key : passphrase.key
          try {
            const result = decodeBlock(mode, garbage, sha256Hex(garbage), key, { mined })
            // Only a passphrase block has nothing to check its content against.
            if (mode === 'convergent') assert.fail('garbage decoded as a convergent block')
            assert.ok(result instanceof Uint8Array)
          } catch (err) {
            assert.match((err as Error).name, /^(DecryptionError|DecompressionError|BlockVerificationError)$/)
          }
          assert.equal(typeof isValidStoredBlock(convergent.id, garbage), 'boolean')
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('blocks kept in zlib form', () => {
  it('decode when verification accepts them: an encrypted block handed over as zlib(E) stays readable', () => {
    const plaintext = Buffer.from('photo metadata '.repeat(500))
    for (const block of [encodeConvergent(plaintext), encodePassphrase(plaintext, PASSPHRASE)]) {
      const wrapped = Uint8Array.from(deflateSync(block.bytes))
      assert.ok(isValidStoredBlock(block.id, wrapped), 'verifiers accept the zlib form under the same id')
      const decoded = decodeBlock(block.mode, wrapped, block.id, block.key)
      assert.ok(Buffer.from(decoded).equals(plaintext), `${block.mode} decodes from the zlib form`)
      const tampered = Uint8Array.from(deflateSync(Buffer.concat([block.bytes, Buffer.from([0])])))
      assertError(() => decodeBlock(block.mode, tampered, block.id, block.key), 'BlockVerificationError')
    }
  })
})

describe("inflating into the thread's reused buffer", () => {
  const message = (fn: () => unknown): string => {
    try {
      fn()
    } catch (err) {
      assert.equal((err as Error).name, 'DecompressionError')
      return (err as Error).message
    }
    assert.fail('expected a DecompressionError')
  }

  it('gives the bytes the allocating inflate gives, in one buffer that the next inflate overwrites', () => {
    const first = textLike(300_000, 1)
    const second = textLike(5_000, 2)
    const one = inflate(deflateSync(first), { reuse: true })
    assert.deepEqual(one, first)
    const copy = one.slice()
    const two = inflate(deflateSync(second), { reuse: true })
    assert.deepEqual(two, second)
    assert.equal(two.buffer, one.buffer, 'the same buffer, not fresh memory')
    assert.notDeepEqual(one.subarray(0, second.byteLength), copy.subarray(0, second.byteLength))
    assert.deepEqual(inflate(deflateSync(new Uint8Array(0)), { reuse: true }), new Uint8Array(0))
    // Bigger than the default limit's buffer: a larger one is made.
    const largest = textLike(LEGACY_MAX_BLOCK_SIZE, 3)
    assert.deepEqual(inflate(deflateSync(largest), { reuse: true }), largest)
  })

  it('refuses what the allocating inflate refuses, with the same errors, and works again after each', () => {
    const content = textLike(5000, 3)
    const compressed = deflateSync(content)
    const bomb = deflateSync(new Uint8Array(LEGACY_MAX_BLOCK_SIZE + 1), { level: 9 })
    const bad = [
      Buffer.concat([Buffer.from([0x78, 0x9c]), randomish(1000, 1)]),
      compressed.subarray(0, 100),
      compressed.subarray(0, compressed.byteLength - 1),
      Buffer.concat([compressed, Buffer.from('junk')]),
      bomb,
    ]
    for (const data of bad) {
      assert.equal(
        message(() => inflate(data, { reuse: true })),
        message(() => inflate(data)),
      )
      assert.deepEqual(inflate(compressed, { reuse: true }), content)
    }
    const small = deflateSync(textLike(2000, 4))
    assert.equal(
      message(() => inflate(small, { reuse: true, limit: 1000 })),
      message(() => inflate(small, { limit: 1000 })),
    )
    assert.deepEqual(inflate(small, { reuse: true, limit: 2000 }), textLike(2000, 4))
  })

  it('is left alone by releaseBuffer, as is the read buffer', () => {
    const content = textLike(200_000, 5)
    const inflated = inflate(deflateSync(content), { reuse: true })
    releaseBuffer(inflated)
    assert.deepEqual(inflated, content)
  })

  it('decodes compressed convergent and plain blocks as without it', () => {
    const content = textLike(400_000, 6)
    const convergentBlock = encodeConvergent(content)
    const plainBlock = encodePlain(content)
    assert.ok(plainBlock.bytes.byteLength < content.byteLength / 2, 'the blocks must be compressed for this test')
    for (const block of [convergentBlock, plainBlock]) {
      const reused = decodeBlock(block.mode, block.bytes, block.id, block.key, { reuse: true })
      assert.deepEqual(reused, content)
    }
    // A wrong key still fails, a corrupt compressed block too.
    const wrong = sha256Hex(Buffer.from('another key'))
    assertError(() => decodeConvergent(convergentBlock.bytes, wrong, { reuse: true }), 'DecryptionError')
    const cut = plainBlock.bytes.subarray(0, plainBlock.bytes.byteLength - 10)
    assertError(() => decodePlain(cut, plainBlock.id, { reuse: true }), 'DecompressionError')
  })
})
