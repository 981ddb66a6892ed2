import { likeScore } from '@libernet/core'

/**
 * "Like" queries over a sorted index of ids (DESIGN §2): the N ids sharing the
 * most leading bits with a target, ties broken by smaller id.
 *
 * Ids sharing at least k leading bits with the target form one contiguous run
 * of the sorted order, containing the target's position. Walking up from the
 * target (ids ≥ target) the shared prefix can only shrink, and likewise
 * walking down, so the best N scores lie among the N successors and N
 * predecessors of the target: two indexed range scans, O(log n + N), whatever
 * the size of the store. Only when the scan down stopped inside the run of
 * the N-th score (more ids of that score may lie below) does a third scan
 * fetch the smallest ids of that score, from the low end of the run.
 */

export interface IndexEntry {
  id: Uint8Array
  size: number
}

/** A sorted set of ids with indexed range scans. */
export interface SortedIdIndex {
  /** Up to `limit` entries with id ≥ `from`, ascending. */
  ascending(from: Uint8Array, limit: number): IndexEntry[]
  /** Up to `limit` entries with id < `before`, descending. */
  descending(before: Uint8Array, limit: number): IndexEntry[]
}

export interface ScoredEntry extends IndexEntry {
  score: number
}

export function queryLike(index: SortedIdIndex, target: Uint8Array, limit: number, minScore = 0): ScoredEntry[] {
  if (limit <= 0) return []
  const above = index.ascending(target, limit)
  const below = index.descending(target, limit)
  const candidates = [...above, ...below].map((entry) => ({ ...entry, score: likeScore(target, entry.id) }))
  candidates.sort(byScoreThenId)

  let result: ScoredEntry[]
  const threshold = candidates[limit - 1]?.score ?? 0
  const lowest = below[below.length - 1]
  if (below.length < limit || likeScore(target, lowest!.id) < threshold) {
    // Every id below the target that reaches the threshold was fetched (the scan down ran past the
    // run, or the store ended): the smallest tied ids are among the candidates, already in order.
    result = candidates.slice(0, limit)
  } else {
    result = candidates.filter((entry) => entry.score > threshold)
    // The smallest ids of the threshold score are the lowest ids of the run sharing `threshold` bits.
    for (const entry of index.ascending(prefixFloor(target, threshold), limit)) {
      if (result.length === limit) break
      const score = likeScore(target, entry.id)
      if (score === threshold) result.push({ ...entry, score })
    }
  }
  return minScore > 0 ? result.filter((entry) => entry.score >= minScore) : result
}

export function byScoreThenId(a: ScoredEntry, b: ScoredEntry): number {
  return b.score - a.score || Buffer.compare(a.id, b.id)
}

/** The smallest id sharing the first `bits` bits of `target`: those bits, then zeros. */
export function prefixFloor(target: Uint8Array, bits: number): Uint8Array {
  const floor = new Uint8Array(target.byteLength)
  const whole = Math.floor(bits / 8)
  floor.set(target.subarray(0, whole))
  const rest = bits % 8
  if (rest > 0 && whole < floor.byteLength) floor[whole] = target[whole]! & (0xff << (8 - rest))
  return floor
}
