import { createCipheriv, createHash } from 'node:crypto'

/**
 * Deterministic pseudo-random bytes and numbers for the benchmark data:
 * AES-256-CTR over zeros (fast, incompressible) keyed by a seed string, and a
 * small integer generator (mulberry32) for choices.
 */
export class SeededRandom {
  readonly #cipher
  #state: number

  constructor(seed: string) {
    const key = createHash('sha256').update(`bytes:${seed}`).digest()
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
    this.#state = createHash('sha256').update(`ints:${seed}`).digest().readUInt32LE(0)
  }

  /** `length` incompressible bytes. */
  bytes(length: number): Buffer {
    return this.#cipher.update(Buffer.alloc(length))
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }
}

const WORDS = `the of and to in is that for it as with was on be by this are from at or an have not which
they but had one their were all there can been has more if will when who would so no out up into than them
some could time these two may first then do any like my now over such our man me even most made after also
did many before must through back years where much your way well down should because each just those people
how too little state good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against go came right used take
three backup block bundle snapshot restore network node peer chunk hash key store disk folder file encrypted`.split(
  /\s+/,
)

/** Compressible, text-like bytes: words, punctuation and line breaks, about 3-4x under zlib. */
export function text(random: SeededRandom, length: number): Buffer {
  const parts: string[] = []
  let size = 0
  let _line = 0
  while (size < length) {
    const word = random.pick(WORDS)
    const separator = random.next() < 0.08 ? '.\n' : random.next() < 0.1 ? ', ' : ' '
    const number = random.next() < 0.03 ? ` ${random.int(0, 99999)}` : ''
    const piece = `${word}${number}${separator}`
    parts.push(piece)
    size += piece.length
    _line++
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, length)
}
