import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { ByteRateLimiter } from '../src/rate-limiter.ts'
import { FAULT_WEIGHTS, PeerScores } from '../src/scores.ts'
import { randomPeerId } from './fixtures/pairs.ts'

describe('PeerScores', () => {
  it('bans a peer when its faults reach the threshold, once, and tells onBan', async () => {
    const banned: PeerId[] = []
    const scores = new PeerScores({ faultThreshold: 3, onBan: (peer) => banned.push(peer) })
    const peer = await randomPeerId()
    const other = await randomPeerId()
    assert.equal(scores.penalize(peer, 'bad-block'), false)
    assert.equal(scores.penalize(peer, 'protocol'), false)
    assert.equal(scores.isBanned(peer), false)
    assert.equal(scores.penalize(peer, 'bad-block'), true)
    assert.equal(scores.isBanned(peer), true)
    assert.equal(scores.penalize(peer, 'bad-block'), false, 'a banned peer is not banned again')
    assert.deepEqual(banned, [peer])
    assert.equal(scores.faults(peer), 4)
    assert.equal(scores.isBanned(other), false)
  })

  it('weighs timeouts lighter than bad blocks', async () => {
    const scores = new PeerScores({ faultThreshold: 1 })
    const peer = await randomPeerId()
    for (let at = 1; at < 1 / FAULT_WEIGHTS.timeout; at++) assert.equal(scores.penalize(peer, 'timeout'), false)
    assert.equal(scores.penalize(peer, 'timeout'), true)
  })

  it('forgives a peer when its ban expires', async () => {
    let now = 1_000
    const scores = new PeerScores({ faultThreshold: 1, banDuration: 500, now: () => now })
    const peer = await randomPeerId()
    scores.penalize(peer, 'bad-block')
    assert.equal(scores.isBanned(peer), true)
    now += 499
    assert.equal(scores.isBanned(peer), true)
    now += 1
    assert.equal(scores.isBanned(peer), false)
    assert.equal(scores.points(peer), 0)
  })
})

describe('ByteRateLimiter', () => {
  it('holds the average pace, letting one second of burst through at once', async () => {
    const limiter = new ByteRateLimiter(4_000_000)
    const started = performance.now()
    await limiter.take(4_000_000)
    assert.ok(performance.now() - started < 50, 'the first second of budget is immediate')
    await limiter.take(1_000_000)
    await limiter.take(1_000_000)
    const elapsed = performance.now() - started
    assert.ok(elapsed >= 450 && elapsed < 3_000, `2 MB beyond the burst at 4 MB/s took ${elapsed} ms`)
  })

  it('stops waiting when aborted', async () => {
    const limiter = new ByteRateLimiter(1_000)
    await limiter.take(1_000)
    await assert.rejects(limiter.take(10_000, AbortSignal.timeout(20)), { name: 'AbortError' })
  })

  it('never waits when unlimited', async () => {
    const limiter = new ByteRateLimiter(Number.POSITIVE_INFINITY)
    assert.equal(limiter.unlimited, true)
    await limiter.take(Number.MAX_SAFE_INTEGER)
  })
})
