import type { BlockId } from '@libernet/core'
import { AbortError, parseBlockId } from '@libernet/core'
import type { PeerId } from '@libp2p/interface'
import { PeerChannel, type Pending, type StreamOpener, type WantAnswer, withSignal } from './channel.ts'
import { DEFAULT_LIMITS, MAX_LIKE_RESULTS } from './constants.ts'
import { BlockNotFoundError, RequestTimeoutError } from './errors.ts'
import { PeerScores } from './scores.ts'
import type { LikeMatch, StoreOutcome } from './store.ts'
import { type BlockVerifier, verifyBlock } from './verify.ts'

export interface ClientLimits {
  wantsPerPeer: number
  wantTimeout: number
  openTimeout: number
}

export interface BlockClientInit {
  open: StreamOpener
  /** Checks every received block; default {@link verifyBlock}. */
  verify?: BlockVerifier
  /** Shared with the server side so a peer's faults count once; default a private instance. */
  scores?: PeerScores
  limits?: Partial<ClientLimits>
}

export interface RequestOptions {
  signal?: AbortSignal
  /** Milliseconds to wait for the answer; default the client's `wantTimeout`. */
  timeout?: number
}

export interface FetchOptions {
  /** Peers to ask, in order of preference. */
  peers: PeerId[]
  signal?: AbortSignal
  /** Wants in flight per peer; default the client's `wantsPerPeer`. */
  wantsPerPeer?: number
  /** Milliseconds a peer may go without answering before its wants move elsewhere; default the client's. */
  wantTimeout?: number
}

/** A block that arrived and matched its id. */
export interface FetchedBlock {
  id: BlockId
  bytes: Uint8Array
  peer: PeerId
}

export interface ClientStats {
  blocksReceived: number
  bytesReceived: number
  badBlocks: number
  dontHaves: number
  timeouts: number
}

/**
 * Fetches blocks from peers over /libernet/block/1.0.0 and offers blocks to
 * them. One stream per peer carries every request to it, pipelined.
 */
export class BlockClient {
  readonly verify: BlockVerifier
  readonly scores: PeerScores
  readonly limits: ClientLimits
  readonly stats: ClientStats = { blocksReceived: 0, bytesReceived: 0, badBlocks: 0, dontHaves: 0, timeouts: 0 }
  readonly #open: StreamOpener
  readonly #channels = new Map<string, PeerChannel>()
  #stopped = false

  constructor(init: BlockClientInit) {
    this.#open = init.open
    this.verify = init.verify ?? verifyBlock
    this.scores = init.scores ?? new PeerScores()
    this.limits = {
      wantsPerPeer: init.limits?.wantsPerPeer ?? DEFAULT_LIMITS.wantsPerPeer,
      wantTimeout: init.limits?.wantTimeout ?? DEFAULT_LIMITS.wantTimeout,
      openTimeout: init.limits?.openTimeout ?? DEFAULT_LIMITS.openTimeout,
    }
  }

  /**
   * Fetches `ids` from `peers`, yielding each block once, verified, in the
   * order they arrive. Wants are spread over the peers, `wantsPerPeer` in
   * flight on each; a want answered DONT_HAVE, left unanswered, or answered
   * with bytes that do not match moves to another peer. Blocks no peer
   * supplied end the iteration with {@link BlockNotFoundError} after every
   * other block was yielded.
   */
  fetch(ids: Iterable<BlockId>, options: FetchOptions): AsyncGenerator<FetchedBlock, void, undefined> {
    return new FetchSession(this, ids, options).run()
  }

  /** One block, verified, from the first of `peers` that has it. */
  async get(id: BlockId, options: FetchOptions): Promise<Uint8Array> {
    for await (const block of this.fetch([id], options)) return block.bytes
    throw new BlockNotFoundError([id])
  }

  /** Which of `ids` the peer says it holds (HAVE answers). */
  async has(peer: PeerId, ids: Iterable<BlockId>, options: RequestOptions = {}): Promise<Set<BlockId>> {
    const channel = this.channel(peer)
    const unique = [...new Set(ids)].map(parseBlockId)
    const answers = await this.#bounded(
      unique.map((id) => channel.want(id, true)),
      options,
    )
    return new Set(unique.filter((_, at) => answers[at]?.type !== 'dont-have'))
  }

  /** Offers a block for the peer to keep; resolves with its answer (accepted, or refused with a reason). */
  async store(peer: PeerId, id: BlockId, bytes: Uint8Array, options: RequestOptions = {}): Promise<StoreOutcome> {
    const [outcome] = await this.#bounded([this.channel(peer).store(parseBlockId(id), bytes)], options)
    return outcome as StoreOutcome
  }

  /** The peer's blocks most like `target` (at least `minScore` leading bits in common). */
  async like(
    peer: PeerId,
    target: BlockId,
    query: { minScore?: number; maxResults?: number } = {},
    options: RequestOptions = {},
  ): Promise<LikeMatch[]> {
    const maxResults = Math.min(query.maxResults ?? MAX_LIKE_RESULTS, MAX_LIKE_RESULTS)
    const pending = this.channel(peer).like(parseBlockId(target), query.minScore ?? 0, maxResults)
    const [matches] = await this.#bounded([pending], options)
    return (matches as LikeMatch[]).slice(0, maxResults)
  }

  /** Closes every stream; later calls open new ones unless the client is stopped. */
  close(stop = false): void {
    this.#stopped ||= stop
    for (const channel of this.#channels.values()) channel.close(new AbortError('block client closed'))
    this.#channels.clear()
  }

  /** @internal The open channel to `peer`, opened on first use. */
  channel(peer: PeerId): PeerChannel {
    const key = peer.toString()
    let channel = this.#channels.get(key)
    if (channel === undefined || channel.closed) {
      channel = new PeerChannel({
        peer,
        open: this.#stopped ? () => Promise.reject(new AbortError('block client stopped')) : this.#open,
        openTimeout: this.limits.openTimeout,
        onProtocolFault: (faulty) => this.scores.penalize(faulty, 'protocol'),
        onClose: (closed) => {
          if (this.#channels.get(key) === closed) this.#channels.delete(key)
        },
      })
      this.#channels.set(key, channel)
    }
    return channel
  }

  async #bounded<T>(requests: Array<Pending<T>>, options: RequestOptions): Promise<T[]> {
    const timeout = options.timeout ?? this.limits.wantTimeout
    const timer = AbortSignal.timeout(timeout)
    const signal = options.signal === undefined ? timer : AbortSignal.any([options.signal, timer])
    try {
      return await Promise.all(requests.map((request) => withSignal(request, signal)))
    } catch (err) {
      for (const request of requests) request.cancel()
      if (timer.aborted && options.signal?.aborted !== true) {
        throw new RequestTimeoutError(`no answer within ${timeout} ms`, { cause: err })
      }
      throw err
    }
  }
}

interface SessionPeer {
  peer: PeerId
  key: string
  inFlight: number
  /** Unusable for the rest of the session: unreachable, stream lost, or shunned. */
  dead: boolean
  lastAnswer: number
}

interface Want {
  id: BlockId
  peer: SessionPeer
  pending: Pending<WantAnswer>
  sentAt: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/** A want the peer has not answered in this many timeouts is abandoned even if the peer answers others. */
const MAX_WANT_AGE = 4

class FetchSession {
  readonly #client: BlockClient
  readonly #peers: SessionPeer[]
  readonly #signal: AbortSignal | undefined
  readonly #wantsPerPeer: number
  readonly #timeout: number
  /** Ids not yet answered, with the peers already asked for each. */
  readonly #tried = new Map<BlockId, Set<SessionPeer>>()
  readonly #queue: BlockId[] = []
  #queueHead = 0
  readonly #inFlight = new Set<Want>()
  readonly #ready: FetchedBlock[] = []
  readonly #missing: BlockId[] = []
  #verifying = 0
  #failure: Error | undefined
  #wake: (() => void) | undefined

  constructor(client: BlockClient, ids: Iterable<BlockId>, options: FetchOptions) {
    this.#client = client
    this.#signal = options.signal
    this.#wantsPerPeer = Math.max(1, options.wantsPerPeer ?? client.limits.wantsPerPeer)
    this.#timeout = options.wantTimeout ?? client.limits.wantTimeout
    const seen = new Set<string>()
    this.#peers = []
    for (const peer of options.peers) {
      const key = peer.toString()
      if (seen.has(key)) continue
      seen.add(key)
      this.#peers.push({ peer, key, inFlight: 0, dead: false, lastAnswer: 0 })
    }
    for (const id of ids) {
      if (this.#tried.has(id)) continue
      this.#tried.set(parseBlockId(id), new Set())
      this.#queue.push(id)
    }
  }

  async *run(): AsyncGenerator<FetchedBlock, void, undefined> {
    const onAbort = (): void => this.#notify()
    this.#signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.#pump()
      for (;;) {
        if (this.#signal?.aborted === true) throw new AbortError(undefined, { cause: this.#signal.reason })
        if (this.#failure !== undefined) throw this.#failure
        const block = this.#ready.shift()
        if (block !== undefined) {
          yield block
          this.#pump()
          continue
        }
        if (this.#tried.size === 0) break
        const { promise, resolve } = Promise.withResolvers<void>()
        this.#wake = resolve
        await promise
      }
      if (this.#missing.length > 0) throw new BlockNotFoundError(this.#missing)
    } finally {
      this.#signal?.removeEventListener('abort', onAbort)
      for (const want of this.#inFlight) {
        clearTimeout(want.timer)
        want.pending.cancel()
      }
      this.#inFlight.clear()
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Hands queued ids to peers with free slots, keeping in flight plus undelivered within the window. */
  #pump(): void {
    if (this.#signal?.aborted === true || this.#failure !== undefined) return
    const live = this.#peers.filter((peer) => !peer.dead && !this.#client.scores.isBanned(peer.peer))
    const window = this.#wantsPerPeer * Math.max(1, live.length)
    const deferred: BlockId[] = []
    while (this.#queueHead < this.#queue.length) {
      if (this.#inFlight.size + this.#verifying + this.#ready.length >= window) break
      if (!live.some((peer) => peer.inFlight < this.#wantsPerPeer)) break
      const id = this.#queue[this.#queueHead++] as BlockId
      const tried = this.#tried.get(id)
      if (tried === undefined) continue
      const untried = live.filter((peer) => !tried.has(peer))
      if (untried.length === 0) {
        this.#giveUp(id)
        continue
      }
      let best: SessionPeer | undefined
      for (const peer of untried) {
        if (peer.inFlight < this.#wantsPerPeer && (best === undefined || peer.inFlight < best.inFlight)) best = peer
      }
      if (best === undefined) deferred.push(id)
      else this.#send(id, best)
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead)
      this.#queueHead = 0
    }
    this.#requeue(deferred)
    // Ids still queued when no live peer is left will never be asked.
    if (live.length === 0) {
      for (const id of this.#queue.slice(this.#queueHead)) this.#giveUp(id)
      this.#queue.length = 0
      this.#queueHead = 0
    }
    this.#notify()
  }

  #requeue(ids: BlockId[]): void {
    if (ids.length === 0) return
    if (this.#queueHead >= ids.length) {
      this.#queueHead -= ids.length
      for (let at = 0; at < ids.length; at++) this.#queue[this.#queueHead + at] = ids[at] as BlockId
    } else {
      this.#queue.splice(this.#queueHead, 0, ...ids)
    }
  }

  #giveUp(id: BlockId): void {
    if (!this.#tried.delete(id)) return
    this.#missing.push(id)
  }

  #send(id: BlockId, peer: SessionPeer): void {
    this.#tried.get(id)?.add(peer)
    peer.inFlight++
    const pending = this.#client.channel(peer.peer).want(id)
    const want: Want = { id, peer, pending, sentAt: performance.now(), timer: undefined }
    want.timer = this.#arm(want, this.#timeout)
    this.#inFlight.add(want)
    pending.promise.then(
      (answer) => this.#answered(want, answer),
      () => this.#lost(want),
    )
  }

  /**
   * A peer that has answered nothing for a whole timeout is stalled: it is
   * penalized once and all its wants move elsewhere. A single want several
   * timeouts old, while the peer answers others, moves alone.
   */
  #arm(want: Want, delay: number): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      if (!this.#inFlight.has(want)) return
      const now = performance.now()
      const quiet = now - Math.max(want.peer.lastAnswer, want.sentAt)
      const age = now - want.sentAt
      if (quiet < this.#timeout && age < this.#timeout * MAX_WANT_AGE) {
        want.timer = this.#arm(want, this.#timeout - quiet)
        return
      }
      this.#client.stats.timeouts++
      this.#client.scores.penalize(want.peer.peer, 'timeout')
      want.pending.cancel()
      this.#retire(want)
      this.#requeue([want.id])
      if (quiet >= this.#timeout) this.#abandon(want.peer)
      else this.#pump()
    }, delay)
  }

  #retire(want: Want): boolean {
    if (!this.#inFlight.delete(want)) return false
    clearTimeout(want.timer)
    want.peer.inFlight--
    return true
  }

  #answered(want: Want, answer: WantAnswer): void {
    if (!this.#retire(want)) return
    want.peer.lastAnswer = performance.now()
    if (answer.type !== 'block') {
      this.#client.stats.dontHaves++
      this.#requeue([want.id])
      this.#pump()
      return
    }
    this.#verifying++
    Promise.resolve()
      .then(() => this.#client.verify(want.id, answer.data))
      .then(
        (valid) => {
          this.#verifying--
          this.#verified(want, answer.data, valid)
        },
        (err: Error) => {
          this.#verifying--
          this.#failure = err
          this.#notify()
        },
      )
  }

  #verified(want: Want, data: Uint8Array, valid: boolean): void {
    const client = this.#client
    if (!valid) {
      client.stats.badBlocks++
      client.scores.penalize(want.peer.peer, 'bad-block')
      if (this.#tried.has(want.id)) this.#requeue([want.id])
      this.#abandon(want.peer)
      return
    }
    if (!this.#tried.delete(want.id)) return
    client.stats.blocksReceived++
    client.stats.bytesReceived += data.byteLength
    this.#ready.push({ id: want.id, bytes: data, peer: want.peer.peer })
    this.#notify()
  }

  /** The channel to the peer is gone (unreachable, reset, protocol fault): its other wants fail the same way. */
  #lost(want: Want): void {
    if (!this.#retire(want)) return
    this.#requeue([want.id])
    this.#abandon(want.peer)
  }

  /** One bad block or a lost stream and a peer is out of this session; enough faults and it is out everywhere. */
  #abandon(peer: SessionPeer): void {
    peer.dead = true
    const moved: BlockId[] = []
    for (const want of this.#inFlight) {
      if (want.peer !== peer) continue
      want.pending.cancel()
      this.#retire(want)
      moved.push(want.id)
    }
    this.#requeue(moved)
    this.#pump()
  }
}
