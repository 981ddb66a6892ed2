import type { BlockId } from '@libernet/core'
import { AbortError } from '@libernet/core'
import type { PeerId, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { decodeMessage, encodeFrame, FrameDecoder, type Message } from './codec.ts'
import { MAX_IDS_PER_FRAME } from './constants.ts'
import { PeerUnavailableError, ProtocolError } from './errors.ts'
import type { LikeMatch, StoreOutcome } from './store.ts'

/** Opens a /libernet/block stream to a peer (the service passes the connection manager's `openStream`). */
export type StreamOpener = (peer: PeerId, options: { signal: AbortSignal }) => Promise<Stream>

/** What a peer answered to a want. */
export type WantAnswer = { type: 'block'; data: Uint8Array } | { type: 'have' } | { type: 'dont-have' }

/** An outstanding request: settle it by its answer, or withdraw it with `cancel`. */
export interface Pending<T> {
  readonly promise: Promise<T>
  cancel(): void
}

interface Outbox {
  want: BlockId[]
  have: BlockId[]
  cancel: BlockId[]
  other: Message[]
}

interface Waiter<T> {
  resolve(value: T): void
  reject(err: Error): void
}

export interface PeerChannelInit {
  peer: PeerId
  open: StreamOpener
  openTimeout: number
  /** Told when the peer broke the wire format; the channel is closed already. */
  onProtocolFault?: (peer: PeerId, err: ProtocolError) => void
  /** Told when the channel can no longer be used. */
  onClose?: (channel: PeerChannel) => void
}

/**
 * The client end of one stream to one peer. Requests are pipelined: each
 * is written as soon as it is made (wants made in the same tick share a
 * frame), answers are matched by id as they come. Requests for an id that is
 * already outstanding share the one the peer is working on.
 */
export class PeerChannel {
  readonly peer: PeerId
  readonly #init: PeerChannelInit
  readonly #decoder = new FrameDecoder()
  readonly #openController = new AbortController()
  readonly #wants = new Map<BlockId, Set<Waiter<WantAnswer>>>()
  readonly #haves = new Map<BlockId, Set<Waiter<WantAnswer>>>()
  readonly #stores = new Map<BlockId, Set<Waiter<StoreOutcome>>>()
  readonly #likes = new Map<BlockId, Array<Waiter<LikeMatch[]>>>()
  #stream: Stream | undefined
  #outbox: Outbox | undefined
  #closedWith: Error | undefined

  constructor(init: PeerChannelInit) {
    this.peer = init.peer
    this.#init = init
    this.#open()
  }

  get closed(): boolean {
    return this.#closedWith !== undefined
  }

  /** Requests still waiting for an answer. */
  get outstanding(): number {
    return this.#wants.size + this.#haves.size + this.#stores.size + this.#likes.size
  }

  want(id: BlockId, haveOnly = false): Pending<WantAnswer> {
    const table = haveOnly ? this.#haves : this.#wants
    return this.#request(
      table,
      id,
      () => this.#queue(haveOnly ? 'have' : 'want', id),
      () => this.#queue('cancel', id),
    )
  }

  store(id: BlockId, data: Uint8Array): Pending<StoreOutcome> {
    return this.#request(this.#stores, id, () => this.#queueMessage({ type: 'store', id, data }))
  }

  like(target: BlockId, minScore: number, maxResults: number): Pending<LikeMatch[]> {
    const { promise, resolve, reject } = Promise.withResolvers<LikeMatch[]>()
    const waiter = { resolve, reject }
    if (this.#closedWith !== undefined) {
      reject(this.#closedWith)
      return { promise, cancel: () => {} }
    }
    const queue = this.#likes.get(target) ?? []
    queue.push(waiter)
    this.#likes.set(target, queue)
    this.#queueMessage({ type: 'like', target, minScore, maxResults })
    return {
      promise,
      cancel: () => {
        // The answer still arrives in turn; a cancelled place just swallows it.
        waiter.resolve = () => {}
        waiter.reject = () => {}
      },
    }
  }

  /** Closes the stream; outstanding requests fail with {@link PeerUnavailableError}. */
  close(err: Error = new PeerUnavailableError('block channel closed')): void {
    this.#shutdown(err)
    this.#stream?.abort(err)
  }

  #request<T>(table: Map<BlockId, Set<Waiter<T>>>, id: BlockId, send: () => void, withdraw?: () => void): Pending<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    const waiter: Waiter<T> = { resolve, reject }
    if (this.#closedWith !== undefined) {
      reject(this.#closedWith)
      return { promise, cancel: () => {} }
    }
    let waiters = table.get(id)
    if (waiters === undefined) {
      waiters = new Set()
      table.set(id, waiters)
      send()
    }
    waiters.add(waiter)
    return {
      promise,
      cancel: () => {
        const current = table.get(id)
        if (current === undefined || !current.delete(waiter)) return
        if (current.size === 0) {
          table.delete(id)
          withdraw?.()
        }
      },
    }
  }

  #queue(kind: 'want' | 'have' | 'cancel', id: BlockId): void {
    this.#pendingOutbox()[kind].push(id)
  }

  #queueMessage(message: Message): void {
    this.#pendingOutbox().other.push(message)
  }

  /** Frames made in one tick go out together once the stream is open. */
  #pendingOutbox(): Outbox {
    if (this.#outbox === undefined) {
      this.#outbox = { want: [], have: [], cancel: [], other: [] }
      if (this.#stream !== undefined) queueMicrotask(() => this.#flush())
    }
    return this.#outbox
  }

  #flush(): void {
    const outbox = this.#outbox
    const stream = this.#stream
    if (outbox === undefined || stream === undefined || this.#closedWith !== undefined) return
    this.#outbox = undefined
    try {
      for (const [ids, haveOnly, cancel] of [
        [outbox.cancel, false, true],
        [outbox.want, false, false],
        [outbox.have, true, false],
      ] as const) {
        for (let at = 0; at < ids.length; at += MAX_IDS_PER_FRAME) {
          stream.send(encodeFrame({ type: 'want', ids: ids.slice(at, at + MAX_IDS_PER_FRAME), haveOnly, cancel }))
        }
      }
      for (const message of outbox.other) stream.send(encodeFrame(message))
    } catch (err) {
      this.close(new PeerUnavailableError('could not write to block stream', { cause: err }))
    }
  }

  #open(): void {
    const signal = AbortSignal.any([this.#openController.signal, AbortSignal.timeout(this.#init.openTimeout)])
    this.#init.open(this.peer, { signal }).then(
      (stream) => {
        if (this.#closedWith !== undefined) {
          stream.abort(this.#closedWith)
          return
        }
        this.#stream = stream
        stream.addEventListener('message', (event: StreamMessageEvent) => this.#onData(event))
        stream.addEventListener(
          'close',
          (event: StreamCloseEvent) => {
            this.#shutdown(new PeerUnavailableError('block stream closed', { cause: event.error }))
          },
          { once: true },
        )
        stream.addEventListener('remoteCloseWrite', () => {
          this.close(new PeerUnavailableError('peer closed its block stream'))
        })
        this.#flush()
      },
      (err: Error) => {
        this.#shutdown(new PeerUnavailableError(`cannot open a block stream: ${err.message}`, { cause: err }))
      },
    )
  }

  #onData(event: StreamMessageEvent): void {
    if (this.#closedWith !== undefined) return
    this.#decoder.push(event.data)
    try {
      for (let body = this.#decoder.next(); body !== undefined; body = this.#decoder.next()) {
        this.#dispatch(decodeMessage(body))
        if (this.#closedWith !== undefined) return
      }
    } catch (err) {
      const fault = err instanceof ProtocolError ? err : new ProtocolError(String(err), { cause: err })
      this.close(fault)
      this.#init.onProtocolFault?.(this.peer, fault)
    }
  }

  #dispatch(message: Message): void {
    switch (message.type) {
      case 'block':
        settle(this.#wants, message.id, { type: 'block', data: message.data })
        settle(this.#haves, message.id, { type: 'have' })
        return
      case 'have':
        for (const id of message.ids) settle(this.#haves, id, { type: 'have' })
        return
      case 'dont-have':
        for (const id of message.ids) {
          settle(this.#wants, id, { type: 'dont-have' })
          settle(this.#haves, id, { type: 'dont-have' })
        }
        return
      case 'stored':
        settle(this.#stores, message.id, message.outcome)
        return
      case 'liked': {
        const queue = this.#likes.get(message.target)
        const waiter = queue?.shift()
        if (queue?.length === 0) this.#likes.delete(message.target)
        waiter?.resolve(message.matches)
        return
      }
      default:
        throw new ProtocolError(`a server sent a ${message.type} frame`)
    }
  }

  #shutdown(err: Error): void {
    if (this.#closedWith !== undefined) return
    this.#closedWith = err
    this.#openController.abort(err)
    this.#outbox = undefined
    for (const table of [this.#wants, this.#haves, this.#stores]) {
      for (const waiters of table.values()) for (const waiter of waiters) waiter.reject(err)
      table.clear()
    }
    for (const queue of this.#likes.values()) for (const waiter of queue) waiter.reject(err)
    this.#likes.clear()
    this.#init.onClose?.(this)
  }
}

function settle<T>(table: Map<BlockId, Set<Waiter<T>>>, id: BlockId, value: T): void {
  const waiters = table.get(id)
  if (waiters === undefined) return
  table.delete(id)
  for (const waiter of waiters) waiter.resolve(value)
}

/** Rejects when `signal` fires, after withdrawing the request. */
export function withSignal<T>(pending: Pending<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return pending.promise
  if (signal.aborted) {
    pending.cancel()
    return Promise.reject(new AbortError(undefined, { cause: signal.reason }))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      pending.cancel()
      reject(new AbortError(undefined, { cause: signal.reason }))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
