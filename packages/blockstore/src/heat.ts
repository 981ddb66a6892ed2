/**
 * Request counts with exponential time decay, stored as one number per block.
 *
 * A count `c` observed at time `t` is worth `c · 2^(-(now - t) / halfLife)`
 * later. Rather than storing (c, t) and decaying every row before comparing,
 * each block keeps its heat `h = log2(c) + t / halfLife`: the decayed count at
 * any time is `2^(h - now / halfLife)`, so ordering blocks by `h` orders them
 * by decayed count at every moment, and one plain SQLite index on `h` gives
 * the eviction order (least requested first) without touching other rows.
 */

/** Heat of a block seen `count` times at `now` that had heat `heat` before (`undefined`: never seen). */
export function addRequests(heat: number | undefined, count: number, now: number, halfLife: number): number {
  const base = now / halfLife
  const decayed = heat === undefined ? 0 : 2 ** (heat - base)
  return base + Math.log2(decayed + count)
}

/** The decayed request count of a block with heat `heat`, at `now`. */
export function requestsAt(heat: number, now: number, halfLife: number): number {
  return 2 ** (heat - now / halfLife)
}
