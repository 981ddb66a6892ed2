/**
 * The gear table of the content-defined chunker: 256 pseudo-random 64-bit
 * values, one per byte value, that the gear hash adds as it rolls.
 *
 * Chunk boundaries are part of what deduplicates across machines and
 * versions, so the table must never change. It is not a literal list but is
 * generated at load time from a fixed seed, so that anyone can check it:
 * entry `i` is the `i + 1`-th output of SplitMix64 (Steele, Lea, Flood 2014,
 * the generator Java's `SplittableRandom` uses) started from the seed
 * 0x4c696265726e6574, the ASCII bytes of "Libernet".
 *
 * The hash itself runs on 32 bits (the high half of every entry), because
 * JavaScript has fast int32 arithmetic but no fast 64-bit arithmetic: the
 * same loop on two 32-bit halves ran more than ten times slower, and on
 * BigInt more than a hundred times slower (bench/core/CHUNKER.md).
 */

const GEAR_SEED = 0x4c696265726e6574n
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n
const UINT64 = 0xffffffffffffffffn

function splitMix64Table(seed: bigint, length: number): BigUint64Array {
  const table = new BigUint64Array(length)
  let state = seed
  for (let i = 0; i < length; i++) {
    state = (state + GOLDEN_GAMMA) & UINT64
    let z = state
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & UINT64
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & UINT64
    table[i] = z ^ (z >> 31n)
  }
  return table
}

const GEAR_TABLE = splitMix64Table(GEAR_SEED, 256)

/** High halves of the gear table as int32: the values the 32-bit gear hash adds. */
export const GEAR: Int32Array = Int32Array.from(GEAR_TABLE, (entry) => Number(entry >> 32n) | 0)

/**
 * {@link GEAR} shifted left by one bit. Rolling two bytes per step needs it:
 * `((h << 1) + G[a]) << 1` equals `(h << 2) + (G[a] << 1)`.
 */
export const GEAR_SHIFTED: Int32Array = GEAR.map((value) => value << 1)

/** A copy of the full 64-bit gear table, for documentation, tests and other implementations. */
export function gearTable(): BigUint64Array {
  return GEAR_TABLE.slice()
}
