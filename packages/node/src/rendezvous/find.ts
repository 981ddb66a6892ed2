/**
 * Finding a user's backups with only a name and a passphrase, and writing
 * the index that makes them findable (DESIGN §2 "Rendezvous").
 *
 * Anyone can mine blocks toward a user's target, so every candidate is
 * hostile: one that does not decrypt with the passphrase, is not an index or
 * names another user is dropped without a word. The caller learns only what
 * the right passphrase opens; with a wrong one, the answer is empty.
 */
import {
  type BlockId,
  contentUrl,
  DEFAULT_LIKE_SCORE,
  decodePassphrase,
  isBlockId,
  LEGACY_MAX_BLOCK_SIZE,
  likeScore,
  passphraseKey,
  throwIfAborted,
} from '@libernet/core'
import { InvalidArgumentError } from '../errors.ts'
import {
  type BackupIndex,
  INDEX_VERSION,
  type IndexEntry,
  type IndexMachines,
  isIsoTime,
  MAX_SUPERSEDES,
  machinesFromMap,
  machinesToMap,
  mergeIndexes,
  parseIndex,
  serializeIndex,
} from './index-format.ts'
import {
  LIKE_LIST_SIZE,
  type MineBlockOptions,
  type MinedPassphraseBlock,
  minePassphraseBlock,
  requiredScore,
} from './mine.ts'
import { assertUserName, recentMonths, rendezvousTarget, type YearMonth, yearMonthOf } from './target.ts'

/** One entry of a like answer. */
export interface LikeCandidate {
  id: BlockId
  size: number
  score: number
}

/** Asks the store (or the network) for the ids closest to `target`, best first. */
export type LikeQuery = (
  target: BlockId,
  options: { minScore: number; limit: number; signal?: AbortSignal },
) => Promise<readonly LikeCandidate[]> | readonly LikeCandidate[]

/** Fetches a block's stored bytes; `undefined` when nobody has it. */
export type GetBlock = (id: BlockId, options: { signal?: AbortSignal }) => Promise<Uint8Array | undefined>

/** How many months a lookup goes back by default, the current one included. */
export const DEFAULT_MONTHS = 12

export interface FindBackupsOptions {
  user: string
  passphrase: string
  like: LikeQuery
  get: GetBlock
  /** Months to look in, the current one included; default {@link DEFAULT_MONTHS}. */
  months?: number
  /** Default: the current time. */
  now?: Date
  /** Candidates asked for per month; default 100, as many as a like answer holds. */
  limit?: number
  /** Candidates fetched at once; default 8. */
  concurrency?: number
  signal?: AbortSignal
}

export interface FoundIndex {
  id: BlockId
  /** `/sha256/{id}/passphrase/{key}` */
  url: string
  month: YearMonth
  index: BackupIndex
}

export interface FoundBackups {
  /** machine → folder → latest snapshot, merged over every index found; empty when none opened. */
  machines: IndexMachines
  /** The index blocks that opened with the passphrase and name the user, newest month first. */
  indexes: FoundIndex[]
}

function assertPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new InvalidArgumentError('a passphrase is a non-empty string')
  }
}

/**
 * The index inside `stored` if it opens with `key` and belongs to `user`,
 * else `undefined`: every way a hostile or foreign block can fail
 * (verification, padding, zlib, JSON, shape, user) looks the same.
 */
export function openIndexBlock(id: BlockId, stored: Uint8Array, user: string, key: BlockId): BackupIndex | undefined {
  try {
    const index = parseIndex(decodePassphrase(stored, key, { id, mined: true }))
    return index.user === user ? index : undefined
  } catch {
    return undefined
  }
}

/**
 * Looks for `user`'s indexes in the last `months` months: a like query per
 * month's target, then each candidate fetched and opened with the passphrase.
 * Errors of `like` and `get` themselves (the network, the store) propagate;
 * candidates that do not open are skipped.
 */
export async function findBackups(options: FindBackupsOptions): Promise<FoundBackups> {
  const { user, passphrase, like, get, signal } = options
  assertUserName(user)
  assertPassphrase(passphrase)
  const limit = options.limit ?? LIKE_LIST_SIZE
  const concurrency = options.concurrency ?? 8
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to 10000, got ${limit}`)
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`concurrency must be a positive integer, got ${concurrency}`)
  }
  const months = recentMonths(options.now ?? new Date(), options.months ?? DEFAULT_MONTHS)
  const key = passphraseKey(passphrase)
  throwIfAborted(signal)

  // The months are asked at once: over the network each answer is a round trip or more.
  const answers = await Promise.all(
    months.map(async (month) => {
      const target = rendezvousTarget(user, month)
      const answer = await like(target, { minScore: DEFAULT_LIKE_SCORE, limit, ...withSignal(signal) })
      return { month, target, answer }
    }),
  )
  throwIfAborted(signal)
  const seen = new Set<BlockId>()
  const candidates: { id: BlockId; month: YearMonth; order: number }[] = []
  for (const { month, target, answer } of answers) {
    for (const match of answer.slice(0, limit)) {
      // Answers come from peers: ids that are not ids, or not near the target, and
      // sizes no block can have are not worth fetching.
      if (!isBlockId(match.id) || seen.has(match.id)) continue
      if (likeScore(match.id, target) < DEFAULT_LIKE_SCORE) continue
      if (!(match.size > 0 && match.size <= LEGACY_MAX_BLOCK_SIZE)) continue
      seen.add(match.id)
      candidates.push({ id: match.id, month, order: candidates.length })
    }
  }

  const opened: (FoundIndex & { order: number })[] = []
  await forEachLimited(candidates, concurrency, async (candidate) => {
    throwIfAborted(signal)
    const stored = await get(candidate.id, withSignal(signal))
    if (stored === undefined) return
    const index = openIndexBlock(candidate.id, stored, user, key)
    if (index === undefined) return
    opened.push({
      id: candidate.id,
      url: contentUrl('passphrase', candidate.id, key),
      month: candidate.month,
      index,
      order: candidate.order,
    })
  })
  throwIfAborted(signal)
  opened.sort((a, b) => a.order - b.order)
  const indexes = opened.map(({ order: _, ...found }) => found)
  return { machines: mergeIndexes(indexes.map((found) => found.index)), indexes }
}

export interface WriteIndexOptions extends FindBackupsOptions, Omit<MineBlockOptions, 'minScore' | 'signal'> {
  /** This machine's name, as the index lists it. */
  machine: string
  /** The folder backed up (absolute path on this machine). */
  folder: string
  /** The snapshot just taken: its top bundle URL and when it was taken. */
  snapshot: { url: string; time: string | Date }
  /**
   * Score the block must reach; default: what this month's like answer
   * requires (12, or one more than its weakest entry once it holds 100),
   * at most {@link MAX_AUTO_SCORE}.
   */
  minScore?: number
}

export interface WrittenIndex extends MinedPassphraseBlock {
  /** The id the block was mined toward: this month's target. */
  target: BlockId
  index: BackupIndex
}

/**
 * Builds and mines the user's new index: everything the indexes found
 * already list (so one index names every machine), this machine's folder
 * set to `snapshot`, and the found indexes listed as superseded. The caller
 * stores and pins the returned block like any other of the owner's blocks.
 */
export async function writeIndex(options: WriteIndexOptions): Promise<WrittenIndex> {
  const { user, passphrase, machine, folder, snapshot, like, signal } = options
  const time = snapshot.time instanceof Date ? snapshot.time.toISOString() : snapshot.time
  if (typeof time !== 'string' || !isIsoTime(time)) throw new InvalidArgumentError('a snapshot time is ISO 8601 UTC')
  const now = options.now ?? new Date()
  const found = await findBackups({ ...options, now })

  const machines = machinesToMap(found.machines)
  const folders = machines.get(machine) ?? new Map<string, IndexEntry>()
  folders.set(folder, { url: snapshot.url, time })
  machines.set(machine, folders)
  const supersedes = [...new Set(found.indexes.map((index) => index.url))].slice(0, MAX_SUPERSEDES)
  const index: BackupIndex = { user, machines: machinesFromMap(machines), supersedes, version: INDEX_VERSION }
  const plaintext = serializeIndex(index)

  const target = rendezvousTarget(user, yearMonthOf(now))
  const minScore = options.minScore ?? (await scoreToBeListed(like, target, signal))
  const mined = await minePassphraseBlock(plaintext, passphrase, target, {
    minScore,
    ...pick(options, ['threads', 'onProgress', 'progressInterval', 'maxAttempts']),
    ...withSignal(signal),
  })
  return { ...mined, target, index }
}

/**
 * Highest score {@link writeIndex} picks by itself: past it (16M attempts,
 * a minute or two on a small machine) whoever crowds the like answer wins,
 * and the index is still written, if possibly less easy to find.
 */
export const MAX_AUTO_SCORE = 24

/**
 * What this month's like answer requires. Scores are taken from the ids, not
 * from what the answer claims: a peer could claim 100 perfect matches to
 * make the writer mine forever.
 */
async function scoreToBeListed(like: LikeQuery, target: BlockId, signal: AbortSignal | undefined): Promise<number> {
  const answer = await like(target, { minScore: DEFAULT_LIKE_SCORE, limit: LIKE_LIST_SIZE, ...withSignal(signal) })
  const scores = answer
    .slice(0, LIKE_LIST_SIZE)
    .filter((match) => isBlockId(match.id))
    .map((match) => ({ score: likeScore(match.id, target) }))
  return Math.min(requiredScore(scores), MAX_AUTO_SCORE)
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal }
}

function pick<T extends object, K extends keyof T>(object: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key]
  return out
}

async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!)
  })
  const results = await Promise.allSettled(lanes)
  const failure = results.find((result) => result.status === 'rejected')
  if (failure !== undefined) throw failure.reason
}
