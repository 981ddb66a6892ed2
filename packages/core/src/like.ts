/**
 * "Like" ids (DESIGN §2 "Rendezvous"): how close two ids are, and mining a
 * block whose id lands close to a target, so that someone who knows only the
 * target (say sha256("USER:alice@2024-03")) can find the block by asking for
 * ids like it.
 */
import { createHash, type Hash, randomFillSync, randomInt } from 'node:crypto'
import { compressIfSmaller, resolveLevel } from './codec/compress.ts'
import { encodeConvergent } from './codec/convergent.ts'
import { LIKE_SEPARATOR } from './codec/like-suffix.ts'
import { assertWritableSize } from './codec/limits.ts'
import { encodePassphrase } from './codec/passphrase.ts'
import { assertPlainSize } from './codec/plain.ts'
import type { BlockMode, EncodedBlock } from './codec/types.ts'
import { DEFAULT_LIKE_SCORE } from './constants.ts'
import { InvalidIdError, InvalidKeyError, MaxAttemptsExceededError, throwIfAborted } from './errors.ts'
import { type BlockId, parseBlockId } from './id.ts'

const ID_BYTES = 32

/** Number of equal leading bits of two ids (0..256): the like score. */
export function likeScore(a: BlockId | Uint8Array, b: BlockId | Uint8Array): number {
  return leadingEqualBits(idBytes(a), idBytes(b))
}

function leadingEqualBits(a: Uint8Array, b: Uint8Array): number {
  for (let index = 0; index < ID_BYTES; index++) {
    const difference = a[index]! ^ b[index]!
    if (difference !== 0) return index * 8 + Math.clz32(difference) - 24
  }
  return ID_BYTES * 8
}

function idBytes(id: BlockId | Uint8Array): Uint8Array {
  if (typeof id === 'string') return Buffer.from(parseBlockId(id), 'hex')
  if (!(id instanceof Uint8Array) || id.byteLength !== ID_BYTES) {
    throw new InvalidIdError(`an id is ${ID_BYTES} bytes or 64 hex digits`)
  }
  return id
}

export interface MineOptions {
  /** Leading bits the id must share with the target; default DEFAULT_LIKE_SCORE = 12. */
  minScore?: number
  signal?: AbortSignal
  /** Called with the attempts so far after each batch, and once more when done. */
  onProgress?: (attempts: number) => void
  /** Give up (MaxAttemptsExceededError) after this many ids. */
  maxAttempts?: number
  /** zlib level of the block (see EncodeOptions). */
  level?: number
}

export interface MinedBlock extends EncodedBlock {
  score: number
  attempts: number
}

/** Attempts between yields to the event loop: a few milliseconds of hashing. */
const BATCH_SIZE = 4096

/**
 * Random bytes after the 0x00: enough that 255^n candidates hold about
 * 2^(minScore + 10) suffixes (so a score is essentially never out of reach),
 * at least two (as the original writes), and at most 14 so that a suffix is
 * never a whole AES block: a mined encrypted block then never decrypts whole
 * and decoders without the `mined` flag go straight to the unpadded form.
 */
export function likeSuffixLength(minScore: number): number {
  return 1 + Math.min(14, Math.max(2, Math.ceil((minScore + 10) / 8)))
}

/**
 * Encodes `plaintext` as a block of `mode` whose id shares at least
 * `minScore` leading bits with `target`. The suffix (0x00 + random non-zero
 * bytes) goes after the ciphertext in the encrypted modes, after the
 * plaintext (before compression) in plain mode; it is re-drawn until the
 * score is reached. Each attempt hashes only the suffix, from a copy of the
 * hash state of the fixed prefix. Expect about 2^minScore attempts.
 */
export async function mineLike(
  mode: BlockMode,
  plaintext: Uint8Array,
  target: BlockId,
  options: MineOptions & { passphrase?: string | Uint8Array } = {},
): Promise<MinedBlock> {
  const { signal, onProgress } = options
  const minScore = options.minScore ?? DEFAULT_LIKE_SCORE
  if (!Number.isInteger(minScore) || minScore < 0 || minScore > 256) {
    throw new RangeError(`minScore must be an integer from 0 to 256, got ${minScore}`)
  }
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY
  if (!(maxAttempts >= 1) || (Number.isFinite(maxAttempts) && !Number.isInteger(maxAttempts))) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`)
  }
  const targetBytes = idBytes(target)
  const level = resolveLevel(options.level)
  throwIfAborted(signal)

  const suffixLength = likeSuffixLength(minScore)
  const base = baseBlock(mode, plaintext, level, options.passphrase)
  const prefix = base === undefined ? plaintext : base.bytes
  if (base !== undefined) assertWritableSize(prefix.byteLength + suffixLength, `mined ${mode} block`)
  const prefixHash = createHash('sha256').update(prefix)
  const suffixes = new SuffixSource(suffixLength)

  let attempts = 0
  let bestScore = 0
  while (attempts < maxAttempts) {
    const batch = Math.min(BATCH_SIZE, maxAttempts - attempts)
    const pool = suffixes.draw(batch)
    for (let index = 0; index < batch; index++) {
      const suffix = pool.subarray(index * suffixLength, (index + 1) * suffixLength)
      const digest = tryHash(prefixHash, suffix)
      attempts++
      const score = leadingEqualBits(digest, targetBytes)
      if (score >= minScore) {
        onProgress?.(attempts)
        return finish(mode, plaintext, base, suffix.slice(), digest, level, score, attempts)
      }
      if (score > bestScore) bestScore = score
    }
    onProgress?.(attempts)
    await new Promise((resolve) => setImmediate(resolve))
    throwIfAborted(signal)
  }
  throw new MaxAttemptsExceededError(
    `no id with ${minScore} leading bits in common with the target after ${attempts} attempts (best ${bestScore})`,
    attempts,
    bestScore,
  )
}

function tryHash(prefixHash: Hash, suffix: Uint8Array): Buffer {
  return prefixHash.copy().update(suffix).digest()
}

/** The encrypted block the suffix is appended to; plain blocks take the suffix before encoding. */
function baseBlock(
  mode: BlockMode,
  plaintext: Uint8Array,
  level: number,
  passphrase: string | Uint8Array | undefined,
): EncodedBlock | undefined {
  switch (mode) {
    case 'plain':
      assertPlainSize(plaintext.byteLength)
      return undefined
    case 'convergent':
      return encodeConvergent(plaintext, { level })
    case 'passphrase':
      if (passphrase === undefined) throw new InvalidKeyError('a passphrase block needs a passphrase or key')
      return encodePassphrase(plaintext, passphrase)
    default:
      throw new TypeError(`unknown block mode ${JSON.stringify(mode)}`)
  }
}

function finish(
  mode: BlockMode,
  plaintext: Uint8Array,
  base: EncodedBlock | undefined,
  suffix: Uint8Array,
  digest: Buffer,
  level: number,
  score: number,
  attempts: number,
): MinedBlock {
  const id = digest.toString('hex')
  if (base !== undefined) {
    return { ...base, id, bytes: concat(base.bytes, suffix), score, attempts }
  }
  const content = concat(plaintext, suffix)
  const bytes = compressIfSmaller(content, level, { allowEqual: false, keep: true }) ?? content
  // Only a plaintext within a few bytes of 1 MiB that does not compress fails here, once mined.
  assertWritableSize(bytes.byteLength, `mined ${mode} block`)
  return { mode, id, bytes, size: plaintext.byteLength, score, attempts }
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.byteLength + tail.byteLength)
  out.set(head, 0)
  out.set(tail, head.byteLength)
  return out
}

/** Suffixes in batches: 0x00 then `length - 1` uniformly random bytes from 1..255. */
class SuffixSource {
  private readonly length: number
  private pool = new Uint8Array(0)

  constructor(length: number) {
    this.length = length
  }

  draw(count: number): Uint8Array {
    const size = count * this.length
    if (this.pool.byteLength < size) this.pool = new Uint8Array(size)
    const pool = this.pool.subarray(0, size)
    randomFillSync(pool)
    for (let index = 0; index < size; index++) {
      if (index % this.length === 0) pool[index] = LIKE_SEPARATOR
      else if (pool[index] === 0) pool[index] = randomInt(1, 256)
    }
    return pool
  }
}
