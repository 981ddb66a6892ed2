import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LibernetError } from '@libernet/core'
import {
  BlockNotFoundError,
  FrameTooLargeError,
  LimitExceededError,
  PeerUnavailableError,
  ProtocolError,
  QuotaExceededError,
  RequestTimeoutError,
} from '../src/errors.ts'

describe('typed errors', () => {
  it('carry their class name and a stable code, and are LibernetErrors', () => {
    const cases: Array<[LibernetError, string, string]> = [
      [new ProtocolError('x'), 'ProtocolError', 'ERR_PROTOCOL'],
      [new FrameTooLargeError('x'), 'FrameTooLargeError', 'ERR_FRAME_TOO_LARGE'],
      [new LimitExceededError('x'), 'LimitExceededError', 'ERR_LIMIT_EXCEEDED'],
      [new BlockNotFoundError(['a'.repeat(64)]), 'BlockNotFoundError', 'ERR_BLOCK_NOT_FOUND'],
      [new PeerUnavailableError('x'), 'PeerUnavailableError', 'ERR_PEER_UNAVAILABLE'],
      [new RequestTimeoutError('x'), 'RequestTimeoutError', 'ERR_REQUEST_TIMEOUT'],
      [new QuotaExceededError('x'), 'QuotaExceededError', 'ERR_QUOTA_EXCEEDED'],
    ]
    for (const [error, name, code] of cases) {
      assert.ok(error instanceof LibernetError)
      assert.equal(error.name, name)
      assert.equal(error.code, code)
    }
    assert.ok(new FrameTooLargeError('x') instanceof ProtocolError)
  })

  it('BlockNotFoundError lists the ids and names a few of them', () => {
    const ids = ['1', '2', '3', '4', '5'].map((digit) => digit.repeat(64))
    const error = new BlockNotFoundError(ids)
    assert.deepEqual(error.ids, ids)
    assert.match(error.message, /5 in all/)
    assert.match(new BlockNotFoundError([ids[0] as string]).message, /^no peer supplied block 1{64}$/)
  })
})
