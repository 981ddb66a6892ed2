import type { PeerId } from '@libp2p/interface'
import { DEFAULT_LIMITS } from './constants.ts'

/** What a peer did wrong, and how much it counts towards being disconnected. */
export const FAULT_WEIGHTS = {
  /** Sent bytes that do not hash to the id they were sent as. */
  'bad-block': 1,
  /** Sent a frame that breaks the wire format. */
  protocol: 1,
  /** Left a want unanswered past the timeout: maybe slow, maybe hostile. */
  timeout: 0.25,
} as const

export type Fault = keyof typeof FAULT_WEIGHTS

export interface PeerScoresInit {
  /** Fault points at which a peer is shunned; default {@link DEFAULT_LIMITS.faultThreshold}. */
  faultThreshold?: number
  /** How long a shunned peer stays shunned, ms; default {@link DEFAULT_LIMITS.banDuration}. */
  banDuration?: number
  /** Called once each time a peer crosses the threshold (the service disconnects it). */
  onBan?: (peer: PeerId) => void
  now?: () => number
}

interface FaultRecord {
  points: number
  bannedUntil: number
  faults: number
}

/**
 * Fault points per peer. Crossing the threshold
 * bans the peer for a while: clients skip it, servers refuse its streams.
 * Points reset when a ban expires, so a peer gets a fresh start afterwards.
 */
export class PeerScores {
  readonly #records = new Map<string, FaultRecord>()
  readonly #threshold: number
  readonly #banDuration: number
  readonly #onBan: ((peer: PeerId) => void) | undefined
  readonly #now: () => number

  constructor(init: PeerScoresInit = {}) {
    this.#threshold = init.faultThreshold ?? DEFAULT_LIMITS.faultThreshold
    this.#banDuration = init.banDuration ?? DEFAULT_LIMITS.banDuration
    this.#onBan = init.onBan
    this.#now = init.now ?? Date.now
  }

  /** Adds a fault; returns true if this fault got the peer banned. */
  penalize(peer: PeerId, fault: Fault): boolean {
    const key = peer.toString()
    const record = this.#current(key) ?? { points: 0, bannedUntil: 0, faults: 0 }
    this.#records.set(key, record)
    record.faults++
    if (record.bannedUntil > 0) return false
    record.points += FAULT_WEIGHTS[fault]
    if (record.points < this.#threshold) return false
    record.bannedUntil = this.#now() + this.#banDuration
    this.#onBan?.(peer)
    return true
  }

  isBanned(peer: PeerId): boolean {
    return (this.#current(peer.toString())?.bannedUntil ?? 0) > 0
  }

  /** Fault points the peer has gathered since its last ban expired. */
  points(peer: PeerId): number {
    return this.#current(peer.toString())?.points ?? 0
  }

  /** Every fault the peer committed since its last ban expired, including those while banned. */
  faults(peer: PeerId): number {
    return this.#current(peer.toString())?.faults ?? 0
  }

  #current(peer: string): FaultRecord | undefined {
    const record = this.#records.get(peer)
    if (record !== undefined && record.bannedUntil > 0 && record.bannedUntil <= this.#now()) {
      this.#records.delete(peer)
      return undefined
    }
    return record
  }
}
