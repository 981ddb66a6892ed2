import type { BlockId } from '@libernet/core'
import { AbortError } from '@libernet/core'
import type { PeerId, Stream, StreamMessageEvent } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { decodeMessage, encodeFrame, FrameDecoder, type Message } from './codec.ts'
import { DEFAULT_LIMITS, MAX_IDS_PER_FRAME, MAX_LIKE_RESULTS } from './constants.ts'
import { LimitExceededError, ProtocolError } from './errors.ts'
import { ByteRateLimiter } from './rate-limiter.ts'
import { PeerScores } from './scores.ts'
import type { BlockSource, LikeMatch, RefusalReason, StoreOutcome } from './store.ts'
import { type BlockVerifier, verifyBlock } from './verify.ts'

export interface ServerLimits {
  maxWantsPerPeer: number
  maxStoreBytesPerPeer: number
  serverConcurrency: number
  maxBytesPerSecondPerPeer: number
  maxInboundStreams: number
  streamIdleTimeout: number
}

export interface BlockServerInit {
  source: BlockSource
  /** Checks STORE offers; default {@link verifyBlock}. */
  verify?: BlockVerifier
  /** Shared with the client side so a peer's faults count once; default a private instance. */
  scores?: PeerScores
  limits?: Partial<ServerLimits>
}

/** The part of a libp2p Connection the server reads. */
export interface RemotePeer {
  remotePeer: PeerId
}

export interface ServerStats {
  streamsAccepted: number
  streamsRefused: number
  streamsFailed: number
  activeStreams: number
  blocksServed: number
  bytesServed: number
  dontHaves: number
  storesAccepted: number
  storesRefused: number
  likeQueries: number
}

type Task =
  | { kind: 'want'; id: BlockId; haveOnly: boolean; cancelled: boolean }
  | { kind: 'store'; id: BlockId; data: Uint8Array; cancelled: false }
  | { kind: 'like'; target: BlockId; minScore: number; maxResults: number; cancelled: false }

/** Per remote peer, shared by all its streams: the request budget and the byte pace. */
interface PeerState {
  key: string
  remote: PeerId
  /** Requests queued or running. */
  load: number
  /** Bytes of STORE data queued or being stored. */
  storeBytes: number
  limiter: ByteRateLimiter
  streams: Set<ServerStream>
}

/**
 * Answers /libernet/block/1.0.0 streams from a {@link BlockSource}.
 *
 * Each stream reads frames only while its peer has fewer than
 * `maxWantsPerPeer` requests queued or running; beyond that the stream is
 * paused, so the muxer's flow control holds the peer back. A frame that
 * breaks the protocol ends its stream and counts against the peer.
 */
export class BlockServer {
  readonly source: BlockSource
  readonly verify: BlockVerifier
  readonly scores: PeerScores
  readonly limits: ServerLimits
  readonly stats: ServerStats = {
    streamsAccepted: 0,
    streamsRefused: 0,
    streamsFailed: 0,
    activeStreams: 0,
    blocksServed: 0,
    bytesServed: 0,
    dontHaves: 0,
    storesAccepted: 0,
    storesRefused: 0,
    likeQueries: 0,
  }

  readonly #peers = new Map<string, PeerState>()

  constructor(init: BlockServerInit) {
    this.source = init.source
    this.verify = init.verify ?? verifyBlock
    this.scores = init.scores ?? new PeerScores()
    this.limits = {
      maxWantsPerPeer: init.limits?.maxWantsPerPeer ?? DEFAULT_LIMITS.maxWantsPerPeer,
      maxStoreBytesPerPeer: init.limits?.maxStoreBytesPerPeer ?? DEFAULT_LIMITS.maxStoreBytesPerPeer,
      serverConcurrency: init.limits?.serverConcurrency ?? DEFAULT_LIMITS.serverConcurrency,
      maxBytesPerSecondPerPeer: init.limits?.maxBytesPerSecondPerPeer ?? DEFAULT_LIMITS.maxBytesPerSecondPerPeer,
      maxInboundStreams: init.limits?.maxInboundStreams ?? DEFAULT_LIMITS.maxInboundStreams,
      streamIdleTimeout: init.limits?.streamIdleTimeout ?? DEFAULT_LIMITS.streamIdleTimeout,
    }
    this.handleStream = this.handleStream.bind(this)
  }

  /** A libp2p stream handler: `registrar.handle(BLOCK_PROTOCOL, server.handleStream)`. */
  handleStream(stream: Stream, connection: RemotePeer): void {
    const remote = connection.remotePeer
    const key = remote.toString()
    if (this.scores.isBanned(remote)) {
      this.stats.streamsRefused++
      stream.abort(new LimitExceededError('peer is shunned after repeated faults'))
      return
    }
    if (this.stats.activeStreams >= this.limits.maxInboundStreams) {
      this.stats.streamsRefused++
      stream.abort(new LimitExceededError(`more than ${this.limits.maxInboundStreams} block streams open`))
      return
    }
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      peer = {
        key,
        remote,
        load: 0,
        storeBytes: 0,
        limiter: new ByteRateLimiter(this.limits.maxBytesPerSecondPerPeer),
        streams: new Set(),
      }
      this.#peers.set(key, peer)
    }
    this.stats.streamsAccepted++
    this.stats.activeStreams++
    new ServerStream(this, stream, peer).start()
  }

  /** Ends every open stream (the service calls this when it stops). */
  close(): void {
    for (const peer of this.#peers.values()) {
      for (const served of peer.streams) served.abort(new AbortError('block server stopped'))
    }
  }

  /** @internal A stream closed. */
  release(served: ServerStream, peer: PeerState): void {
    peer.streams.delete(served)
    this.stats.activeStreams--
    this.settle(peer)
  }

  /** @internal Forgets a peer with no streams and no work left. */
  settle(peer: PeerState): void {
    if (peer.streams.size === 0 && peer.load === 0) this.#peers.delete(peer.key)
  }
}

class ServerStream {
  readonly #server: BlockServer
  readonly #stream: Stream
  readonly #peer: PeerState
  readonly #decoder = new FrameDecoder()
  readonly #controller = new AbortController()
  readonly #queue: Task[] = []
  #active = 0
  #closed = false
  #pumping = false
  #pendingPresence: { have: BlockId[]; dontHave: BlockId[] } | undefined
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  #lastActivity = performance.now()

  constructor(server: BlockServer, stream: Stream, peer: PeerState) {
    this.#server = server
    this.#stream = stream
    this.#peer = peer
  }

  start(): void {
    this.#peer.streams.add(this)
    this.#stream.addEventListener('message', (event: StreamMessageEvent) => {
      this.#touch()
      this.#decoder.push(event.data)
      this.pump()
    })
    this.#stream.addEventListener('end', () => this.#maybeFinish())
    this.#stream.addEventListener('close', () => this.#onClose(), { once: true })
    this.#armIdleTimer()
  }

  abort(err: Error): void {
    this.#stream.abort(err)
  }

  /**
   * Turns buffered bytes into queued tasks while the peer has budget left,
   * starts tasks while there are free workers, and pauses or resumes reading.
   * Not re-entrant: budget freed while it runs is picked up by its own loop.
   */
  pump(): void {
    if (this.#pumping || this.#closed) return
    this.#pumping = true
    const { serverConcurrency } = this.#server.limits
    try {
      let progressed = true
      while (progressed && !this.#closed) {
        progressed = false
        while (!this.#saturated()) {
          const body = this.#decoder.next()
          if (body === undefined) break
          this.#accept(decodeMessage(body))
          progressed = true
        }
        while (this.#active < serverConcurrency && this.#queue.length > 0) {
          const task = this.#queue.shift()
          if (task === undefined) break
          progressed = true
          if (task.cancelled) {
            this.#release(task)
            continue
          }
          this.#start(task)
        }
      }
    } catch (err) {
      this.#fail(err as Error)
      return
    } finally {
      this.#pumping = false
    }
    this.#updateFlow()
    this.#maybeFinish()
  }

  #accept(message: Message): void {
    switch (message.type) {
      case 'want':
        if (message.cancel) {
          this.#cancel(message.ids)
          return
        }
        for (const id of message.ids) {
          this.#enqueue({ kind: 'want', id, haveOnly: message.haveOnly, cancelled: false })
        }
        return
      case 'store':
        this.#enqueue({ kind: 'store', id: message.id, data: message.data, cancelled: false })
        return
      case 'like':
        this.#enqueue({ ...message, kind: 'like', cancelled: false })
        return
      default:
        throw new ProtocolError(`a client sent a ${message.type} frame`)
    }
  }

  #enqueue(task: Task): void {
    this.#queue.push(task)
    this.#peer.load++
    if (task.kind === 'store') this.#peer.storeBytes += task.data.byteLength
  }

  /** A task left the queue for good: give its budget back. */
  #release(task: Task): void {
    this.#peer.load--
    if (task.kind === 'store') this.#peer.storeBytes -= task.data.byteLength
  }

  #cancel(ids: BlockId[]): void {
    const cancelled = new Set(ids)
    for (const task of this.#queue) {
      if (task.kind === 'want' && cancelled.has(task.id)) task.cancelled = true
    }
  }

  /** Whether the peer has spent its budget of requests or of STORE bytes. */
  #saturated(): boolean {
    const { maxWantsPerPeer, maxStoreBytesPerPeer } = this.#server.limits
    return this.#peer.load >= maxWantsPerPeer || this.#peer.storeBytes >= maxStoreBytesPerPeer
  }

  /** Pauses the stream while the peer's budget is spent, resumes it once there is room again. */
  #updateFlow(): void {
    if (this.#closed) return
    const stream = this.#stream
    const full = this.#saturated()
    if (full && stream.readStatus === 'readable') stream.pause()
    else if (!full && stream.readStatus === 'paused') stream.resume()
  }

  #start(task: Task): void {
    this.#active++
    this.#run(task).then(
      () => this.#finished(task),
      (err: Error) => {
        this.#finished(task)
        this.#fail(err)
      },
    )
  }

  /** One request finished: its budget goes back to every stream of the peer. */
  #finished(task: Task): void {
    this.#active--
    this.#release(task)
    for (const sibling of this.#peer.streams) sibling.pump()
    if (this.#closed) this.#server.settle(this.#peer)
  }

  async #run(task: Task): Promise<void> {
    const signal = this.#controller.signal
    const server = this.#server
    if (task.kind === 'want') {
      if (task.haveOnly) {
        const has = await orFalse(() => server.source.has(task.id, { signal }))
        this.#presence(task.id, has)
        return
      }
      const data = await orUndefined(() => server.source.get(task.id, { signal }))
      if (data === undefined) {
        this.#presence(task.id, false)
        return
      }
      server.source.recordRequest?.(task.id)
      await this.#peer.limiter.take(data.byteLength, signal)
      await this.#send(encodeFrame({ type: 'block', id: task.id, data }))
      server.stats.blocksServed++
      server.stats.bytesServed += data.byteLength
      return
    }
    if (task.kind === 'store') {
      const outcome = await this.#store(task.id, task.data)
      if (outcome.accepted) server.stats.storesAccepted++
      else server.stats.storesRefused++
      await this.#send(encodeFrame({ type: 'stored', id: task.id, outcome }))
      return
    }
    server.stats.likeQueries++
    const limit = Math.min(task.maxResults === 0 ? MAX_LIKE_RESULTS : task.maxResults, MAX_LIKE_RESULTS)
    const like = server.source.like?.bind(server.source)
    const query = { limit, minScore: task.minScore }
    const matches = like === undefined ? [] : await orEmpty(() => like(task.target, query, { signal }))
    await this.#send(encodeFrame({ type: 'liked', target: task.target, matches: matches.slice(0, limit) }))
  }

  async #store(id: BlockId, data: Uint8Array): Promise<StoreOutcome> {
    const server = this.#server
    if (server.source.put === undefined) {
      return { accepted: false, reason: 'unavailable', detail: 'this node does not take blocks' }
    }
    let valid: boolean
    try {
      valid = await server.verify(id, data)
    } catch (err) {
      return { accepted: false, reason: 'error', detail: `cannot verify: ${(err as Error)?.message ?? err}` }
    }
    if (!valid) {
      this.#penalize('bad-block')
      return { accepted: false, reason: 'invalid', detail: 'data does not match the id' }
    }
    try {
      await server.source.put(id, data, { signal: this.#controller.signal })
      return { accepted: true }
    } catch (err) {
      if (this.#controller.signal.aborted) throw err
      return { accepted: false, reason: refusalReasonOf(err), detail: String((err as Error)?.message ?? err) }
    }
  }

  /** HAVE / DONT_HAVE answers that complete in the same tick travel in one frame each. */
  #presence(id: BlockId, has: boolean): void {
    if (!has) this.#server.stats.dontHaves++
    if (this.#pendingPresence === undefined) {
      this.#pendingPresence = { have: [], dontHave: [] }
      queueMicrotask(() => this.#flushPresence())
    }
    ;(has ? this.#pendingPresence.have : this.#pendingPresence.dontHave).push(id)
  }

  #flushPresence(): void {
    const pending = this.#pendingPresence
    this.#pendingPresence = undefined
    if (pending === undefined || this.#closed) return
    try {
      for (const [type, ids] of [
        ['have', pending.have],
        ['dont-have', pending.dontHave],
      ] as const) {
        for (let at = 0; at < ids.length; at += MAX_IDS_PER_FRAME) {
          this.#stream.send(encodeFrame({ type, ids: ids.slice(at, at + MAX_IDS_PER_FRAME) }))
        }
      }
      this.#touch()
    } catch (err) {
      this.#fail(err as Error)
      return
    }
    this.#maybeFinish()
  }

  async #send(frame: Uint8ArrayList): Promise<void> {
    const signal = this.#controller.signal
    if (signal.aborted) throw new AbortError(undefined, { cause: signal.reason })
    if (!this.#stream.send(frame)) await this.#stream.onDrain({ signal })
    this.#touch()
  }

  #penalize(fault: 'bad-block' | 'protocol'): void {
    this.#server.scores.penalize(this.#peer.remote, fault)
  }

  #fail(err: Error): void {
    if (this.#closed) return
    if (err instanceof ProtocolError) this.#penalize('protocol')
    this.#server.stats.streamsFailed++
    this.#stream.abort(err)
  }

  /** Closes the stream once the client has finished sending and every request is answered. */
  #maybeFinish(): void {
    if (this.#closed || !this.#stream.readableEnded) return
    if (this.#queue.length > 0 || this.#active > 0 || this.#pendingPresence !== undefined) return
    if (this.#decoder.bufferedBytes > 0) {
      this.#fail(new ProtocolError('stream ended inside a frame'))
      return
    }
    this.#stream.close().catch((err: Error) => this.#stream.abort(err))
  }

  #onClose(): void {
    this.#closed = true
    clearTimeout(this.#idleTimer)
    this.#controller.abort()
    // Queued tasks will never run: hand their budget back.
    for (const task of this.#queue) this.#release(task)
    this.#queue.length = 0
    this.#server.release(this, this.#peer)
    for (const sibling of this.#peer.streams) sibling.pump()
  }

  #touch(): void {
    this.#lastActivity = performance.now()
  }

  #armIdleTimer(): void {
    const timeout = this.#server.limits.streamIdleTimeout
    const due = this.#lastActivity + timeout - performance.now()
    this.#idleTimer = setTimeout(
      () => {
        if (this.#closed) return
        const busy = this.#active > 0 || this.#queue.length > 0
        if (!busy && performance.now() - this.#lastActivity >= timeout) {
          this.#stream.abort(new LimitExceededError(`block stream idle for ${timeout} ms`))
          return
        }
        if (busy) this.#touch()
        this.#armIdleTimer()
      },
      Math.max(due, 10),
    )
    this.#idleTimer.unref?.()
  }
}

function refusalReasonOf(err: unknown): RefusalReason {
  const { name, code } = (err ?? {}) as { name?: unknown; code?: unknown }
  if (name === 'QuotaExceededError' || code === 'ERR_QUOTA_EXCEEDED') return 'quota'
  if (name === 'BlockVerificationError') return 'invalid'
  if (name === 'BlockTooLargeError') return 'too-large'
  return 'error'
}

async function orFalse(fn: () => Promise<boolean> | boolean): Promise<boolean> {
  try {
    return await fn()
  } catch {
    return false
  }
}

async function orEmpty(fn: () => Promise<LikeMatch[]> | LikeMatch[]): Promise<LikeMatch[]> {
  try {
    return await fn()
  } catch {
    return []
  }
}

async function orUndefined(
  fn: () => Promise<Uint8Array | undefined> | Uint8Array | undefined,
): Promise<Uint8Array | undefined> {
  try {
    return await fn()
  } catch {
    return undefined
  }
}
